"""Public pages served from Cloop's own host (the generated privacy notices, Cloop's policy)."""

from django.urls import path

from conversations import views_public

urlpatterns = [
    # Before the notice's pattern: `cloop` is a reserved site id, never a site's notice.
    path("privacy/cloop/", views_public.cloop_policy_page, name="cloop-privacy-policy"),
    path("privacy/<str:site_id>/", views_public.notice_page, name="privacy-notice"),
]
