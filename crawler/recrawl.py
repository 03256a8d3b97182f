"""Re-crawl one page ("Re-crawl this page" in the admin): the crawl's own path for one URL.

A page re-crawl is a crawl run (trigger "page", the URL in `frontier["page"]`), so the
one-active-run rule covers it: it is refused while a full crawl is queued or running, and a
full crawl is refused while it is. It is queued like any run (crawler.tasks) and carried out
by the same Celery task, which hands a page run to `page_recrawl_locked` here. The URL goes
through the same rules (allowed hosts, include/exclude patterns, URL traps), robots.txt, fetch,
extraction and indexing (`crawler.services.outcome_process`) as in a full crawl, without
following its links or reading sitemaps; a page that is gone (404/410), noindex, or now a
duplicate of its canonical is removed. Its result is the run's report.

Functions run in the site's schema while holding its crawl lock (crawler.services.crawl_run
takes both).
"""

from __future__ import annotations

from django.utils import timezone

from crawler.embed import embeddings_update
from crawler.fetch import FetchOptions
from crawler.frontier import Frontier
from crawler.index import index_stats_rebuild, text_config
from crawler.models import CrawlRun, CrawlSettings, Page
from crawler.runs import CrawlError, crawl_run_start

PAGE_TRIGGER = "page"


class _NoFollow:
    """The frontier as outcome_process sees it, minus following links: one page only."""

    def __init__(self, frontier: Frontier):
        self.frontier = frontier

    def links_add(self, *args, **kwargs) -> None:
        pass

    def check_rules(self, url: str) -> tuple[str, str]:
        return self.frontier.check_rules(url)


def page_recrawl_locked(
    site,
    run: CrawlRun,
    *,
    fetch_options: FetchOptions | None = None,
    resolver=None,
) -> CrawlRun:
    """Carry out the page run `run`; returns it finished (succeeded or failed)."""
    # Imported here: crawler.services imports this module (a cycle).
    from crawler.services import INTERRUPTIONS, _State, crawl_plan, outcome_process

    url = str((run.frontier or {}).get("page") or "")
    run.started_at = timezone.now()
    run.heartbeat_at = run.started_at
    try:
        if not url:
            raise CrawlError("no page URL on this run")
        plan = crawl_plan(site, CrawlSettings.load())
    except CrawlError as exc:
        run.status, run.error = CrawlRun.Status.FAILED, str(exc)
        run.finished_at = timezone.now()
        run.save()
        return run
    plan.start_urls, plan.max_pages, plan.use_sitemaps, plan.per_host = [url], 1, False, 1
    crawl_run_start(run)
    st = _State(run=run)
    frontier = Frontier(plan, fetch_options, resolver=resolver)
    frontier.start()
    config = text_config()
    try:
        for outcome in frontier.results():
            try:
                outcome_process(outcome, st, _NoFollow(frontier), config)
            finally:
                frontier.done(outcome)
    except INTERRUPTIONS:
        frontier.stop()
        run.status, run.error = CrawlRun.Status.FAILED, "interrupted"
        run.finished_at = timezone.now()
        run.save()
        raise
    frontier.stop()
    index_stats_rebuild()
    page = Page.objects.filter(url=url).first()
    if page is not None and run.pages_indexed:
        embeddings_update(page_ids=[page.pk])
    run.notes = "\n".join([f"re-crawl of one page: {url}", *frontier.robots_notes[:5]])
    if run.pages_indexed or run.pages_unchanged or run.pages_removed:
        run.status = CrawlRun.Status.SUCCEEDED
    else:
        run.status = CrawlRun.Status.FAILED
        why = run.skipped[0] if run.skipped else {}
        run.error = "the page was not indexed" + (
            f": {why.get('reason', '')} {why.get('detail', '')}".rstrip() if why else ""
        )
    run.finished_at = run.heartbeat_at = timezone.now()
    run.save()
    return run
