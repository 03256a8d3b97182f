"""Password links of the admin (reset by e-mail, and the invitation's "choose a password"):
Django's auth views under /admin/, named as the admin's login page expects (it shows its
"Forgotten your password?" link once `admin_password_reset` exists). Included on a site's
host (its own users) and on Cloop's host (staff)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from team.views import PasswordSetView

urlpatterns = [
    path(
        "admin/password_reset/",
        auth_views.PasswordResetView.as_view(
            email_template_name="team/password_reset_email.txt",
            subject_template_name="team/password_reset_subject.txt",
        ),
        name="admin_password_reset",
    ),
    path(
        "admin/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "admin/reset/<uidb64>/<token>/",
        PasswordSetView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "admin/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
