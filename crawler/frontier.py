"""The crawl frontier: which URLs to visit, in an asyncio loop on its own thread.

The loop fetches (robots.txt, sitemaps, pages, redirects) with bounded concurrency per host
and robots.txt Crawl-delay, and hands every outcome to the caller's thread through a queue;
the caller extracts and writes to the database (Django's ORM stays on one thread, in the
site's schema) and hands discovered links back with `links_add`. No database access here.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import queue
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from crawler import reasons
from crawler.extract import extract_html
from crawler.fetch import (
    SITEMAP_MAX_BYTES,
    Fetched,
    Fetcher,
    FetchOptions,
    Robots,
    decode_html,
    looks_binary,
    robots_fetch,
    sitemap_parse,
)
from crawler.traps import TrapGuard, TrapLimits
from crawler.urls import BadURL, dedupe_key, normalise_url, url_host

MAX_SITEMAPS = 50


@dataclass
class Plan:
    start_urls: list[str]
    allowed_hosts: set[str]
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    max_pages: int = 1000
    per_host: int = 2
    # url -> (etag, last_modified) of pages already indexed: conditional GETs.
    known: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Resume state of an interrupted run.
    resume_todo: list[str] = field(default_factory=list)
    resume_done: list[str] = field(default_factory=list)
    already_scheduled: int = 0
    # Links of pages written after the interrupted run's last snapshot: not refetched, but
    # their links still lead the crawl on.
    resume_links: list[str] = field(default_factory=list)
    resuming: bool = False
    use_sitemaps: bool = True
    traps: TrapLimits = field(default_factory=TrapLimits)
    # The URL-trap counters of the interrupted run (TrapGuard.state()).
    trap_state: dict = field(default_factory=dict)


@dataclass
class Outcome:
    """One URL's result: a response to process, or a skip with its reason."""

    url: str
    fetched: Fetched | None = None
    reason: str = ""
    detail: str = ""
    # The URL as first scheduled (before redirects).
    scheduled_url: str = ""
    # Extraction done on the loop's worker threads (see Frontier._prepare), so the caller's
    # thread spends its time on the database only; None when not prepared.
    prepared: tuple | None = None


def prepare_html(f: Fetched) -> tuple:
    """The CPU work on a fetched page, done off the caller's thread.

    Returns (kind, extracted, links, bad_links): kind "binary" or "html"; links absolute and
    normalised (deduplicated, in page order); bad_links the raw web links that are broken.
    """
    if looks_binary(f.body):
        return ("binary", None, [], [])
    text = decode_html(f.body, f.headers.get("content-type", ""))
    ex = extract_html(text, robots_header=f.headers.get("x-robots-tag", ""))
    links: dict[str, None] = {}
    bad: list[str] = []
    seen_raw: set[str] = set()
    for raw in ex.links if ex is not None else []:
        raw = raw.split("#", 1)[0]
        if not raw or raw in seen_raw:
            continue  # same-page anchors and repeats
        seen_raw.add(raw)
        try:
            links[normalise_url(raw, f.url)] = None
        except BadURL:
            if raw.strip().lower().startswith(("http:", "https:", "//")):
                bad.append(raw)
    return ("html", ex, list(links), bad)


def _pattern_match(path: str, patterns: list[str]) -> bool:
    return any(
        fnmatch.fnmatchcase(path, p) or path.startswith(p.rstrip("*")) and p.endswith("*")
        for p in patterns
    )


