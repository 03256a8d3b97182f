"""Admin index alerts: overdue data requests and privacy-notice facts Cloop lacks."""

from django import template
from django.db import connection
from django.template.loader import render_to_string
from django_tenants.utils import get_public_schema_name

from conversations.privacy import requests
from conversations.privacy.notice import notice_missing, notice_url

register = template.Library()


@register.simple_tag(takes_context=True)
def cloop_admin_alerts(context):
    """Empty in the staff (public) admin; in a site's admin, what needs the customer's eye."""
    if connection.schema_name == get_public_schema_name():
        return ""

    site = connection.tenant
    return render_to_string(
        "admin/conversations/alerts.html",
        {
            "site": site,
            "overdue": list(requests.requests_overdue()[:20]),
            "due_soon": requests.requests_due_soon().count(),
            "missing": notice_missing(site),
            "notice_url": notice_url(site.site_id),
        },
        request=context.get("request"),
    )


@register.filter
def http_url(value) -> str:
    """The URL if it is http(s), else "": stored sources never become javascript: links."""
    text = str(value or "")
    return text if text.lower().startswith(("http://", "https://")) else ""


@register.simple_tag
def cloop_admin_brand() -> str:
    """'Cloop — <site name>' in a site's admin, 'Cloop staff' in the platform's own."""
    if connection.schema_name == get_public_schema_name():
        return "Cloop staff"
    site = getattr(connection, "tenant", None)
    return f"Cloop — {getattr(site, 'name', '') or getattr(site, 'site_id', '')}"


@register.simple_tag
def cloop_admin_site_url(default: str = "/") -> str:
    """Where "View site" leads: the customer's own website in a site's admin (the site's host
    serves only the admin and the API, so Django's default "/" there is a 404); Cloop's
    front page in the staff admin."""
    if connection.schema_name == get_public_schema_name():
        return default
    site = getattr(connection, "tenant", None)
    return http_url(getattr(site, "url", "")) or default


@register.filter
def when(value) -> str:
    """An ISO date-time from an export as people read it: "2026-11-29 01:42 UTC"."""
    import datetime

    from django.utils.dateparse import parse_datetime

    at = parse_datetime(value) if isinstance(value, str) else value
    if not isinstance(at, datetime.datetime):
        return str(value or "—")
    if at.tzinfo is not None:
        return at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return at.strftime("%Y-%m-%d %H:%M")
