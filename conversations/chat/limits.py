"""Abuse limits for the chat: per connection (in memory), per visitor and per site (Redis).

No client address is ever used as a key: per-visitor limits key on the random visitor id and
the site's schema, in Redis keys that expire with their window (a minute; two days for the
daily quota counter). If Redis is unreachable the Redis-backed limits fail open (the per
connection limit still holds) so a Redis restart does not take every chat down.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
import uuid
import weakref
from collections import deque

import redis.asyncio as aioredis
from django.conf import settings
from django.utils.crypto import salted_hmac

log = logging.getLogger(__name__)

MESSAGES_PER_MINUTE = 20
WINDOW_SECONDS = 60
# Summary e-mails go to an address the visitor types: whoever asks, one address receives at
# most this many per site in a sliding day, and a site sends at most
# CLOOP_SUMMARY_SITE_HOURLY per clock hour.
SUMMARIES_PER_ADDRESS = 3
SUMMARY_ADDRESS_SECONDS = 24 * 3600


class LimitUnavailable(RuntimeError):
    """The limit store (Redis) could not be reached and the limit must not fail open."""


# The clocks of every limit here, read at call time: tests replace them (monkeypatch) to make
# a window's verdict independent of how fast the machine runs. `clock` is wall time (fixed
# windows shared through Redis by every process); `monotonic` is per-process (SlidingWindow).
clock = time.time
monotonic = time.monotonic

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
        now = monotonic() if now is None else now
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
    now = clock()
    bucket = int(now // window)
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
        return int(window - now % window) + 1
    return 0


async def daily_quota_hit(schema: str, quota: int) -> bool:
    """Count one visitor message against the site's daily quota; True if it is exceeded."""
    if quota <= 0:
        return True
    day = datetime.datetime.fromtimestamp(clock(), tz=datetime.UTC)
    key = f"cloop:quota:{schema}:{day:%Y%m%d}"
    try:
        pipe = _redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, 2 * 24 * 3600)
        count, _ = await pipe.execute()
    except Exception as exc:  # noqa: BLE001 - fail open, see the module docstring
        log.warning("quota store unavailable: %s", type(exc).__name__)
        return False
    return count > quota


def _address_digest(email: str) -> str:
    """Keyed HMAC of an address (SECRET_KEY): Redis holds this, never the address."""
    return salted_hmac(
        "cloop.limits.summary_to", email.strip().lower(), algorithm="sha256"
    ).hexdigest()


# KEYS: the address's sliding log (sorted set of send times), the site's hourly counter.
# ARGV: now, address window, address limit, site limit, site window, a unique member.
# Returns {0, 0} (counted), {1, oldest send time} (address full), {2, 0} (site full).
_SUMMARY_HIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return {1, redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]}
end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[4]) then
  return {2, 0}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[6])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return {0, 0}
"""


async def summary_rate_hit(schema: str, email: str) -> int:
    """Count one summary e-mail to `email` from this site; return seconds to wait (0 = allowed).

    At most SUMMARIES_PER_ADDRESS per address per site in any SUMMARY_ADDRESS_SECONDS (a
    sliding log), whatever visitor or connection asks, and at most CLOOP_SUMMARY_SITE_HOURLY
    per site per clock hour; one atomic script checks both and counts only an allowed send.
    Redis keys hold a keyed HMAC of the address, never the address. Fails closed: raises
    LimitUnavailable when Redis is unreachable (the e-mail could not be queued either).
    """
    now = clock()
    site_limit = int(settings.CLOOP_SUMMARY_SITE_HOURLY)
    address_key = f"cloop:rl:summary:to:{schema}:{_address_digest(email)}"
    site_key = f"cloop:rl:summary:site:{schema}:{int(now // 3600)}"
    try:
        verdict, oldest = await _redis().eval(
            _SUMMARY_HIT,
            2,
            address_key,
            site_key,
            repr(now),
            SUMMARY_ADDRESS_SECONDS,
            SUMMARIES_PER_ADDRESS,
            site_limit,
            3600 + 60,
            uuid.uuid4().hex,
        )
    except Exception as exc:
        log.warning("summary limit store unavailable: %s", type(exc).__name__)
        raise LimitUnavailable from exc
    if verdict == 1:
        return max(1, int(float(oldest) + SUMMARY_ADDRESS_SECONDS - now) + 1)
    if verdict == 2:
        return int(3600 - now % 3600) + 1
    return 0
