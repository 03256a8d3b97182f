"""Celery beat's scheduler: tenant-aware (every entry runs in every site's schema) and single.

`celery -A cloop beat --scheduler cloop.beat:LockedScheduler` (`make run`, the README's
production commands, deploy/). Each beat holds the Redis beat lock (cloop/beat_lock.py) before
it sends anything; a beat that finds it taken stands by, ticking only to try the lock again,
and takes over when the holder stops (at once) or dies (after CLOOP_BEAT_LOCK_TTL seconds).

The schedule file (CELERY_BEAT_SCHEDULE_FILENAME, a shelve of last-run times) is opened only
once the lock is held: two beats started on one host share CLOOP_DATA_DIR, and only the holder
may write it. A holder that loses the lock exits (beat's loop treats SystemExit as a stop), and
its supervisor (`make run`, compose's `restart`, Kubernetes) starts it again as a standby.

Imported by Celery beat after Django is set up (tenant_schemas_celery's scheduler imports
models).
"""

from __future__ import annotations

import logging

from django.conf import settings
from tenant_schemas_celery.scheduler import TenantAwarePersistentScheduler

from cloop.beat_lock import BeatLock

log = logging.getLogger(__name__)


class LockedScheduler(TenantAwarePersistentScheduler):
    """TenantAwarePersistentScheduler that runs schedules only while holding the beat lock.

    `beat_lock` (keyword) replaces the lock built from settings (REDIS_URL,
    CLOOP_BEAT_LOCK_TTL): tests give each scheduler a lock name of their own.
    """

    def __init__(self, *args, beat_lock: BeatLock | None = None, **kwargs):
        self.beat_lock = beat_lock or BeatLock(settings.REDIS_URL, ttl=settings.CLOOP_BEAT_LOCK_TTL)
        self.standing_by = False
        self._schedule_open = False
        super().__init__(*args, **kwargs)

    def setup_schedule(self) -> None:
        # Deferred to the first tick that holds the lock (see the module docstring).
        pass

    def tick(self, *args, **kwargs) -> float:
        """Run what is due if this beat holds the lock; else try to take it.

        Returns the seconds to wait before the next tick (Celery's contract).
        """
        if self.beat_lock.lost.is_set():
            raise SystemExit("beat: lost the beat lock; stopping (a restart stands by)")
        if not self._schedule_open:
            if not self.beat_lock.try_acquire():
                if not self.standing_by:
                    log.info("beat: another beat holds the beat lock; standing by")
                    self.standing_by = True
                return self.beat_lock.retry_every
            log.info("beat: holding the beat lock; running schedules")
            self.standing_by = False
            super().setup_schedule()
            self._schedule_open = True
        return super().tick(*args, **kwargs)

    def close(self) -> None:
        # Beat closes twice on SIGTERM (its signal handler, then its loop's `finally`).
        try:
            if self._schedule_open:
                self._schedule_open = False
                super().close()
        finally:
            self.beat_lock.release()

    @property
    def info(self) -> str:
        return (
            super().info
            + f"\n    . lock -> {self.beat_lock.lock.name} (ttl {self.beat_lock.ttl:g} s)"
        )
