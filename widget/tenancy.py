"""Which site a WebSocket belongs to, and whether its Origin may talk to that site.

The tenant middleware does not run for WebSockets, so the consumer resolves the Site from the
path's site_id itself, in the public schema, and checks the handshake's Origin against:
Cloop's own origin (where the chat frame lives) and the site's allowed origins. Exact matches
of normalised origins only: no suffix or prefix matching, so look-alikes such as
`https://acme.example.evil.com` and scheme or port changes are rejected, as are a missing
Origin header and `null`.
"""

from __future__ import annotations

import time

from asgiref.sync import sync_to_async
from cachetools import TTLCache
from django.db import close_old_connections, connection, reset_queries
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.models import Site
from tenants.services import SiteError, normalise_origin
from tenants.urls import public_base_url

SITE_CACHE_SECONDS = 10.0
# Keys come from the WebSocket path, i.e. from anyone: the cache is bounded (least recently
# used entries go first) so random site ids cannot grow the process. A thousand entries
# cover every live site of a process many times over.
SITE_CACHE_SIZE = 1024
_MISSING = object()
# site_id -> Site | None (misses are cached too). Per process, used only on the event loop's
# thread (cachetools is not thread-safe); short TTL so a deleted site stops quickly.
_site_cache: TTLCache = TTLCache(SITE_CACHE_SIZE, SITE_CACHE_SECONDS, timer=time.monotonic)


def _site_load(site_id: str) -> Site | None:
    """The ready Site for `site_id`, read in the public schema (sync; any thread)."""
    close_old_connections()
    try:
        with schema_context(get_public_schema_name()):
            return Site.objects.filter(site_id=site_id, ready=True).first()
    finally:
        # Runs in a long-lived executor thread: back to the connection pool, and no DEBUG
        # query log left to grow (see conversations/chat/threads.py).
        connection.close()
        reset_queries()


async def site_resolve(site_id: str) -> Site | None:
    """The Site for a WebSocket path, cached for SITE_CACHE_SECONDS (misses too); at most
    SITE_CACHE_SIZE ids are held. Call on the event loop. A database error propagates and
    is not cached."""
    hit = _site_cache.get(site_id, _MISSING)
    if hit is not _MISSING:
        return hit
    # Not on the shared DB thread: a public-schema lookup must not wait behind chats' writes.
    site = await sync_to_async(_site_load, thread_sensitive=False)(site_id)
    _site_cache[site_id] = site
    return site


def site_cache_clear() -> None:
    _site_cache.clear()


def _normalised(origin: str) -> str | None:
    try:
        return normalise_origin(origin)
    except (SiteError, ValueError):
        return None


def origin_allowed(site: Site, origin: str | None) -> bool:
    """True only for Cloop's own origin or one of the site's allowed origins, exactly."""
    if not origin or origin.strip().lower() == "null":
        return False
    given = _normalised(origin)
    if given is None:
        return False
    allowed = {_normalised(public_base_url())}
    allowed |= {_normalised(o) for o in site.allowed_origins or []}
    allowed.discard(None)
    return given in allowed


def scope_origin(scope) -> str | None:
    """The handshake's Origin header (None if absent or sent more than once)."""
    values = [v for k, v in scope.get("headers", []) if k.lower() == b"origin"]
    if len(values) != 1:
        return None
    try:
        return values[0].decode("ascii")
    except UnicodeDecodeError:
        return None
