"""widget.js, the chat frame and the demo site, served from Cloop's own host."""

from django.urls import path

from widget import views

app_name = "widget"

urlpatterns = [
    path("widget.js", views.widget_js, name="loader"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("widget/config/<slug:site_id>/", views.launcher_config, name="launcher-config"),
    path("widget/frame/<slug:site_id>/", views.frame, name="frame"),
    path("widget/logo/<slug:site_id>/<slug:digest>.png", views.logo, name="logo"),
    path("demo/", views.demo_page, name="demo-home"),
    path("demo/<slug:page>/", views.demo_page, name="demo-page"),
]
