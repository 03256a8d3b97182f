"""The per-site privacy notice page, generated from the seed template and filled from what
Cloop knows.

Each fact has a source: the customer's own setting first, else what Cloop already knows —
the company from the site's name, the contact e-mail from the site's first admin user, the
date from the notice's first publication (the first time the page was served). Visitors never
see a placeholder or the customer guide: a fact still missing reads as a neutral sentence
("contact us using the contact details on our website"), and the customer sees what is missing
and where each fact comes from in the admin (`notice_facts`).

Preconditions: `notice_context(site)`, `notice_facts(site)` and `notice_publish(site)` are
called with the connection on any schema; they enter `tenant_context(site)` themselves and
return with the schema as they found it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import tenant_context

from conversations.models import SiteSettings
from tenants.urls import public_base_url

# The seed template's placeholders (still the API's names for missing facts) and their labels.
PLACEHOLDERS = {
    "company_name": ("[Customer Name]", "company name"),
    "contact_email": ("[Customer Contact Email]", "data-protection contact e-mail"),
    "published_on": ("[date]", "publication date"),
}

# One template for every language: its English sentences are the msgids of the translations
# in locale/<language>/LC_MESSAGES/django.po. The languages the notice is translated into:
NOTICE_TEMPLATE = "privacy/notice.html"
NOTICE_LANGUAGES = ("en", "fi")

# How the placeholders read in the Finnish seed (kept for the API and the admin's wording).
PLACEHOLDERS_FI = {
    "company_name": "[Asiakkaan nimi]",
    "contact_email": "[Asiakkaan yhteyssähköposti]",
    "published_on": "[päivämäärä]",
}

# Where a fact came from, as the admin says it.
SOURCES = {
    "settings": "set in Site settings",
    "site_name": "the site's name; set a legal name in Site settings",
    "admin_user": "your admin user's e-mail, until you set a data-protection contact",
    "first_published": "the day the notice was first published",
    "missing": "missing",
}


def notice_language(language: str | None) -> str:
    """The language to render the notice in for a site's language: English for any language
    the notice is not translated into (so the page's `lang` says what it is written in)."""
    return language if language in NOTICE_LANGUAGES else "en"


def notice_storage_key(site_id: str) -> str:
    """The widget's localStorage key for this site, the one widget.js uses (docs/widget.md;
    the notice names it, so it is a promise to visitors)."""
    return f"cloop_visitor_{site_id}"


def _admin_email() -> str:
    """The e-mail of the site's first active admin user (superusers first). Site schema."""
    users = get_user_model().objects.filter(is_active=True, is_staff=True).exclude(email="")
    first = users.order_by("-is_superuser", "date_joined", "pk").values_list("email", flat=True)
    return (first.first() or "").strip()


def notice_facts(site) -> dict:
    """{fact: {"value", "source", "explained", "label", "placeholder"}} for the notice's three
    facts. `source` is a key of SOURCES; a fact whose source is "missing" is shown to visitors
    as a neutral sentence and to the customer as something to fill in."""
    return _facts_and_settings(site)[0]


def _facts_and_settings(site) -> tuple[dict, SiteSettings]:
    with tenant_context(site):
        s = SiteSettings.load()
        admin_email = "" if (site.contact_email or "").strip() else _admin_email()
    company = (s.company_name or "").strip()
    contact = (site.contact_email or "").strip()
    values = {
        "company_name": (company, "settings")
        if company
        else ((site.name or "").strip(), "site_name"),
        "contact_email": (contact, "settings") if contact else (admin_email, "admin_user"),
        "published_on": (s.notice_published_on, "settings")
        if s.notice_published_on
        else (s.notice_first_published_on, "first_published"),
    }
    facts = {}
    for key, (value, source) in values.items():
        placeholder, label = PLACEHOLDERS[key]
        facts[key] = {
            "value": value,
            "source": source if value else "missing",
            "label": label,
            "placeholder": placeholder,
            "explained": SOURCES[source if value else "missing"],
        }
    return facts, s


def notice_context(site) -> dict:
    """The notice template's context for `site`; `missing` lists the facts Cloop lacks."""
    facts, s = _facts_and_settings(site)
    ctx = {
        "site_id": site.site_id,
        "site_url": site.url,
        "language": site.language,
        "storage_key": notice_storage_key(site.site_id),
        "conversation_retention_days": s.conversation_retention_days,
        "lead_retention_days": s.lead_retention_days,
        "cloop_policy_url": cloop_policy_url(),
        "facts": facts,
    }
    for key, fact in facts.items():
        ctx[key] = fact["value"]
    # The date fills itself (first publication), so only the others are the customer's to do.
    ctx["missing"] = [
        {"field": key, "placeholder": f["placeholder"], "label": f["label"]}
        for key, f in facts.items()
        if f["source"] == "missing" and key != "published_on"
    ]
    return ctx


def notice_publish(site, today=None) -> None:
    """Record the notice's first publication (today) unless it has one: called when the page
    is served, so "first publication" is the day a visitor could first read it. One UPDATE,
    a no-op once the date is set."""
    with tenant_context(site):
        SiteSettings.load()  # the row exists before the conditional update
        SiteSettings.objects.filter(pk=1, notice_first_published_on__isnull=True).update(
            notice_first_published_on=today or timezone.localdate()
        )


def notice_missing(site) -> list[dict]:
    """Facts Cloop does not know yet (the admin lists these; visitors read neutral wording)."""
    return notice_context(site)["missing"]


def notice_url(site_id: str) -> str:
    """The public address of the site's generated notice (views_public, on Cloop's host)."""
    return f"{public_base_url()}/privacy/{site_id}/"


def cloop_policy_url() -> str:
    """Cloop's own privacy policy, served by Cloop (`cloop` is a reserved site id, so this
    address is never a site's notice)."""
    return f"{public_base_url()}/privacy/cloop/"


def cloop_policy_context() -> dict:
    return {"contact": settings.CLOOP_PRIVACY_CONTACT}
