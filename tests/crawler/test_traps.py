"""URL traps: generated sites on loopback, crawled whole unless a URL space is endless."""

import datetime
import json
import re
from io import StringIO

import pytest
from django.core.management import call_command

from crawler import reasons, traps
from crawler.models import CrawlRun, CrawlSettings, Page
from crawler.services import crawl_run
from crawler.traps import TrapGuard, TrapLimits
from tests.crawler.conftest import FAST, html_page

NOT_FOUND = (404, {}, "<html><body>Not found</body></html>")


def _budget(n):
    cfg = CrawlSettings.load()
    cfg.max_pages = n
    cfg.save()


def test_it_crawls_all_300_release_notes_of_a_documentation_site(web, site):
    versions = [f"1.{minor}.{patch}" for minor in range(15) for patch in range(20)]
    notes = [f"/releases/{v}.html" for v in versions]
    web.page("/", html_page("Docs", "<p>Product documentation.</p>", links=["/releases/"]))
    web.page("/releases/", html_page("Release notes", "<p>Every release.</p>", links=notes))
    for v, path in zip(versions, notes, strict=True):
        web.page(path, html_page(f"Release {v}", f"<p>Changes in version {v}: fixes.</p>"))
    run = crawl_run(site, fetch_options=FAST)
    assert run.status == CrawlRun.Status.SUCCEEDED
    assert run.pages_indexed == 302, {e["reason"] for e in run.skipped}
    assert run.skipped == [] and run.traps == {}


def test_it_crawls_a_shop_with_2000_products_of_one_shape(web, site):
    _budget(2100)
    categories = [f"/category/{c}" for c in range(20)]
    web.page("/", html_page("Shop", "<p>Everything for cyclists.</p>", links=categories))
    for c, path in enumerate(categories):
        products = [f"/product/{c * 100 + i}" for i in range(100)]
        web.page(path, html_page(f"Category {c}", f"<p>Category {c}.</p>", links=products))

    def product(handler):
        m = re.fullmatch(r"/product/(\d+)", handler.path)
        if not m:
            return NOT_FOUND
        n = m.group(1)
        return (200, {}, html_page(f"Product {n}", f"<p>Product number {n} in stock.</p>"))

    web.fallback = product
    run = crawl_run(site, concurrency=4, fetch_options=FAST)
    assert run.status == CrawlRun.Status.SUCCEEDED
    assert run.pages_indexed == 2021 and run.skipped == []
    assert Page.objects.filter(url__contains="/product/").count() == 2000


def _trap_site(web):
    articles = [f"/articles/{i}-how-to-fix-a-puncture-part-{i}" for i in range(40)]
    entry = ["/events/2026-01/", "/more/", "/deep/1/", "/list?a=1", *articles]
    web.page("/", html_page("Home", "<p>A site with traps.</p>", links=entry))
    for i, path in enumerate(articles):
        web.page(path, html_page(f"Article {i}", f"<p>Article {i} on tyre repair.</p>"))

    def generated(handler):
        path = handler.path
        m = re.fullmatch(r"/events/(\d{4})-(\d{2})/", path)
        if m:  # a calendar: previous and next month, for ever
            y, mo = int(m.group(1)), int(m.group(2))
            prev = f"/events/{y - (mo == 1)}-{12 if mo == 1 else mo - 1:02d}/"
            nxt = f"/events/{y + (mo == 12)}-{1 if mo == 12 else mo + 1:02d}/"
            body = f"<p>No events in {y}-{mo:02d}.</p>"
            return (200, {}, html_page(f"Events {y}-{mo:02d}", body, links=[prev, nxt]))
        if path.startswith("/more/"):  # a relative link that appends itself
            return (200, {}, html_page(path, f"<p>More {len(path)}.</p>", links=["more/"]))
        if path.startswith("/deep/"):  # ever deeper, every segment new
            n = path.rstrip("/").rsplit("/", 1)[1]
            return (200, {}, html_page(path, f"<p>Level {n}.</p>", links=[f"{int(n) + 1}/"]))
        if path.startswith("/list?"):  # facets: every page adds one more filter
            query = path.split("?", 1)[1]
            links = [f"/list?{query}&{f}=1" for f in "bcdefghij" if f"{f}=" not in query]
            links += [f"/list?{f}=1" for f in "bcdefghij"]
            return (200, {}, html_page(query, f"<p>Filtered by {query}.</p>", links=links))
        return NOT_FOUND

    web.fallback = generated
    return articles


