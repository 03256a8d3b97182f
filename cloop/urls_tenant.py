"""URLs of a site's own host `<site_id>.<base domain>`: the customer's admin and REST API."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("conversations.api_urls")),
]
