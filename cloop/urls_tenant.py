"""URLs of a site's own host `<site_id>.<base domain>`: the customer's admin and REST API,
and the public pages of the site's custom answers (what the chat cites for them)."""

from django.contrib import admin
from django.urls import include, path

from conversations import views_public
from widget import views as widget_views
from widget import views_preview

urlpatterns = [
    # Before the admin's catch-all: the settings page's live preview of the chat window.
    path("admin/widget-preview/", views_preview.preview, name="widget-preview"),
    path("", include("team.urls")),
    path("robots.txt", widget_views.robots_txt, {"kind": "site"}),
    path("favicon.ico", widget_views.favicon),
    path("admin/", admin.site.urls),
    path("api/v1/", include("conversations.api.urls")),
    path("answers/<int:pk>/", views_public.custom_answer_page, name="custom-answer"),
    # A data subject's one-time link to their export (no login; conversations/privacy/delivery.py).
    path(
        "data-export/<str:token>/",
        views_public.subject_export_link,
        name="subject-export-link",
    ),
]