class Frontier:
    def __init__(self, plan: Plan, options: FetchOptions | None = None, *, resolver=None):
        self.plan = plan
        self.options = options or FetchOptions()
        self.resolver = resolver
        self.out: queue.Queue[Outcome | None] = queue.Queue(maxsize=16)
        self.lock = threading.Lock()
        self.todo: dict[str, None] = {}  # scheduled, not yet processed by the caller
        self.seen: set[str] = set(dedupe_key(u) for u in plan.resume_done)
        self.traps = TrapGuard(plan.traps, plan.trap_state)
        self.scheduled = plan.already_scheduled
        self.budget_hit = False
        self.robots: dict[str, Robots] = {}
        self.robots_notes: list[str] = []
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue | None = None
        self._pending = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._thread_main, daemon=True, name="crawl-loop")
        self._gates: dict[str, tuple[asyncio.Semaphore, asyncio.Lock, list[float]]] = {}

    # --- caller thread ------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def results(self):
        """Outcomes until the crawl is done (blocking iterator for the caller's thread)."""
        while True:
            item = self.out.get()
            if item is None:
                if self.error is not None:
                    raise self.error
                return
            yield item

    def done(self, outcome: Outcome) -> None:
        """The caller has processed `outcome` (and added its links)."""
        with self.lock:
            self.todo.pop(outcome.scheduled_url or outcome.url, None)
        self._call(self._one_done)

    def links_add(self, links: list[str], base: str | None, *, normalised=False) -> None:
        """Schedule links found on `base` (or already absolute and normalised)."""
        self._call(self._schedule_many, links, base, normalised)

    def stop(self) -> None:
        self._stopping = True
        self._call(self._finish)
        # Unblock a loop waiting to put into a full queue.
        with contextlib.suppress(queue.Empty):
            while True:
                self.out.get_nowait()
        self._thread.join(15)

    def _seen_add(self, key: str) -> None:
        # Under the lock: snapshot() copies the set from the caller's thread.
        with self.lock:
            self.seen.add(key)

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "todo": list(self.todo),
                "done": sorted(self.seen - set(map(dedupe_key, self.todo))),
                # Counted on the loop thread; a copy under the lock is consistent with todo.
                "traps": self.traps.state(),
            }

    def _call(self, fn, *args):
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(fn, *args)

    # --- loop thread --------------------------------------------------------------------
    def _thread_main(self):
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to the caller's thread
            self.error = exc
        finally:
            self._put_blocking(None)

    def _put_blocking(self, item):
        while True:
            try:
                self.out.put(item, timeout=0.5)
                return
            except queue.Full:
                if self._stopping and item is not None:
                    return

    async def _emit(self, outcome: Outcome):
        # The caller may be slow (extraction, DB); wait without blocking the loop.
        while not self._stopping:
            try:
                self.out.put_nowait(outcome)
                return
            except queue.Full:
                await asyncio.sleep(0.01)

    def _one_done(self):
        self._pending -= 1
        if self._pending <= 0 and self._queue is not None and self._queue.empty():
            self._finish()

    def _finish(self):
        if self._queue is not None:
            for _ in range(max(1, self._workers)):
                self._queue.put_nowait(None)

    async def _main(self):
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._workers = max(1, self.plan.per_host) * max(1, len(self.plan.allowed_hosts))
        self._workers = min(self._workers, 32)
        self.fetcher = Fetcher(self.options, resolver=self.resolver, max_connections=self._workers)
        try:
            if self.plan.resuming:
                for u in self.plan.resume_todo:
                    self._schedule(u, None, resumed=True)
                for u in self.plan.resume_links:
                    self._schedule(u, None, normalised=True)
            else:
                for u in self.plan.start_urls:
                    self._schedule(u, None)
                if self.plan.use_sitemaps:
                    await self._sitemaps_seed()
            if self._pending == 0:
                return
            workers = [asyncio.create_task(self._worker()) for _ in range(self._workers)]
            await asyncio.gather(*workers)
        finally:
            await self.fetcher.aclose()

    def _schedule_many(self, links, base, normalised=False):
        for link in links:
            self._schedule(link, base, normalised=normalised)

    def _skip_now(self, url: str, reason: str, detail: str = ""):
        self._pending += 1
        with self.lock:
            self.todo[url] = None
        self._queue.put_nowait(Outcome(url=url, reason=reason, detail=detail, scheduled_url=url))

    def check_rules(self, url: str) -> tuple[str, str]:
        """('', '') if `url` may be crawled, else (reason, detail). Robots is checked later.

        A URL trap's detail starts with the rule's name (crawler.traps.RULES) and a colon.
        """
        host = url_host(url)
        if host not in self.plan.allowed_hosts:
            return reasons.OFF_SITE, host
        rule, detail = self.traps.rule_for(url)
        if rule:
            return reasons.TRAP, f"{rule}: {detail}"
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        if self.plan.include and not _pattern_match(target, self.plan.include):
            return reasons.EXCLUDED, "not in the include patterns"
        if self.plan.exclude and _pattern_match(target, self.plan.exclude):
            return reasons.EXCLUDED, "matches an exclude pattern"
        return "", ""

    def _schedule(
        self, raw: str, base: str | None, *, resumed: bool = False, normalised: bool = False
    ):
        if self._stopping:
            return
        try:
            url = raw if normalised else normalise_url(raw, base)
        except BadURL as exc:
            # mailto:, tel:, javascript: links are normal; a broken web link is reported.
            if str(raw).strip().lower().startswith(("http:", "https:", "//")):
                key = f"bad:{raw}"
                if key not in self.seen:
                    self._seen_add(key)
                    self._skip_now(str(raw)[:500], reasons.BAD_URL, str(exc)[:200])
            return
        key = dedupe_key(url)
        if key in self.seen and not resumed:
            return
        self._seen_add(key)
        reason, detail = self.check_rules(url)
        if not reason and not resumed:
            # A resumed URL was counted by the run that scheduled it (plan.trap_state).
            with self.lock:
                rule, why = self.traps.admit(url)
            if rule:
                reason, detail = reasons.TRAP, f"{rule}: {why}"
        if reason:
            self._skip_now(url, reason, detail)
            return
        if self.scheduled >= self.plan.max_pages and not resumed:
            self.budget_hit = True
            self._skip_now(url, reasons.BUDGET, f"page budget {self.plan.max_pages}")
            return
        if not resumed:
            self.scheduled += 1
        self._pending += 1
        with self.lock:
            self.todo[url] = None
        self._queue.put_nowait(url)

    async def _robots_for(self, url: str) -> Robots:
        p = urlsplit(url)
        origin = f"{p.scheme}://{p.netloc}"
        if origin not in self.robots:
            gate = self._gate(p.netloc)
            async with gate[0]:
                if origin not in self.robots:
                    self.robots[origin] = await robots_fetch(self.fetcher, origin)
                    if self.robots[origin].detail and not self.robots[origin].blocked:
                        self.robots_notes.append(f"{origin}: {self.robots[origin].detail}")
        return self.robots[origin]

    def _gate(self, netloc: str):
        if netloc not in self._gates:
            self._gates[netloc] = (
                asyncio.Semaphore(max(1, self.plan.per_host)),
                asyncio.Lock(),
                [0.0],
            )
        return self._gates[netloc]

    async def _polite_get(self, url: str, **kw) -> Fetched:
        netloc = urlsplit(url).netloc
        sem, lock, next_at = self._gate(netloc)
        robots = await self._robots_for(url)
        delay = robots.crawl_delay()
        async with sem:
            if delay > 0:
                async with lock:
                    wait = next_at[0] - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    next_at[0] = time.monotonic() + delay
            return await self.fetcher.get(url, **kw)

    async def _sitemaps_seed(self):
        origins = []
        for u in self.plan.start_urls:
            with contextlib.suppress(BadURL):
                p = urlsplit(normalise_url(u))
                origin = f"{p.scheme}://{p.netloc}"
                if origin not in origins:
                    origins.append(origin)
        todo: list[tuple[str, int]] = []
        for origin in origins:
            robots = await self._robots_for(origin + "/")
            for sm in robots.sitemaps:
                todo.append((sm, 0))
            if robots.allowed(origin + "/sitemap.xml"):
                todo.append((origin + "/sitemap.xml", 0))
        done: set[str] = set()
        while todo and len(done) < MAX_SITEMAPS and not self._stopping:
            sm, depth = todo.pop(0)
            try:
                sm = normalise_url(sm)
            except BadURL:
                continue
            if sm in done or url_host(sm) not in self.plan.allowed_hosts:
                continue
            done.add(sm)
            r = await self._follow(sm, max_bytes=SITEMAP_MAX_BYTES, html_only=False)
            if not r.ok:
                if r.status not in (404, 410):
                    self.robots_notes.append(
                        f"sitemap {sm}: {r.reason or r.status} {r.detail}".strip()
                    )
                continue
            pages, children = sitemap_parse(r.body)
            if not pages and not children:
                self.robots_notes.append(f"sitemap {sm}: no URLs (unparseable or empty)")
            for c in children:
                if depth < 3:
                    todo.append((c, depth + 1))
            for page in pages:
                self._schedule(page, None)

    async def _follow(self, url: str, **kw) -> Fetched:
        """GET with at most 5 redirects, each hop re-checked against the rules and robots."""
        hops = [url]
        for _ in range(6):
            r = await self._polite_get(url, **kw)
            if not r.redirect_to:
                r.url = url
                return r
            if len(hops) > 5:
                return Fetched(url=hops[0], reason=reasons.REDIRECT, detail="more than 5 redirects")
            try:
                nxt = normalise_url(r.redirect_to, url)
            except BadURL as exc:
                return Fetched(url=url, reason=reasons.REDIRECT, detail=f"bad redirect: {exc}")
            if nxt in hops:
                return Fetched(
                    url=hops[0], reason=reasons.REDIRECT, detail=f"redirect loop via {url}"
                )
            reason, detail = self.check_rules(nxt)
            if reason:
                return Fetched(url=nxt, reason=reason, detail=f"{detail} (redirected to {nxt})")
            robots = await self._robots_for(nxt)
            if robots.blocked:
                return Fetched(url=nxt, reason=reasons.BLOCKED, detail=robots.detail)
            if not robots.allowed(nxt):
                return Fetched(url=nxt, reason=reasons.ROBOTS, detail=f"redirected to {nxt}")
            hops.append(nxt)
            url = nxt
        return Fetched(url=hops[0], reason=reasons.REDIRECT, detail="more than 5 redirects")

    async def _worker(self):
        while True:
            item = await self._queue.get()
            if item is None or self._stopping:
                return
            if isinstance(item, Outcome):
                await self._emit(item)
                continue
            url = item
            try:
                outcome = await self._visit(url)
            except Exception as exc:  # noqa: BLE001 - one URL must never stop the crawl
                outcome = Outcome(
                    url=url, reason=reasons.ERROR, detail=f"{type(exc).__name__}: {exc}"
                )
            outcome.scheduled_url = url
            await self._emit(outcome)

    async def _visit(self, url: str) -> Outcome:
        robots = await self._robots_for(url)
        if robots.blocked:
            return Outcome(url=url, reason=reasons.BLOCKED, detail=robots.detail)
        if not robots.allowed(url):
            detail = robots.detail if robots.disallow_all else "disallowed by robots.txt"
            return Outcome(url=url, reason=reasons.ROBOTS, detail=detail)
        etag, modified = self.plan.known.get(url, ("", ""))
        r = await self._follow(url, etag=etag, last_modified=modified)
        if r.url != url:
            key = dedupe_key(r.url)
            if key != dedupe_key(url):
                if key in self.seen and not r.reason:
                    return Outcome(
                        url=url, reason=reasons.DUPLICATE, detail=f"redirects to {r.url}"
                    )
                self._seen_add(key)
        out = Outcome(url=r.url, fetched=r, reason=r.reason, detail=r.detail)
        if not r.reason and 200 <= r.status < 300:
            out.prepared = await asyncio.get_running_loop().run_in_executor(None, prepare_html, r)
            # The body is no longer needed; up to 10 MiB per queued page otherwise.
            r.body = b""
        return out
