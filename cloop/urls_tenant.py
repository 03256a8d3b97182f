"""URLs of a site's own host `<site_id>.<base domain>`: the customer's admin and REST API."""

from django.contrib import admin
from django.urls import include, path

from widget import views_preview

urlpatterns = [
    # Before the admin's catch-all: the settings page's live preview of the chat window.
    path("admin/widget-preview/", views_preview.preview, name="widget-preview"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("conversations.api_urls")),
]
