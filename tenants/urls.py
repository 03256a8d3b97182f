"""Public URL helpers: where Cloop and each site's admin are reached."""

import os

from django.conf import settings


def public_base_url() -> str:
    """Cloop's own origin, serving widget.js, the chat frame and the WebSocket."""
    if settings.CLOOP_PUBLIC_URL:
        return settings.CLOOP_PUBLIC_URL
    if settings.DEBUG or settings.TESTING:
        port = os.environ.get("PORT", "8000")
        return f"http://{settings.CLOOP_BASE_DOMAIN}:{port}"
    return f"https://{settings.CLOOP_BASE_DOMAIN}"


def site_base_url(site_id: str) -> str:
    """The site's own host on Cloop (its admin and API)."""
    base = public_base_url()
    scheme, rest = base.split("://", 1)
    return f"{scheme}://{site_id}.{rest}"


def admin_url(site_id: str) -> str:
    return site_base_url(site_id) + "/admin/"


def snippet(site_id: str) -> str:
    return f'<script src="{public_base_url()}/widget.js" data-site="{site_id}" async></script>'
