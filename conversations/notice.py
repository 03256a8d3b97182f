"""The per-site privacy notice page, generated from the seed template.

Preconditions: `notice_context(site)` is called with the connection on any schema; it reads
the site's SiteSettings inside `tenant_context(site)` itself and returns with the schema as it
found it.
"""

from __future__ import annotations

from django_tenants.utils import tenant_context

from conversations.models import SiteSettings

# Placeholders of the seed template and the settings that fill them.
PLACEHOLDERS = {
    "company_name": ("[Customer Name]", "company name (Site settings)"),
    "contact_email": ("[Customer Contact Email]", "data-protection contact e-mail"),
    "published_on": ("[date]", "notice publication date (Site settings)"),
}


# The page's template per Site.language; Finnish is a faithful translation of the English one.
NOTICE_TEMPLATES = {"en": "privacy/notice.html", "fi": "privacy/notice_fi.html"}

# How the placeholders read on the Finnish page.
PLACEHOLDERS_FI = {
    "company_name": "[Asiakkaan nimi]",
    "contact_email": "[Asiakkaan yhteyssähköposti]",
    "published_on": "[päivämäärä]",
}


def notice_template(language: str | None) -> str:
    """The notice template for a site's language (English for anything unknown)."""
    return NOTICE_TEMPLATES.get(language or "en", NOTICE_TEMPLATES["en"])


def notice_storage_key(site_id: str) -> str:
    """The widget's localStorage key for this site (DESIGN.md contract)."""
    return f"cloop_visitor_{site_id}"


def notice_context(site) -> dict:
    """The notice template's context for `site`, with `missing`: the placeholders not filled."""
    with tenant_context(site):
        s = SiteSettings.load()
        ctx = {
            "site_id": site.site_id,
            "site_url": site.url,
            "language": site.language,
            "company_name": s.company_name.strip(),
            "contact_email": (site.contact_email or "").strip(),
            "published_on": s.notice_published_on,
            "storage_key": notice_storage_key(site.site_id),
            "conversation_retention_days": s.conversation_retention_days,
            "lead_retention_days": s.lead_retention_days,
            "cloop_policy_url": "",
        }
    ctx["missing"] = [
        {"field": key, "placeholder": ph, "label": label}
        for key, (ph, label) in PLACEHOLDERS.items()
        if not ctx[key]
    ]
    return ctx


def notice_missing(site) -> list[dict]:
    """Placeholders the customer has not filled in yet (the admin warns about these)."""
    return notice_context(site)["missing"]


def notice_url(site_id: str) -> str:
    """The public address of the site's generated notice (views_public, on Cloop's host)."""
    from tenants.urls import public_base_url

    return f"{public_base_url()}/privacy/{site_id}/"
