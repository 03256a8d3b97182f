from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class TeamConfig(AppConfig):
    name = "team"
    verbose_name = "Team"
    default = True
    default_auto_field = "django.db.models.BigAutoField"


class CloopAdminConfig(admin_apps.AdminConfig):
    """Django's admin with Cloop's admin site (two-step sign-in, team pages)."""

    default = False
    default_site = "team.admin_site.CloopAdminSite"
