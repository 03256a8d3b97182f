"""Celery entry points of the crawler: thin shells around crawler.services.crawl_run.

Both tasks run inside one site's schema (tenant-schemas-celery sets it from the
`_schema_name` header). `crawl_site` is acks_late and idempotent: a redelivered or duplicate
message finds its run finished (and returns) or resumes it from the saved frontier; a second
worker that finds the site's crawl lock taken returns without doing anything. A worker killed
outright (SIGKILL, OOM) acknowledges nothing and runs no clean-up: beat's `crawl_stale` finds
its run's heartbeat stale and the site's lock free, and queues the run again to resume.
"""

from __future__ import annotations

import datetime
import logging
import uuid

from celery import shared_task
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from crawler.models import CrawlRun, CrawlSettings, Page
from crawler.recrawl import PAGE_TRIGGER
from crawler.runs import CrawlBusy, crawl_run_active, crawl_run_create, crawl_run_requeue_stale
from crawler.services import CrawlError, crawl_run
from crawler.urls import BadURL, normalise_url
from tasking import tenant_task_send

log = logging.getLogger(__name__)

# A queued run whose message never arrived (broker lost, worker down for days) stops
# blocking new crawls after this long.
QUEUED_STALE = datetime.timedelta(hours=6)


def _site():
    if connection.schema_name == get_public_schema_name():  # type: ignore[attr-defined]  # django-tenants' connection
        return None
    tenant = getattr(connection, "tenant", None)
    if tenant is None or not getattr(tenant, "ready", False):
        return None  # being created (migrations may be incomplete) or deleted
    return tenant


@shared_task(
    name="crawler.crawl_site",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # A big site needs longer than the default task limit; the run resumes if cut off.
    soft_time_limit=25 * 60,
    time_limit=30 * 60,
)
def crawl_site(self, run_id: int | None = None, trigger: str = "task") -> dict | None:
    """Worker entry, sent with the site's schema (tenant_task_send): carry out the queued run
    `run_id` (or a new one), resuming it if a previous attempt was cut off. Returns the run's
    summary, or None when there is nothing to do (site not ready, run deleted, crawl refused).
    """
    site = _site()
    if site is None:
        schema = connection.schema_name  # type: ignore[attr-defined]  # django-tenants' connection
        log.warning("crawl_site outside a ready site's schema (%s)", schema)
        return None
    run = None
    if run_id is not None:
        run = CrawlRun.objects.filter(pk=run_id).first()
        if run is None:
            return None  # deleted meanwhile
    try:
        run = crawl_run(site, run=run, trigger=trigger)
    except CrawlError as exc:
        log.info("crawl of %s not started: %s", site.site_id, exc)
        return None
    return run.summary(site.site_id)


def _send_on_commit(site, run: CrawlRun) -> None:
    schema = site.schema_name

    def send():
        # The id is recorded before the message exists: a fast worker saves the run it loaded
        # and would otherwise write back an empty task_id over one recorded after publishing.
        task_id = str(uuid.uuid4())
        with schema_context(schema):
            CrawlRun.objects.filter(pk=run.pk).update(task_id=task_id)
        tenant_task_send(crawl_site, schema, run.pk, run.trigger, task_id=task_id)

    transaction.on_commit(send)


