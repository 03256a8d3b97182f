"""URLs of a site's own host `<site_id>.<base domain>`: the customer's admin and REST API."""

from django.contrib import admin
from django.urls import include, path

from conversations import views_public

urlpatterns = [
    path("", include("team.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("conversations.api_urls")),
    # A data subject's one-time link to their export (no login; conversations/privacy_delivery.py).
    path(
        "data-export/<str:token>/",
        views_public.subject_export_link,
        name="subject-export-link",
    ),
]
