"""The embed check: where the widget was last loaded from, and from where it was refused.

The loader's config request (`GET /widget/config/<site_id>/?o=<origin>&p=<path>`) names the
host page; `embed_page` reads it, `embed_origin_allowed` decides, `embed_record` keeps the
newest load per kind ("seen" on an allowed origin, "refused" elsewhere) in the site's
`EmbedCheck` row, and `embed_status` is what the customer's install page shows.

Only a page's origin and path are kept: no query string (it may carry e-mail addresses or
tokens), no visitor id, no IP address. Writes are cheap: at most one per site and kind per
`WRITE_INTERVAL` seconds, gated by an atomic cache `add` so a busy page costs no database write.

Preconditions: `embed_record` and `embed_status` may be called on any schema; they enter the
site's schema themselves (tenant_context) and leave it as they found it.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants.models import Site
from tenants.services import SiteError, normalise_origin
from widget.models import EmbedCheck

log = logging.getLogger(__name__)

WRITE_INTERVAL = 60  # seconds between two writes of the same site and kind
PATH_MAX = 300


@dataclass(frozen=True)
class EmbedPage:
    """The host page as the config request names it; `origin` is None when unknown."""

    origin: str | None
    path: str
    named: bool  # the request named a page at all (loaders older than the embed check do not)


def embed_page(origin_header: str | None, origin_param: str, path_param: str) -> EmbedPage:
    """The host page of a config request.

    The browser's `Origin` header wins over the loader's `o` parameter (a page's script cannot
    forge the header); a same-origin request has no header, hence the parameter. The path loses
    any query string or fragment and is cut to PATH_MAX characters.
    """
    raw = (origin_header or "").strip() or (origin_param or "").strip()
    path = (path_param or "").split("?", 1)[0].split("#", 1)[0].strip()
    path = path[:PATH_MAX] if path.startswith("/") else "/"
    if not raw:
        return EmbedPage(origin=None, path=path, named=False)
    try:
        return EmbedPage(origin=normalise_origin(raw), path=path, named=True)
    except SiteError:  # "null" (file://, sandboxed frames) or garbage: not an origin at all
        return EmbedPage(origin=None, path=path, named=True)


def embed_origin_allowed(page: EmbedPage, embedding_origins: list[str]) -> bool:
    """Whether the chat window would open on this page: an unnamed page (an old loader) is
    given the benefit of the doubt, a named one must be an embedding origin."""
    if not page.named:
        return True
    return page.origin is not None and page.origin in embedding_origins


def embed_record(site: Site, page: EmbedPage, *, allowed: bool, now=None) -> bool:
    """Remember this load on the site's row (at most once per WRITE_INTERVAL per kind).

    Returns True if it wrote. A failing cache or database never fails the config request:
    the embed check is a diagnosis, not a feature visitors depend on.
    """
    if page.origin is None:
        return False
    kind = "seen" if allowed else "refused"
    try:
        if not cache.add(f"cloop:embed:{site.site_id}:{kind}", 1, WRITE_INTERVAL):
            return False
        with tenant_context(site):
            EmbedCheck.objects.update_or_create(
                pk=1,
                defaults={
                    f"{kind}_origin": page.origin,
                    f"{kind}_path": page.path,
                    f"{kind}_at": now or timezone.now(),
                },
            )
        return True
    except Exception:  # noqa: BLE001 - see the docstring
        log.warning("embed check of site %s not recorded", site.site_id, exc_info=True)
        return False


def _ago(at: datetime.datetime, now: datetime.datetime) -> str:
    from django.utils.timesince import timesince

    if now - at < datetime.timedelta(minutes=1):
        return "just now"
    return timesince(at, now).split(", ")[0].replace("\xa0", " ") + " ago"


def embed_status(site: Site, *, now=None) -> dict:
    """What the install page says about the embed check.

    `seen`: the last load on an allowed origin ({origin, path, url, at, ago}) or None;
    `refused`: the last load on an origin that is *still* not allowed, or None (adding the
    origin in the settings makes the warning go away at once).
    """
    now = now or timezone.now()
    with tenant_context(site):
        row = EmbedCheck.objects.filter(pk=1).first()
    allowed = set(site.allowed_origins or [])

    def entry(kind: str) -> dict | None:
        at = getattr(row, f"{kind}_at", None)
        if at is None:
            return None
        origin, path = getattr(row, f"{kind}_origin"), getattr(row, f"{kind}_path")
        return {
            "origin": origin,
            "path": path,
            "url": origin + path,
            "at": at,
            "ago": _ago(at, now),
        }

    refused = entry("refused")
    if refused and refused["origin"] in allowed:
        refused = None
    return {"seen": entry("seen"), "refused": refused}
