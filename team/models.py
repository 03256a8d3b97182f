"""Per-user preferences of a site's team. Lives in each site's schema (TENANT_APPS), beside the
site's own users; the public schema has the table too (staff users), unused there.
"""

from django.conf import settings
from django.db import models


class Preferences(models.Model):
    """What one user of the site wants to be told by e-mail. Opt-in: both default to off."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cloop_preferences"
    )
    notify_leads = models.BooleanField(
        default=False,
        verbose_name="E-mail me when a visitor leaves an e-mail address",
        help_text="A short e-mail with a link to the conversation in this admin; it never "
        "contains the conversation or the visitor's messages.",
    )
    weekly_digest = models.BooleanField(
        default=False,
        verbose_name="Send me a weekly digest",
        help_text="Every week: conversations, questions the chat could not answer and leads "
        "of the past seven days, with a link to the overview.",
    )

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self):
        return f"preferences of {self.user}"
