"""Public pages served from Cloop's own host (the generated privacy notice)."""

from django.urls import path

from conversations import views_public

urlpatterns = [
    path("privacy/<str:site_id>/", views_public.notice_page, name="privacy-notice"),
]
