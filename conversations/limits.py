"""Abuse limits for the chat: per connection (in memory), per visitor and per site (Redis).

No client address is ever used as a key: per-visitor limits key on the random visitor id and
the site's schema, in Redis keys that expire with their window (a minute; two days for the
daily quota counter). If Redis is unreachable the Redis-backed limits fail open (the per
connection limit still holds) so a Redis restart does not take every chat down.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import deque

import redis.asyncio as aioredis
from django.conf import settings
from django.utils import timezone

log = logging.getLogger(__name__)

MESSAGES_PER_MINUTE = 20
WINDOW_SECONDS = 60

# One client per event loop: a redis.asyncio connection belongs to the loop that opened it.
_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _redis() -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = aioredis.from_url(settings.REDIS_URL, socket_timeout=2)
        _clients[loop] = client
    return client


class SlidingWindow:
    """At most `limit` events per `window` seconds, in memory (one WebSocket connection)."""

    def __init__(self, limit: int = MESSAGES_PER_MINUTE, window: float = WINDOW_SECONDS):
        self.limit = limit
        self.window = window
        self.events: deque[float] = deque()

    def hit(self, now: float | None = None) -> float:
        """Record an event; return 0 if allowed, else the seconds until one would be."""
        now = time.monotonic() if now is None else now
        while self.events and now - self.events[0] >= self.window:
            self.events.popleft()
        if len(self.events) >= self.limit:
            return self.window - (now - self.events[0])
        self.events.append(now)
        return 0.0


async def visitor_rate_hit(
    schema: str,
    visitor_id: str,
    limit: int = MESSAGES_PER_MINUTE,
    *,
    kind: str = "msg",
    window: int = WINDOW_SECONDS,
) -> int:
    """Count a `kind` event for this visitor on this site; return seconds to wait (0 = allowed).

    A fixed window of `window` seconds across all the visitor's connections (tabs) to the site.
    """
    bucket = int(time.time() // window)
    key = f"cloop:rl:visitor:{kind}:{schema}:{visitor_id}:{bucket}"
    try:
        pipe = _redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, window + 5)
        count, _ = await pipe.execute()
    except Exception as exc:  # noqa: BLE001 - fail open, see the module docstring
        log.warning("rate limit store unavailable: %s", type(exc).__name__)
        return 0
    if count > limit:
        return int(window - time.time() % window) + 1
    return 0


async def daily_quota_hit(schema: str, quota: int) -> bool:
    """Count one visitor message against the site's daily quota; True if it is exceeded."""
    if quota <= 0:
        return True
    key = f"cloop:quota:{schema}:{timezone.now():%Y%m%d}"
    try:
        pipe = _redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, 2 * 24 * 3600)
        count, _ = await pipe.execute()
    except Exception as exc:  # noqa: BLE001 - fail open, see the module docstring
        log.warning("quota store unavailable: %s", type(exc).__name__)
        return False
    return count > quota
