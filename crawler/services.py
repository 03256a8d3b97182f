"""Crawl runs: the one function every entry point calls (command, Celery task, beat, demo).

`crawl_run(site)` enters the site's schema itself. Fetching runs in crawler.frontier's event
loop thread; extraction and every database write happen here, on the caller's thread and
connection. Each page is written in its own transaction, and pages are only removed at the
end of a complete crawl, so a crawl that fails or is interrupted leaves the previous index
serving answers; an interrupted run keeps its frontier and the next `crawl_run` resumes it.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone
from django_tenants.utils import tenant_context

from crawler import reasons
from crawler.embed import embeddings_update
from crawler.fetch import FetchOptions
from crawler.frontier import Frontier, Outcome, Plan, prepare_html
from crawler.index import index_stats_rebuild, page_index, page_remove, text_config
from crawler.models import CrawlRun, CrawlSettings, Page
from crawler.recrawl import PAGE_TRIGGER, page_recrawl_locked
from crawler.runs import (
    CrawlBusy,
    CrawlError,
    crawl_lock_release,
    crawl_lock_try,
    crawl_run_active,
    crawl_run_create,
    crawl_run_start,
)
from crawler.traps import TrapLimits
from crawler.urls import BadURL, dedupe_key, normalise_url, url_host

log = logging.getLogger(__name__)

MAX_REPORT_ENTRIES = 10_000
FLUSH_SECONDS = 2.0
SNAPSHOT_SECONDS = 10.0
# Time one crawl may spend embedding chunks (dense retrieval); the rest waits for the next
# crawl, so a slow model cannot push a crawl past the Celery task's time limit.
EMBED_SECONDS = 10 * 60


RESUME_MAX_DAYS = 2
_COUNTS = (
    "pages_fetched",
    "pages_indexed",
    "pages_unchanged",
    "pages_skipped",
    "pages_removed",
    "errors",
)


# Celery's soft time limit is an interruption (the run resumes), not a failure.
INTERRUPTIONS: tuple[type[BaseException], ...] = (
    KeyboardInterrupt,
    SystemExit,
    SoftTimeLimitExceeded,
)


def _twin_host(host: str) -> str:
    return host[4:] if host.startswith("www.") else f"www.{host}"


def crawl_plan(site, cfg: CrawlSettings, *, max_pages=None, concurrency=None) -> Plan:
    """The crawl's rules from the site's settings (start URL defaults to Site.url)."""
    starts = []
    for raw in cfg.start_urls or [site.url]:
        try:
            starts.append(normalise_url(raw))
        except BadURL as exc:
            raise CrawlError(f"bad start URL {raw!r}: {exc}") from None
    if not starts:
        raise CrawlError("no start URL: set the site's URL or the crawl settings' start URLs")
    hosts = {h.strip().lower().rstrip(".") for h in cfg.allowed_hosts if h.strip()}
    if not hosts:
        for host in map(url_host, starts):
            hosts.add(host)
            # example.com and www.example.com are the same site on practically every site.
            if "." in host and not host.replace(".", "").isdigit():
                hosts.add(_twin_host(host))
    return Plan(
        start_urls=starts,
        allowed_hosts=hosts,
        include=list(cfg.include_patterns),
        exclude=list(cfg.exclude_patterns),
        max_pages=int(max_pages or cfg.max_pages),
        per_host=int(concurrency or cfg.connections_per_host),
    )


@dataclass
class _State:
    run: CrawlRun
    seen_urls: set[str] = field(default_factory=set)
    hashes: dict[str, str] = field(default_factory=dict)
    ok_pages: int = 0
    last_flush: float = 0.0
    last_snapshot: float = 0.0

    def skip(self, url: str, reason: str, detail: str = "", *, error: bool = False):
        self.run.pages_skipped += 1
        if error:
            self.run.errors += 1
        entry = {"url": url, "reason": reason, "detail": detail[:300]}
        if reason == reasons.TRAP:
            # Which rule fired: counted on the run even past the report's size limit.
            entry["rule"] = detail.split(":", 1)[0]
            self.run.traps[entry["rule"]] = self.run.traps.get(entry["rule"], 0) + 1
        if len(self.run.skipped) < MAX_REPORT_ENTRIES:
            self.run.skipped.append(entry)


def outcome_process(outcome: Outcome, state: _State, frontier: Frontier, config: str) -> None:
    """Index (or skip, or remove) one fetched URL and count it on the run; a full crawl and a
    page re-crawl (crawler.recrawl) alike. Current schema, caller's thread.

    One step per kind of outcome: refused by the frontier, unchanged (304), gone (404/410),
    an unusable status, or a page to extract and index (`_page_process`)."""
    if outcome.reason:
        _outcome_refused(outcome, state)
        return
    fetched = outcome.fetched
    assert fetched is not None  # an outcome without a reason has its response
    state.run.pages_fetched += 1
    if fetched.status == 304:
        _page_unchanged(fetched.url, state, frontier)
    elif fetched.status in (404, 410):
        _page_gone(fetched.url, fetched.status, state)
    elif not 200 <= fetched.status < 300:
        # 5xx or an odd status: keep what we had.
        state.seen_urls.add(fetched.url)
        state.skip(
            fetched.url, reasons.HTTP_STATUS, str(fetched.status), error=fetched.status >= 500
        )
    else:
        _page_process(outcome, state, frontier, config)


def _outcome_refused(outcome: Outcome, state: _State) -> None:
    """A URL the frontier skipped (its rules, robots, a trap, a redirect) or failed to fetch."""
    if outcome.fetched is not None:
        state.run.pages_fetched += 1
    is_error = outcome.reason in (reasons.ERROR, reasons.BLOCKED, reasons.REDIRECT)
    state.skip(outcome.url, outcome.reason, outcome.detail, error=is_error)
    if outcome.reason == reasons.ERROR:
        state.seen_urls.add(outcome.url)  # a transient error keeps the page's previous version


def _page_unchanged(url: str, state: _State, frontier: Frontier) -> None:
    """304: the indexed version stands; its stored links are followed as if fetched again."""
    known_links = Page.objects.filter(url=url).values_list("links", flat=True).first()
    if known_links:
        frontier.links_add(known_links, None, normalised=True)
    state.seen_urls.add(url)
    state.ok_pages += 1
    state.run.pages_unchanged += 1


def _page_gone(url: str, status: int, state: _State) -> None:
    """404 or 410: the page is taken out of the index now, not at the end of the crawl."""
    gone = Page.objects.filter(url=url).first()
    if gone is not None:
        page_remove(gone, stats=False)
        state.run.pages_removed += 1
    state.skip(url, reasons.HTTP_STATUS, str(status))


def _page_process(outcome: Outcome, state: _State, frontier: Frontier, config: str) -> None:
    """A 2xx response: extract it, follow its links, then index it unless it is not HTML, has
    its canonical elsewhere, asks not to be indexed or repeats a page already indexed."""
    fetched = outcome.fetched
    assert fetched is not None  # a 2xx outcome has its response
    url = fetched.url
    state.ok_pages += 1
    kind, extracted, links, bad_links = outcome.prepared or prepare_html(fetched)
    if kind == "binary":
        state.skip(url, reasons.NOT_HTML, "binary content served as HTML")
        return
    if extracted is None:
        state.skip(url, reasons.NOT_HTML, "not parseable as HTML")
        return
    if links:
        frontier.links_add(links, None, normalised=True)
    if bad_links:
        frontier.links_add(bad_links, url)  # reported as bad URLs
    if extracted.canonical and _canonical_elsewhere(url, extracted.canonical, state, frontier):
        return
    if extracted.noindex:
        page_index(url, extracted, stats=False)  # removes an earlier version
        state.skip(url, reasons.NOINDEX, "robots meta tag or X-Robots-Tag")
        return
    digest = extracted.content_hash
    first_url = state.hashes.get(digest)
    if first_url is not None and first_url != url:
        state.skip(url, reasons.DUPLICATE, f"same content as {first_url}")
        return
    _page_store(url, fetched, extracted, links, digest, state, config)


def _canonical_elsewhere(url: str, canonical_raw: str, state: _State, frontier: Frontier) -> bool:
    """True when the page's canonical URL is another page the crawl may visit: that one is
    queued instead, and this URL is skipped (an earlier version of it removed). A canonical
    the crawl may not visit, or a bad one, is ignored: the page is indexed where it is."""
    try:
        canonical = normalise_url(canonical_raw, url)
    except BadURL:
        return False
    if not canonical or dedupe_key(canonical) == dedupe_key(url):
        return False
    refused, _detail = frontier.check_rules(canonical)
    if refused:
        return False
    frontier.links_add([canonical], url)
    old = Page.objects.filter(url=url).first()
    if old is not None:
        page_remove(old, stats=False)
    state.skip(url, reasons.DUPLICATE, f"canonical is {canonical}")
    return True


def _page_store(
    url: str, fetched, extracted, links: list[str], digest: str, state: _State, config: str
) -> None:
    """Index the page and count it: nothing is written when its content is unchanged, and a
    page with no text in its main content removes its earlier version and is skipped."""
    result = page_index(
        url,
        extracted,
        etag=fetched.headers.get("etag", ""),
        last_modified=fetched.headers.get("last-modified", ""),
        config=config,
        links=links[:2000],
        stats=False,  # rebuilt once at the end of the crawl
    )
    if result.status == "empty":
        state.skip(url, reasons.EMPTY, "no text in the main content")
        return
    state.hashes[digest] = url
    state.seen_urls.add(url)
    if result.status == "indexed":
        state.run.pages_indexed += 1
    else:
        state.run.pages_unchanged += 1


def _flush(st: _State, frontier: Frontier, *, force=False) -> None:
    now = time.monotonic()
    if not force and now - st.last_flush < FLUSH_SECONDS:
        return
    st.last_flush = now
    run = st.run
    run.heartbeat_at = timezone.now()
    fields = ["heartbeat_at", *_COUNTS, "skipped", "traps"]
    if force or now - st.last_snapshot >= SNAPSHOT_SECONDS:
        st.last_snapshot = now
        snap = frontier.snapshot()
        snap["seen_urls"] = sorted(st.seen_urls)
        snap["scheduled"] = frontier.scheduled
        run.frontier = snap
        fields.append("frontier")
    run.save(update_fields=fields)


def crawl_run(
    site,
    *,
    max_pages: int | None = None,
    concurrency: int | None = None,
    progress: Callable[[CrawlRun], None] | None = None,
    run: CrawlRun | None = None,
    trigger: str = "manual",
    fetch_options: FetchOptions | None = None,
    resolver=None,
    traps: TrapLimits | None = None,
) -> CrawlRun:
    """Crawl `site` and update its index; returns the finished CrawlRun.

    Call from sync code on any schema: this enters the site's tenant_context. Raises
    CrawlError when another crawl of the site holds the lock (CrawlBusy when another run is
    active). `run` (a queued run, from the Celery task) is carried out; without it, the
    site's queued run (or running one whose process died) is, else a new one. An
    interrupted run of the site is resumed.
    """
    with tenant_context(site):
        if not crawl_lock_try():
            busy = crawl_run_active()
            if busy is not None:  # the wording every entry point shows (crawler.tasks)
                raise CrawlBusy(busy)
            raise CrawlError(f"a crawl of site {site.site_id!r} is already running")
        try:
            return _crawl_locked(
                site,
                max_pages=max_pages,
                concurrency=concurrency,
                progress=progress,
                run=run,
                trigger=trigger,
                fetch_options=fetch_options,
                resolver=resolver,
                traps=traps,
            )
        finally:
            crawl_lock_release()


def _crawl_locked(
    site, *, max_pages, concurrency, progress, run, trigger, fetch_options, resolver, traps
):
    if run is not None:
        run.refresh_from_db()
        if run.status in (CrawlRun.Status.SUCCEEDED, CrawlRun.Status.FAILED):
            return run  # a redelivered task whose work is already done
    else:
        # We hold the lock: the site's active run is either queued (its message not taken
        # yet; the worker later finds it done) or running with its process dead. Carry it
        # out here rather than refuse; there is at most one (crawler.runs).
        run = CrawlRun.objects.filter(status__in=CrawlRun.ACTIVE).first()
        run = run or crawl_run_create(trigger=trigger)
    if run.trigger == PAGE_TRIGGER:
        # "Re-crawl this page": the same run mechanism, one URL (crawler.recrawl).
        return page_recrawl_locked(site, run, fetch_options=fetch_options, resolver=resolver)
    # We hold the lock, so any other run still marked running died with its process.
    CrawlRun.objects.filter(status=CrawlRun.Status.RUNNING).exclude(pk=run.pk).update(
        status=CrawlRun.Status.INTERRUPTED
    )
    if not run.frontier.get("todo"):
        _resume_into(run)

    cfg = CrawlSettings.load()
    try:
        plan = crawl_plan(site, cfg, max_pages=max_pages, concurrency=concurrency)
    except CrawlError as exc:
        run.status, run.error = CrawlRun.Status.FAILED, str(exc)
        run.started_at = run.finished_at = timezone.now()
        run.save()
        raise
    if traps is not None:
        plan.traps = traps
    st = _State(run=run)
    if run.frontier.get("todo"):
        # Pages this run wrote after its last snapshot (a killed worker saved nothing more)
        # count as done; their stored links are followed instead of fetching them again.
        recent = dict(
            Page.objects.filter(fetched_at__gte=run.started_at).values_list("url", "links")
            if run.started_at
            else []
        )
        plan.resuming = True
        plan.resume_todo = [u for u in run.frontier.get("todo", []) if u not in recent]
        plan.resume_done = list(run.frontier.get("done", [])) + list(recent)
        plan.resume_links = [link for links in recent.values() for link in links]
        plan.already_scheduled = int(run.frontier.get("scheduled", 0))
        # The URL-trap counters go on from where the run stopped, or a resumed crawl would
        # admit another full share of every calendar and facet combination.
        plan.trap_state = run.frontier.get("traps", {})
        st.seen_urls = set(run.frontier.get("seen_urls", [])) | set(recent)
    plan.known = {
        u: (e, m) for u, e, m in Page.objects.values_list("url", "etag", "last_modified") if e or m
    }
    run.started_at = run.started_at or timezone.now()
    run.heartbeat_at = timezone.now()
    run.error = ""
    crawl_run_start(run)
    config = text_config()
    frontier = Frontier(plan, fetch_options, resolver=resolver)
    frontier.start()
    try:
        for outcome in frontier.results():
            try:
                outcome_process(outcome, st, frontier, config)
            except Exception as exc:  # noqa: BLE001 - one page must not stop the crawl
                log.exception("processing %s failed", outcome.url)
                st.skip(outcome.url, reasons.ERROR, f"{type(exc).__name__}: {exc}", error=True)
            frontier.done(outcome)
            _flush(st, frontier)
            if progress is not None:
                progress(run)
    except INTERRUPTIONS:
        frontier.stop()
        index_stats_rebuild()  # the pages written so far are searchable with right IDFs
        run.status = CrawlRun.Status.INTERRUPTED
        _flush(st, frontier, force=True)
        run.save(update_fields=["status"])
        raise
    except Exception as exc:
        frontier.stop()
        log.exception("crawl of %s failed", site.site_id)
        index_stats_rebuild()
        run.status, run.error = CrawlRun.Status.FAILED, f"{type(exc).__name__}: {exc}"
        _flush(st, frontier, force=True)
        run.finished_at = timezone.now()
        run.save()
        return run
    frontier.stop()
    _finish(site, run, st, frontier)
    return run


def _resume_into(run: CrawlRun) -> None:
    """Carry the frontier and report of the latest interrupted run over to `run`."""
    cutoff = timezone.now() - datetime.timedelta(days=RESUME_MAX_DAYS)
    for old in CrawlRun.objects.filter(status=CrawlRun.Status.INTERRUPTED).exclude(pk=run.pk):
        fresh = (old.heartbeat_at or old.created_at) >= cutoff
        if fresh and old.frontier.get("todo") and not run.frontier.get("todo"):
            run.frontier = old.frontier
            for f in _COUNTS:
                setattr(run, f, getattr(old, f))
            run.skipped = list(old.skipped)
            run.traps = dict(old.traps)
            run.started_at = old.started_at
            old.error = f"interrupted; resumed by run {run.pk}"
        else:
            old.error = old.error or "interrupted; not resumed"
        old.status = CrawlRun.Status.FAILED
        old.frontier = {}
        old.save(update_fields=["status", "error", "frontier"])


def _finish(site, run: CrawlRun, st: _State, frontier: Frontier) -> None:
    complete = not frontier.budget_hit
    if st.ok_pages == 0:
        run.status = CrawlRun.Status.FAILED
        cause = "; ".join(frontier.robots_notes[:3])
        why = Counter(e["reason"] for e in run.skipped).most_common(1)
        if not cause and why:
            cause = f"mostly: {why[0][0]}"
        run.error = "no page could be fetched; the previous index is kept" + (
            f" ({cause})" if cause else ""
        )
    else:
        run.status = CrawlRun.Status.SUCCEEDED
        healthy = run.errors <= max(1, run.pages_fetched) // 2
        if complete and healthy:
            # Only a complete, healthy crawl knows which pages are no longer reachable.
            # Custom answers (Page.Source.ANSWER) are never crawled, so never "unreachable".
            stale = Page.objects.filter(source=Page.Source.CRAWL).exclude(url__in=st.seen_urls)
            for page in stale:
                page_remove(page, stats=False)
                run.pages_removed += 1
    notes = frontier.robots_notes[:50]
    index_stats_rebuild()
    # Dense retrieval on: embed the chunks that have none (new or changed pages, and those a
    # failed embedding call left behind last time). Never fails the crawl.
    stop = None
    try:
        embedded = embeddings_update(deadline=time.monotonic() + EMBED_SECONDS)
        if embedded is not None and embedded.note():
            notes.append(embedded.note())
    except INTERRUPTIONS as exc:
        # The index is complete: the run finishes; the next crawl embeds the rest.
        stop = exc
        notes.append("embeddings: interrupted; the remaining chunks are embedded next crawl")
    run.notes = "\n".join(notes)
    run.frontier = {}
    run.finished_at = timezone.now()
    run.heartbeat_at = run.finished_at
    run.save()
    if isinstance(stop, SystemExit):
        raise stop