def crawl_request(site, trigger: str, *, page_url: str | None = None) -> CrawlRun:
    """Queue a crawl of `site` (or, with `page_url`, a re-crawl of that one page) and hand it
    to a worker once the transaction commits; returns the queued run.

    The one way to queue a crawl: the staff command (`crawl --queue`), the admin's "Crawl
    now" and "Re-crawl this page", the REST API and beat's `crawl_due` all call it, with
    `trigger` saying which (`TRIGGER_TEXTS` in crawler.admin). The database allows one
    queued or running run per site (crawler.runs), so a second request raises CrawlBusy,
    whose text every entry point shows as it is; if the active run's worker died
    (crawler.runs.crawl_run_requeue_stale) that run is queued again first and the CrawlBusy
    says so (`revived`). A page re-crawl is a run whose trigger is always "page", which is
    how the worker knows it (crawler.recrawl); its URL raises CrawlError when it is not a
    web address or is a custom answer's page (those are edited, not crawled).

    Precondition: inside `site`'s schema. The message names the schema explicitly, so it is
    right whatever schema the connection is on when the on_commit callback fires.
    """
    if page_url is not None:
        page_url = _page_url_check(page_url)
        trigger = PAGE_TRIGGER
    run = _run_create(site, trigger)
    if page_url is not None:
        run.frontier = {"page": page_url}
        run.notes = f"re-crawl of one page: {page_url}"
        run.save(update_fields=["frontier", "notes"])
    _send_on_commit(site, run)
    return run


def _page_url_check(url: str) -> str:
    try:
        url = normalise_url(url)
    except BadURL as exc:
        raise CrawlError(f"not a page URL: {exc}") from None
    if Page.objects.filter(url=url, source=Page.Source.ANSWER).exists():
        raise CrawlError("a custom answer is not crawled; edit the answer instead")
    return url


def _run_create(site, trigger: str) -> CrawlRun:
    """A new queued run, or CrawlBusy (after queueing again a run whose worker died)."""
    try:
        return crawl_run_create(trigger=trigger)
    except CrawlBusy:
        revived = crawl_run_requeue_stale()
        if revived is None:
            raise
        _send_on_commit(site, revived)
        raise CrawlBusy(revived, revived=True) from None


def crawl_busy() -> CrawlRun | None:
    """The queued or running crawl of the current site schema, if any (at most one)."""
    return crawl_run_active()


def crawl_due_check() -> str:
    """'due', or why the current site is not due for a scheduled re-crawl (current schema)."""
    cfg = CrawlSettings.load()
    if cfg.recrawl_interval_hours <= 0:
        return "scheduled crawls are off"
    now = timezone.now()
    # A requeued run (crawl_stale) counts from its requeueing (heartbeat_at), not creation.
    CrawlRun.objects.filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - QUEUED_STALE),
        status=CrawlRun.Status.QUEUED,
        created_at__lt=now - QUEUED_STALE,
    ).update(status=CrawlRun.Status.FAILED, error="never started (message lost)")
    if crawl_busy() is not None:
        return "a crawl is queued or running"
    last = CrawlRun.objects.exclude(status=CrawlRun.Status.QUEUED).order_by("-created_at").first()
    interval = datetime.timedelta(hours=cfg.recrawl_interval_hours)
    if last is not None and last.created_at > now - interval:
        return "crawled recently"
    return "due"


@shared_task(name="crawler.crawl_due", ignore_result=True)
def crawl_due() -> str | None:
    """Beat entry, fanned out to every site's schema: queue a crawl if the site is due."""
    site = _site()
    if site is None:
        return None
    why = crawl_due_check()
    if why == "due":
        try:
            crawl_request(site, "schedule")
        except CrawlBusy:
            return "a crawl is queued or running"
    return why


def crawl_stale_requeue(site, *, now=None, stale_after=None) -> CrawlRun | None:
    """Queue again the site's running run whose worker died (see crawl_run_requeue_stale),
    and send it to a worker on commit. Precondition: inside `site`'s schema."""
    run = crawl_run_requeue_stale(now=now, stale_after=stale_after)
    if run is not None:
        log.warning("crawl run %s of %s lost its worker; queued again", run.pk, site.site_id)
        _send_on_commit(site, run)
    return run


@shared_task(name="crawler.crawl_stale", ignore_result=True)
def crawl_stale() -> int | None:
    """Beat entry, fanned out to every site's schema: resume a crawl whose worker died."""
    site = _site()
    if site is None:
        return None
    run = crawl_stale_requeue(site)
    return run.pk if run is not None else 0
