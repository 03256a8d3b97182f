"""URLs of a site's own host `<site_id>.<base domain>`: the customer's admin and REST API."""

from django.contrib import admin
from django.urls import include, path

from widget import views as widget_views

urlpatterns = [
    path("robots.txt", widget_views.robots_txt, {"kind": "site"}),
    path("favicon.ico", widget_views.favicon),
    path("admin/", admin.site.urls),
    path("api/v1/", include("conversations.api_urls")),
]
