"""URLs of Cloop's own host (the base domain): staff admin, widget assets, notice pages, demo."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("team.urls")),
    path("admin/", admin.site.urls),
    path("", include("widget.urls_public")),
    path("", include("conversations.urls_public")),
]
