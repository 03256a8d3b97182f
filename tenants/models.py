"""The tenant: one customer website. Lives in the public schema."""

import re

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

SITE_ID_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$")
# Host labels Cloop keeps for itself.
RESERVED_SITE_IDS = frozenset(
    {"www", "api", "admin", "static", "media", "public", "cloop", "app", "ws", "mail", "base"}
)

site_id_validator = RegexValidator(
    SITE_ID_RE,
    "A site id is 3-40 characters: lowercase letters, digits and hyphens, "
    "not starting or ending with a hyphen.",
)


def schema_name_for(site_id: str) -> str:
    """Schema names may not contain hyphens; site ids may not contain underscores."""
    return "s_" + site_id.replace("-", "_")


class Site(TenantMixin):
    site_id = models.CharField(
        max_length=40,
        unique=True,
        validators=[site_id_validator],
        editable=False,
        help_text="Public, immutable id used in the snippet, the WebSocket path and localStorage.",
    )
    name = models.CharField(max_length=200)
    url = models.URLField("public website URL", max_length=500)
    allowed_origins = ArrayField(
        models.CharField(max_length=300),
        default=list,
        blank=True,
        help_text="Origins (scheme://host[:port]) allowed to embed the widget.",
    )
    contact_email = models.EmailField("data-protection contact e-mail", blank=True)
    language = models.CharField(max_length=8, default="en", choices=settings.LANGUAGES)
    ready = models.BooleanField(
        default=False, help_text="Set once the schema exists and is migrated."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Schema is created explicitly by site_create (so errors surface there, not in save()).
    auto_create_schema = False
    auto_drop_schema = True

    class Meta:
        ordering = ["site_id"]

    def __str__(self):
        return f"{self.site_id} ({self.name})"

    @property
    def host(self) -> str:
        return f"{self.site_id}.{settings.CLOOP_BASE_DOMAIN}"


class Domain(DomainMixin):
    class Meta:
        ordering = ["domain"]
