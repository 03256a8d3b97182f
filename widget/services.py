"""What the loader and the chat window need to know about a site, and the frame's CSP.

Preconditions: called from sync code on Cloop's public host; the functions that read a site's
own settings enter that site's schema themselves (tenant_context) and leave it afterwards.
"""

from __future__ import annotations

from django_tenants.utils import tenant_context

from conversations.models import SiteSettings
from conversations.privacy.notice import notice_url
from tenants import urls
from tenants.models import Site
from tenants.services import SiteError, normalise_origin, site_link_origins
from widget.colors import link_color, readable_text_color
from widget.models import WidgetSettings
from widget.strings import strings_for


def site_for_widget(site_id: str) -> Site | None:
    """The ready Site with this id, or None. Runs on the public schema."""
    return Site.objects.filter(site_id=site_id, ready=True).first()


def cloop_origin() -> str:
    return normalise_origin(urls.public_base_url())


def websocket_base() -> str:
    """`ws(s)://<cloop host>`: the only place the chat window may connect to."""
    origin = cloop_origin()
    return ("wss://" if origin.startswith("https://") else "ws://") + origin.split("://", 1)[1]


def embedding_origins(site: Site) -> list[str]:
    """Origins allowed to frame the chat window: the site's allowed origins and Cloop itself."""
    out = list(dict.fromkeys([*site.allowed_origins, cloop_origin()]))
    return [o for o in out if o]


def link_origins(site: Site) -> list[str]:
    """Origins the chat window may link to (tenants.services.site_link_origins)."""
    return site_link_origins(site)


def parent_origin_check(site: Site, origin: str) -> str | None:
    """The normalised host-page origin if it may embed this site's window, else None."""
    try:
        normalised = normalise_origin(origin)
    except SiteError:
        return None
    return normalised if normalised in embedding_origins(site) else None


def privacy_url_for(site: Site, widget_settings: WidgetSettings) -> str:
    """The notice linked by the AI disclosure. Run inside the site's schema."""
    if widget_settings.privacy_url:
        return widget_settings.privacy_url
    own = SiteSettings.objects.values_list("privacy_notice_url", flat=True).first()
    if own:
        return own
    return notice_url(site.site_id)


def widget_settings_as_dict(site: Site) -> dict:
    """The public part of the site's widget settings (no secrets: it is sent to browsers)."""
    with tenant_context(site):
        ws = WidgetSettings.load()
        privacy = privacy_url_for(site, ws)
    text = strings_for(site.language)
    return {
        # "Chat with Acme Oy" rather than "Chat with Assistant" when no name is set.
        "bot_name": ws.bot_name or site.name.strip() or text["default_bot"],
        "greeting": ws.greeting or text["greeting"],
        "starter_questions": [q for q in ws.starter_questions if q.strip()][:6],
        "primary_color": ws.primary_color,
        "text_color": readable_text_color(ws.primary_color),
        "link_color": link_color(ws.primary_color),
        "logo_url": logo_url(site.site_id, ws.logo_hash),
        "position": ws.position,
        "privacy_url": privacy,
        "consent_text": ws.consent_text or text["consent"],
        "language": site.language,
    }


def logo_url(site_id: str, digest: str) -> str:
    """The logo's URL on Cloop's origin (the chat window's CSP allows images from there only),
    or "" without a logo. The digest in the path changes with the image."""
    return f"{urls.public_base_url()}/widget/logo/{site_id}/{digest}.png" if digest else ""


def logo_png(site: Site, digest: str) -> bytes | None:
    """The site's logo PNG if `digest` is its current hash, else None. Enters the schema."""
    with tenant_context(site):
        row = WidgetSettings.objects.filter(logo_hash=digest).exclude(logo_hash="").first()
    return bytes(row.logo) if row is not None else None


def launcher_config(site: Site) -> dict:
    """What the loader needs before the window exists: colours, side and the button's label."""
    s = widget_settings_as_dict(site)
    return {
        "color": s["primary_color"],
        "text": s["text_color"],
        "position": s["position"],
        "label": strings_for(site.language)["launcher"],
        "close": strings_for(site.language)["close"],
        "title": s["bot_name"],
    }


def frame_config(site: Site, parent_origin: str) -> dict:
    """Everything the chat window's script reads from its page (rendered as JSON data)."""
    s = widget_settings_as_dict(site)
    # The admin preview's texts stay out of the visitor's page (widget.views_preview adds them).
    text = {k: v for k, v in strings_for(site.language).items() if not k.startswith("preview_")}
    for key in ("title", "typing"):
        text[key] = text[key].format(bot=s["bot_name"])
    return {
        "site_id": site.site_id,
        "ws_url": f"{websocket_base()}/ws/chat/{site.site_id}/",
        "parent_origin": parent_origin,
        "link_origins": link_origins(site),
        "settings": s,
        "strings": text,
    }


def frame_csp(site: Site) -> str:
    """The chat window's Content-Security-Policy: only Cloop, framed only by allowed origins."""
    origin = cloop_origin()
    ancestors = " ".join(embedding_origins(site))
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            f"connect-src {websocket_base()} {origin}",
            f"frame-ancestors {ancestors}",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
