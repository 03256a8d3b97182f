"""Public URL helpers: where Cloop and each site's admin are reached."""

from django.conf import settings


def public_base_url() -> str:
    """Cloop's own origin, serving widget.js, the chat frame and the WebSocket.

    The one source is `settings.CLOOP_PUBLIC_URL`, resolved at start-up by
    cloop/public_url.py (environment, PORT, or the URL `make run` serves on)."""
    return settings.CLOOP_PUBLIC_URL.rstrip("/")


def site_base_url(site_id: str) -> str:
    """The site's own host on Cloop (its admin and API)."""
    base = public_base_url()
    scheme, rest = base.split("://", 1)
    return f"{scheme}://{site_id}.{rest}"


def admin_url(site_id: str) -> str:
    return site_base_url(site_id) + "/admin/"


def install_url(site_id: str) -> str:
    """The customer's install page (snippet, allowed origins, embed check) in their admin."""
    return admin_url(site_id) + "widget/embedcheck/"


def snippet(site_id: str) -> str:
    """The one `<script>` tag a customer pastes into their pages (create_site, the `snippet`
    command, list_sites --json and the admin's install page all print this one)."""
    return f'<script src="{public_base_url()}/widget.js" data-site="{site_id}" async></script>'
