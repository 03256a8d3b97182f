"""One Celery beat at a time: a Redis lock with a time-to-live, renewed by a heartbeat.

Two beats would send every scheduled task twice (two retention purges, two reminder e-mails,
two rounds of crawl checks). Deployments start beat once, but a deploy that overlaps old and
new pods, a second `make run` on the same data, or an operator's `celery beat` by hand starts
it twice. So every beat (cloop/beat.py) first takes this lock; while another beat holds it, it
stands by and tries again every few seconds.

- The holder renews the lock every `ttl / 3` seconds from a thread of its own (the heartbeat),
  independent of how long a tick's fan-out over every site takes.
- A clean stop releases the lock: a standby takes over at its next try.
- A holder that dies (SIGKILL, OOM, a lost machine) stops renewing: the lock expires after
  `ttl` seconds and a standby takes over. Nothing depends on the dead process saying so.
- A holder whose lock expired anyway (its heartbeat could not reach Redis for `ttl` seconds)
  finds it `lost` and must stop sending (cloop/beat.py exits; its supervisor restarts it as
  a standby).

redis-py's `Lock` does the atomic parts (SET NX PX to take, a token-checked Lua script to renew
and release). No Django imports: usable before settings are loaded.
"""

from __future__ import annotations

import logging
import threading

import redis
from redis.exceptions import LockError, RedisError

log = logging.getLogger(__name__)

LOCK_NAME = "cloop:beat-lock"


class BeatLock:
    """The beat lock in the Redis at `redis_url` (every beat of a deployment shares it)."""

    def __init__(self, redis_url: str, *, name: str = LOCK_NAME, ttl: float = 60.0):
        if ttl <= 0:
            raise ValueError("the beat lock's TTL must be positive")
        self.client = redis.Redis.from_url(redis_url)
        # thread_local=False: the heartbeat thread renews with the token the main thread got.
        self.lock = self.client.lock(name, timeout=ttl, thread_local=False)
        self.ttl = ttl
        self.heartbeat_every = ttl / 3
        # How often a standby tries to take the lock: a clean stop hands over this fast.
        self.retry_every = min(5.0, ttl / 3)
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    @property
    def held(self) -> bool:
        return self._heartbeat is not None and not self.lost.is_set()

    def try_acquire(self) -> bool:
        """Take the lock if it is free (never waits); True while this process holds it."""
        if self._heartbeat is not None:
            return not self.lost.is_set()
        try:
            if not self.lock.acquire(blocking=False):
                return False
        except RedisError as exc:
            log.warning("beat lock: Redis unreachable (%s); standing by", type(exc).__name__)
            return False
        self._stop.clear()
        self._heartbeat = threading.Thread(
            target=self._renew, name="beat-lock-heartbeat", daemon=True
        )
        self._heartbeat.start()
        return True

    def _renew(self) -> None:
        while not self._stop.wait(self.heartbeat_every):
            try:
                self.lock.reacquire()
            except LockError:
                # Expired and maybe taken by another beat: this one must stop sending.
                log.error("beat lock: lost (not renewed within %g s)", self.ttl)
                self.lost.set()
                return
            except RedisError as exc:
                # Try again at the next beat; the lock survives until its TTL runs out.
                log.warning("beat lock: renewal failed (%s)", type(exc).__name__)

    def release(self) -> None:
        """Stop the heartbeat and free the lock (if still ours) so a standby takes over."""
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(self.heartbeat_every + 5)
            self._heartbeat = None
            if not self.lost.is_set():
                try:
                    self.lock.release()
                except (LockError, RedisError) as exc:
                    # Already expired or Redis gone: the TTL frees it for the standby.
                    log.warning("beat lock: release failed (%s)", type(exc).__name__)
        self.client.close()
