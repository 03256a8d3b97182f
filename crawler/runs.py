"""A site's crawl runs in the database: one active run, the crawl lock, runs whose worker died.

At most one run per site is queued or running: the unique index `crawler_crawlrun_one_active`
guarantees it (two parallel "Crawl now" clicks, a beat tick and a staff command cannot
slip past a check-then-insert). `crawl_run_create` is the only place that inserts a run.

The crawl lock is a PostgreSQL session advisory lock per site schema, held by the process that
crawls for as long as it crawls; PostgreSQL releases it when that process's connection ends,
however it ends (SIGKILL included). A `running` run whose heartbeat is stale while nobody
holds the lock belongs to a dead process: `crawl_run_requeue_stale` puts it back in the queue
with its frontier, and the next attempt resumes it.

Every function here works on the current connection's schema (inside the site's
`tenant_context`, or a request/task already in it).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from crawler.models import CrawlRun

ONE_ACTIVE = "crawler_crawlrun_one_active"


class CrawlError(Exception):
    """A crawl cannot start (another crawl of the site is running, bad settings)."""


class CrawlBusy(CrawlError):
    """The site already has a queued or running crawl: `run`.

    Its text is the one every entry point shows as it is (admin message, API `detail`, staff
    command error), so a refused crawl reads the same wherever it was asked for.
    """

    def __init__(self, run: CrawlRun, *, revived: bool = False):
        self.run = run
        self.revived = revived
        if revived:
            msg = f"Crawl run {run.pk} had stopped with its worker and is queued again."
        else:
            msg = f"Crawl run {run.pk} is already {run.status}; try again when it has finished."
        super().__init__(msg)


def _one_active_violated(exc: IntegrityError) -> bool:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == ONE_ACTIVE


def crawl_run_active() -> CrawlRun | None:
    """The site's queued or running run, if any."""
    return CrawlRun.objects.filter(status__in=CrawlRun.ACTIVE).first()


def crawl_run_create(*, trigger: str, status: str = CrawlRun.Status.QUEUED) -> CrawlRun:
    """Insert the site's one active run, or raise CrawlBusy with the run that is active.

    Works in or out of a transaction (a savepoint keeps the caller's transaction usable). A
    parallel insert that has not committed yet makes this wait for it, then fail.
    """
    for _ in range(3):
        try:
            with transaction.atomic():
                return CrawlRun.objects.create(status=status, trigger=trigger)
        except IntegrityError as exc:
            if not _one_active_violated(exc):
                raise
        busy = crawl_run_active()
        if busy is not None:
            raise CrawlBusy(busy)
        # The active run finished between the insert and the look-up: try again.
    raise CrawlError("the site's crawl runs keep changing; try again")


def crawl_run_start(run: CrawlRun) -> None:
    """Save `run` as running (fields already set on it); CrawlBusy if another run is active."""
    run.status = CrawlRun.Status.RUNNING
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError as exc:
        if not _one_active_violated(exc):
            raise
        raise CrawlBusy(crawl_run_active() or run) from None


# --- the crawl lock ---------------------------------------------------------------------


def _lock_key() -> str:
    return f"cloop.crawl.{connection.schema_name}"


def crawl_lock_try() -> bool:
    """Take the site's crawl lock (session level: release it with crawl_lock_release)."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [_lock_key()])
        return bool(cur.fetchone()[0])


def crawl_lock_release() -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_unlock(hashtext(%s))", [_lock_key()])


# --- runs whose worker died --------------------------------------------------------------


def crawl_stale_after() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.CLOOP_CRAWL_STALE_SECONDS)


def crawl_run_requeue_stale(
    *, now: datetime.datetime | None = None, stale_after: datetime.timedelta | None = None
) -> CrawlRun | None:
    """Put the site's `running` run back in the queue if its process is gone; return it.

    Gone means: no heartbeat for `stale_after` (default CLOOP_CRAWL_STALE_SECONDS) and nobody
    holds the site's crawl lock (a crawl that is only slow, embedding or waiting out a
    Crawl-delay, keeps its lock and is left alone). The run keeps its frontier and report;
    the caller sends it to a worker once its transaction commits. A duplicate delivery of the
    old message later finds the run finished, or the lock taken, and does nothing.
    """
    now = now or timezone.now()
    stale_after = crawl_stale_after() if stale_after is None else stale_after
    run = CrawlRun.objects.filter(status=CrawlRun.Status.RUNNING).first()
    if run is None:
        return None
    beat = run.heartbeat_at or run.started_at or run.created_at
    if beat > now - stale_after:
        return None
    if not crawl_lock_try():
        return None
    try:
        # Holding the lock: no crawl of this site can start or be running meanwhile.
        revived = CrawlRun.objects.filter(pk=run.pk, status=CrawlRun.Status.RUNNING).update(
            status=CrawlRun.Status.QUEUED,
            task_id="",
            heartbeat_at=now,
            error="its worker stopped mid-crawl; queued again to resume",
        )
    finally:
        crawl_lock_release()
    if not revived:
        return None
    run.refresh_from_db()
    return run