def test_it_escapes_traps_and_reports_the_rule_that_fired(web, site):
    articles = _trap_site(web)
    out = StringIO()
    call_command("crawl", "site-a", "--json", stdout=out, stderr=StringIO())
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    run = CrawlRun.objects.get()
    assert run.status == CrawlRun.Status.SUCCEEDED
    # Every real page is indexed and the traps did not eat the page budget.
    assert all(Page.objects.filter(url__endswith=a).exists() for a in articles)
    assert reasons.BUDGET not in {e["reason"] for e in run.skipped}
    assert set(run.traps) >= {
        traps.CALENDAR,
        traps.REPEATING_SEGMENTS,
        traps.UNBOUNDED_DEPTH,
        traps.PARAM_PERMUTATIONS,
    }
    assert summary["traps"] == run.traps
    trap_skips = [e for e in run.skipped if e["reason"] == reasons.TRAP]
    assert trap_skips and all(e["rule"] in traps.RULES for e in trap_skips)
    calendar = [p for p in web.paths() if p.startswith("/events/")]
    assert len(calendar) <= TrapLimits().max_dates_per_page


def test_it_recognises_each_trap_by_its_rule():
    today = datetime.date(2026, 12, 2)
    guard = TrapGuard(TrapLimits(max_param_sets=2, max_dates_per_page=3), today=today)
    rule = lambda url: guard.rule_for(url)[0]  # noqa: E731
    assert rule("https://s.test/releases/1.5.12.html") == ""
    assert rule("https://s.test/product/20151231") == ""  # 8 digits, no separators: an id
    assert rule("https://s.test/" + "x" * 1000) == traps.URL_TOO_LONG
    assert rule("https://s.test/" + "/".join("abcdefghijklmnop")) == traps.UNBOUNDED_DEPTH
    assert rule("https://s.test/a/b/a/b/a/") == traps.REPEATING_SEGMENTS
    assert rule("https://s.test/l?" + "&".join(f"k{i}=1" for i in range(7))) == (
        traps.TOO_MANY_PARAMS
    )
    assert rule("https://s.test/events/2028-11-30/") == ""
    assert rule("https://s.test/events/2029-01-01/") == traps.CALENDAR
    assert rule("https://s.test/cal?year=2031&month=2") == traps.CALENDAR
    assert rule("https://s.test/cal?date=20310101") == traps.CALENDAR
    assert rule("https://s.test/cal?from=2031-01-01") == traps.CALENDAR
    assert rule("https://s.test/p?id=20310101") == ""  # a number, not a date
    admit = lambda url: guard.admit(url)[0]  # noqa: E731
    # One page shown for ever more dates.
    assert [admit(f"https://s.test/day/2020-01-0{d}") for d in range(1, 5)] == [
        "",
        "",
        "",
        traps.CALENDAR,
    ]
    # Dated posts with their own slugs are pages of their own.
    assert all(admit(f"https://s.test/2020/01/0{d}/post-{d}") == "" for d in range(1, 9))
    # Any number of values of the same parameters; a third combination of names is a trap.
    assert all(admit(f"https://s.test/product?id={n}") == "" for n in range(50))
    assert admit("https://s.test/product?id=1&sort=price") == ""
    assert admit("https://s.test/product?colour=red&id=1") == traps.PARAM_PERMUTATIONS
    # The counters survive a round trip through the saved frontier (JSON).
    again = TrapGuard(guard.limits, state=json.loads(json.dumps(guard.state())), today=today)
    assert again.admit("https://s.test/day/2020-01-09")[0] == traps.CALENDAR
    assert again.admit("https://s.test/product?colour=red&id=1")[0] == traps.PARAM_PERMUTATIONS
    assert again.admit("https://s.test/product?id=99&sort=name")[0] == ""


def test_it_keeps_the_url_trap_limits_when_a_crawl_resumes(web, site):
    web.page("/", html_page("Home", "<p>Events every day.</p>", links=["/day/2020-01-01/"]))

    def day(handler):
        m = re.fullmatch(r"/day/(\d{4}-\d{2}-\d{2})/", handler.path)
        if not m:
            return NOT_FOUND
        d = datetime.date.fromisoformat(m.group(1))
        nxt = f"/day/{d + datetime.timedelta(days=1)}/"
        return (200, {}, html_page(f"Day {d}", f"<p>Nothing on {d}.</p>", links=[nxt]))

    web.fallback = day
    limits = TrapLimits(max_dates_per_page=10)

    def stop_midway(run):
        if run.pages_fetched == 6:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        crawl_run(site, progress=stop_midway, concurrency=1, fetch_options=FAST, traps=limits)
    resumed = crawl_run(site, concurrency=1, fetch_options=FAST, traps=limits)
    assert resumed.status == CrawlRun.Status.SUCCEEDED
    days = {p for p in web.paths() if p.startswith("/day/")}
    assert len(days) == 10
    assert resumed.traps == {traps.CALENDAR: 1}
