"""The customer's install page (`/admin/widget/embedcheck/` on the site's host): the snippet
with a copy button, the allowed origins, the embed check and what the privacy notice lacks.

Preconditions: admin requests on the site's host (the connection is in the site's schema).
The page only reads; the embed check is written by the loader's config request.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import connection
from django.template.response import TemplateResponse

from conversations.privacy.notice import notice_facts, notice_url
from tenants import urls
from tenants.scoping import SiteRecordAdmin
from widget import admin_settings  # noqa: F401 - registers the "Site settings" page
from widget.embed import embed_status
from widget.models import EmbedCheck


def install_context(site) -> dict:
    """Everything the install page shows about `site` (any schema)."""
    return {
        "snippet": urls.snippet(site.site_id),
        "allowed_origins": list(site.allowed_origins or []),
        "embed": embed_status(site),
        "facts": notice_facts(site),
        "notice_url": notice_url(site.site_id),
        "site": site,
    }


@admin.register(EmbedCheck)
class InstallAdmin(SiteRecordAdmin):
    """One page instead of a list: there is one embed-check row per site, never edited."""

    def changelist_view(self, request, extra_context=None):
        context = {
            **self.admin_site.each_context(request),
            **install_context(connection.tenant),
            "title": "Install the widget",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/widget/install.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return self.changelist_view(request)
