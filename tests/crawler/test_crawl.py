"""Whole crawls against a real HTTP server on loopback (the site), with the real database."""

import gzip
import threading
import time
from urllib.parse import urlsplit

import pytest
from django_tenants.utils import tenant_context

from crawler import reasons
from crawler.fetch import FetchOptions
from crawler.models import Chunk, CrawlRun, CrawlSettings, Page
from crawler.search import search
from crawler.services import crawl_run
from tests.crawler.conftest import FAST, html_page


def _reasons(run):
    """{path without the leading slash (and query): reason} of the run's report."""
    out = {}
    for e in run.skipped:
        try:
            p = urlsplit(e["url"])
        except ValueError:
            out[e["url"]] = e["reason"]
            continue
        out[p.path.lstrip("/") + (f"?{p.query}" if p.query else "")] = e["reason"]
    return out


def test_it_crawls_a_small_site_and_answers_from_it(web, site):
    web.page("/", html_page("Home", "<p>Welcome to the bakery.</p>", links=["/bread", "/cakes"]))
    web.page(
        "/bread",
        html_page("Bread", "<h2 id='rye'>Rye bread</h2><p>Our sourdough rye is baked daily.</p>"),
    )
    web.page("/cakes", html_page("Cakes", "<p>Birthday cakes need two days notice.</p>"))
    run = crawl_run(site, fetch_options=FAST)
    assert run.status == CrawlRun.Status.SUCCEEDED
    assert (run.pages_fetched, run.pages_indexed, run.pages_skipped) == (3, 3, 0)
    with tenant_context(site):
        hits = search("sourdough rye")
    assert hits[0].url == web.url + "/bread#rye"


def test_it_defaults_the_start_url_to_the_site_url(web, allow_private, in_site_a):
    from tenants.models import Site

    web.page("/", html_page("Home", "<p>Default start page text.</p>"))
    Site.objects.filter(pk=in_site_a.pk).update(url=web.url + "/")
    in_site_a.url = web.url + "/"
    try:
        run = crawl_run(in_site_a, fetch_options=FAST)
    finally:
        Site.objects.filter(pk=in_site_a.pk).update(url="http://site-a.test/")
        in_site_a.url = "http://site-a.test/"
    assert run.pages_indexed == 1
    assert Page.objects.get().url == web.url + "/"


def test_it_obeys_robots_txt_and_its_crawl_delay(web, site):
    web.page(
        "/robots.txt",
        "User-agent: *\nDisallow: /private\nCrawl-delay: 0.3\n",
        **{"Content-Type": "text/plain"},
    )
    web.page("/", html_page("Home", "<p>Home page text.</p>", links=["/a", "/b", "/private/x"]))
    web.page("/a", html_page("A", "<p>Page a text.</p>"))
    web.page("/b", html_page("B", "<p>Page b text.</p>"))
    web.page("/private/x", html_page("X", "<p>secret</p>"))
    run = crawl_run(site, fetch_options=FAST)
    assert _reasons(run) == {"private/x": reasons.ROBOTS}
    assert web.count("/private/x") == 0
    times = [t for p, _, t in web.requests if p in ("/", "/a", "/b")]
    assert len(times) == 3 and max(times) - min(times) >= 0.55


@pytest.mark.parametrize(
    "robots",
    [
        (200, "", "text/plain"),
        (200, "\x00\xff garbage ### Disallow", "text/plain"),
        (200, "User-agent: *\nAllow: /\n" + "Disallow: /nothing-here\n" * 60000, "text/plain"),
        (200, "<html><body>Not a robots file</body></html>", "text/html"),
        (404, "", "text/html"),
    ],
    ids=["empty", "garbage", "huge", "html", "missing"],
)
def test_it_crawls_despite_odd_robots_txt(web, site, robots):
    status, body, ctype = robots
    web.page("/robots.txt", body, status=status, **{"Content-Type": ctype})
    web.page("/", html_page("Home", "<p>Home page text.</p>"))
    run = crawl_run(site, fetch_options=FAST)
    assert run.status == CrawlRun.Status.SUCCEEDED and run.pages_indexed == 1


def test_it_keeps_the_index_when_robots_txt_is_unreachable(web, site):
    web.page("/", html_page("Home", "<p>Original home text about pastries.</p>"))
    assert crawl_run(site, fetch_options=FAST).pages_indexed == 1
    web.page("/robots.txt", "oops", status=503)
    run = crawl_run(site, fetch_options=FAST)
    assert run.status == CrawlRun.Status.FAILED
    assert "robots.txt unreachable" in run.error
    assert web.count("/") == 1  # RFC 9309: unreachable robots.txt means disallow everything
    assert Page.objects.count() == 1 and search("pastries")


def test_it_crawls_nothing_when_robots_txt_cannot_be_parsed(web, site):
    # Latin-1, not the UTF-8 RFC 9309 requires: what the rule forbids cannot be known.
    web.routes["/robots.txt"] = (
        200,
        {"Content-Type": "text/plain"},
        b"User-agent: *\nDisallow: /priv\xe9/\n",
    )
    web.page("/", html_page("Home", "<p>Home page text.</p>", links=["/a"]))
    run = crawl_run(site, fetch_options=FAST)
    assert run.status == CrawlRun.Status.FAILED
    assert "robots.txt could not be parsed" in run.error
    assert "robots.txt could not be parsed" in run.notes
    assert [e["detail"] for e in run.skipped] == ["robots.txt could not be parsed: disallow all"]
    assert web.count("/") == 0


def test_it_crawls_nothing_and_says_why_when_robots_txt_answers_5xx(web, site):
    web.page("/robots.txt", "down", status=500)
    web.page("/", html_page("Home", "<p>Home page text.</p>"))
    run = crawl_run(site, fetch_options=FAST)
    assert run.status == CrawlRun.Status.FAILED
    assert "robots.txt unreachable (500)" in run.notes
    assert run.skipped[0]["reason"] == reasons.ROBOTS
    assert run.skipped[0]["detail"].startswith("robots.txt unreachable (500)")
    assert web.count("/") == 0


def test_it_discovers_pages_from_sitemaps_indexes_and_gzip(web, site):
    web.page("/", html_page("Home", "<p>Home page text.</p>"))
    web.page(
        "/robots.txt", f"Sitemap: {web.url}/sitemap_index.xml\n", **{"Content-Type": "text/plain"}
    )
    web.page(
        "/sitemap_index.xml",
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{web.url}/pages.xml.gz</loc></sitemap>"
        f"<sitemap><loc>{web.url}/garbage.xml</loc></sitemap></sitemapindex>",
        **{"Content-Type": "application/xml"},
    )
    urlset = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{web.url}/hidden</loc></url><url><loc>https://elsewhere.test/x</loc></url></urlset>"
    )
    web.routes["/pages.xml.gz"] = (
        200,
        {"Content-Type": "application/x-gzip"},
        gzip.compress(urlset.encode()),
    )
    web.routes["/garbage.xml"] = (
        200,
        {"Content-Type": "application/xml"},
        b"\x00\x01<<<not xml at all",
    )
    web.page("/hidden", html_page("Hidden", "<p>Only the sitemap links to this page.</p>"))
    run = crawl_run(site, fetch_options=FAST)
    assert Page.objects.filter(url=web.url + "/hidden").exists()
    assert _reasons(run) == {"x": reasons.OFF_SITE}, run.skipped
    assert "garbage.xml" in run.notes
    assert run.status == CrawlRun.Status.SUCCEEDED


def test_it_reports_every_url_it_does_not_index_with_a_reason(web, site):
    cfg = CrawlSettings.load()
    cfg.exclude_patterns = ["/cart*"]
    cfg.save()
    links = [
        "https://elsewhere.test/page",
        "/cart/checkout",
        "/image",
        "/binary",
        "/huge",
        "/broken",
        "/missing",
        "/copy",
        "/hidden",
        "/loop1",
        "/slow",
        "mailto:someone@example.com",
        "http://[::1/broken-link",
    ]
    body = "<p>The home page of a site with many odd pages.</p>"
    web.page("/", html_page("Home", body, links=links))
    web.routes["/image"] = (200, {"Content-Type": "image/png"}, b"\x89PNG....")
    web.routes["/binary"] = (200, {"Content-Type": "text/html"}, b"\x00\x01\x02\x03" * 100)
    web.page(
        "/huge", "<html><body><main><p>" + "x" * (11 * 1024 * 1024) + "</p></main></body></html>"
    )
    web.page("/broken", "error", status=500)
    web.page("/copy", html_page("Home", body, links=links))
    web.page(
        "/hidden",
        html_page(
            "Hidden",
            "<p>Not for search engines.</p>",
            head="<meta name='robots' content='noindex'>",
        ),
    )
    web.routes["/loop1"] = (302, {"Location": "/loop2"}, "")
    web.routes["/loop2"] = (302, {"Location": "/loop1"}, "")

    # The slow page answers only after the crawl has ended: "slow" reported as an error means
    # the crawl gave up on it (no bound on the elapsed time, which a loaded machine stretches).
    crawl_done = threading.Event()

    def slow(handler):
        crawl_done.wait(60)
        return (200, {}, html_page("Slow", "<p>slow</p>"))

    web.routes["/slow"] = slow
    try:
        run = crawl_run(
            site,
            fetch_options=FetchOptions(
                connect_timeout=1, read_timeout=1, total_timeout=1.5, retries=1, backoff=0.05
            ),
        )
    finally:
        crawl_done.set()
    got = _reasons(run)
    assert got == {
        "page": reasons.OFF_SITE,
        "cart/checkout": reasons.EXCLUDED,
        "image": reasons.NOT_HTML,
        "binary": reasons.NOT_HTML,
        "huge": reasons.TOO_LARGE,
        "broken": reasons.HTTP_STATUS,
        "missing": reasons.HTTP_STATUS,
        "copy": reasons.DUPLICATE,
        "hidden": reasons.NOINDEX,
        "loop1": reasons.REDIRECT,
        "slow": reasons.ERROR,
        "http://[::1/broken-link": reasons.BAD_URL,
    }
    assert web.count("/cart/checkout") == 0
    assert web.count("/broken") == 2  # retried once
    assert run.status == CrawlRun.Status.SUCCEEDED and run.pages_indexed == 1
    assert run.errors >= 3  # 500, redirect loop, timeout


def test_it_stops_at_the_page_budget_and_escapes_url_traps(web, site):
    def calendar(handler):
        n = int(handler.path.split("=")[1])
        return (
            200,
            {},
            html_page(
                f"Month {n}",
                f"<p>Events in month number {n}.</p>",
                links=[f"/cal?m={n + 1}", f"/cal?m={n + 1}&sid=abc{n}"],
            ),
        )

    web.page("/", html_page("Home", "<p>Home page text.</p>", links=["/cal?m=1"]))
    for n in range(1, 400):
        web.routes[f"/cal?m={n}"] = calendar
    run = crawl_run(site, max_pages=30, fetch_options=FAST)
    assert run.pages_fetched == 30
    assert reasons.BUDGET in {e["reason"] for e in run.skipped}
    # The session id variant is the same URL, fetched once.
    assert all(web.count(f"/cal?m={n}") <= 1 for n in range(1, 40))


def test_it_retries_overload_honouring_retry_after(web, site):
    calls = []

    def busy(handler):
        calls.append(time.monotonic())
        if len(calls) == 1:
            return (503, {"Retry-After": "1"}, "busy")
        return (200, {}, html_page("Home", "<p>Finally served home page.</p>"))

    web.routes["/"] = busy
    run = crawl_run(site, fetch_options=FAST)
    assert run.pages_indexed == 1
    assert calls[1] - calls[0] >= 0.95


def test_it_follows_redirects_and_canonical_links_once(web, site):
    web.page("/", html_page("Home", "<p>Home text.</p>", links=["/old", "/print", "/docs"]))
    web.routes["/old"] = (301, {"Location": "/new"}, "")
    web.page("/new", html_page("New", "<p>The new page text.</p>"))
    web.page(
        "/print",
        html_page(
            "Print",
            "<p>Printable article text.</p>",
            head=f"<link rel='canonical' href='{web.url}/article'>",
        ),
    )
    web.page("/article", html_page("Article", "<p>Printable article text.</p>"))
    web.routes["/docs"] = (301, {"Location": "/docs/"}, "")
    web.page("/docs/", html_page("Docs", "<p>Documentation home text.</p>"))
    run = crawl_run(site, fetch_options=FAST)
    urls = set(Page.objects.values_list("url", flat=True))
    assert urls == {web.url + p for p in ("/", "/new", "/article", "/docs/")}
    assert _reasons(run) == {"print": reasons.DUPLICATE}


def test_it_writes_nothing_for_unchanged_pages_on_recrawl(web, site):
    def etagged(body, etag):
        def route(handler):
            if handler.headers.get("If-None-Match") == etag:
                return (304, {"ETag": etag}, b"")
            return (200, {"ETag": etag}, body)

        return route

    web.routes["/"] = etagged(html_page("Home", "<p>Home text.</p>", links=["/a", "/b"]), '"h1"')
    web.routes["/a"] = etagged(html_page("A", "<p>Alpha text.</p>"), '"a1"')
    web.page("/b", html_page("B", "<p>Beta text without validators.</p>"))
    first = crawl_run(site, fetch_options=FAST)
    assert first.pages_indexed == 3
    chunks = list(Chunk.objects.order_by("id").values_list("id", flat=True))
    pages = {p.url: p.indexed_at for p in Page.objects.all()}
    second = crawl_run(site, fetch_options=FAST)
    assert second.status == CrawlRun.Status.SUCCEEDED
    assert (second.pages_indexed, second.pages_unchanged) == (0, 3)
    assert list(Chunk.objects.order_by("id").values_list("id", flat=True)) == chunks
    assert {p.url: p.indexed_at for p in Page.objects.all()} == pages
    # The home page was asked conditionally and answered 304.
    assert web.requests[-3:] and any(
        h.get("If-None-Match") == '"h1"' for p, h, _ in web.requests if p == "/"
    )


def test_it_removes_gone_pages_only_after_a_complete_crawl(web, site):
    web.page("/", html_page("Home", "<p>Home text.</p>", links=["/a", "/b", "/c"]))
    for p in ("/a", "/b", "/c"):
        web.page(p, html_page(p, f"<p>Text of page {p}.</p>"))
    assert crawl_run(site, fetch_options=FAST).pages_indexed == 4
    del web.routes["/a"]  # now 404
    web.page("/", html_page("Home", "<p>Home text.</p>", links=["/a", "/b"]))  # /c unlinked
    partial = crawl_run(site, max_pages=2, fetch_options=FAST)
    assert partial.status == CrawlRun.Status.SUCCEEDED
    urls = set(Page.objects.values_list("url", flat=True))
    assert web.url + "/a" not in urls  # a 404 goes at once
    assert web.url + "/c" in urls  # an incomplete crawl cannot know /c is gone
    full = crawl_run(site, fetch_options=FAST)
    assert set(Page.objects.values_list("url", flat=True)) == {web.url + "/", web.url + "/b"}
    assert full.pages_removed == 1
    with tenant_context(site):
        assert not search("Text of page c") or all(
            "/c" not in h.url for h in search("Text of page c")
        )


def test_it_keeps_the_index_when_the_site_is_down(web, site):
    web.page("/", html_page("Home", "<p>Home text about croissants.</p>", links=["/a"]))
    web.page("/a", html_page("A", "<p>Alpha text.</p>"))
    crawl_run(site, fetch_options=FAST)
    web.routes.clear()
    web.routes["/"] = (500, {}, "down")
    run = crawl_run(site, fetch_options=FAST)
    assert run.status == CrawlRun.Status.FAILED
    assert Page.objects.count() == 2 and search("croissants")


def test_it_resumes_an_interrupted_crawl_without_refetching(web, site):
    links = [f"/p{i}" for i in range(20)]
    web.page("/", html_page("Home", "<p>Home text.</p>", links=links))
    for p in links:
        web.page(p, html_page(p, f"<p>Text of page {p}.</p>"))
    seen = []

    def stop_midway(run):
        seen.append(run.pages_fetched)
        if run.pages_fetched == 8:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        crawl_run(site, progress=stop_midway, concurrency=1, fetch_options=FAST)
    first = CrawlRun.objects.get()
    assert first.status == CrawlRun.Status.INTERRUPTED and first.frontier["todo"]
    assert Page.objects.count() == 8
    written = {urlsplit(u).path for u in Page.objects.values_list("url", flat=True)}
    resumed = crawl_run(site, fetch_options=FAST)
    assert resumed.status == CrawlRun.Status.SUCCEEDED
    assert Page.objects.count() == 21
    # Pages fetched ahead but not yet written when the crawl stopped are fetched again (how
    # many depends on the machine's speed); no page the first run wrote is.
    fetched_twice = {p for p in ["/", *links] if web.count(p) > 1}
    assert not fetched_twice & written
    first.refresh_from_db()
    assert first.status == CrawlRun.Status.FAILED and str(resumed.pk) in first.error


def test_it_finishes_a_run_whose_worker_died_when_the_task_is_redelivered(web, site):
    from crawler.tasks import crawl_site

    links = [f"/p{i}" for i in range(12)]
    web.page("/", html_page("Home", "<p>Home text.</p>", links=links))
    for p in links:
        web.page(p, html_page(p, f"<p>Text of page {p}.</p>"))

    def die(run):
        if run.pages_fetched == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        crawl_run(site, progress=die, concurrency=1, fetch_options=FAST)
    # A killed worker leaves its run marked running (nothing ran its clean-up).
    CrawlRun.objects.update(status=CrawlRun.Status.RUNNING)
    run = CrawlRun.objects.get()
    summary = crawl_site.run(run.pk)  # the redelivered message, in the site's schema
    assert summary["status"] == "succeeded"
    assert CrawlRun.objects.count() == 1
    assert Page.objects.count() == 13
    assert Chunk.objects.count() == Page.objects.count()  # one section each, no duplicates
    assert crawl_site.run(run.pk)["status"] == "succeeded"  # and once more: nothing to do
    assert Page.objects.count() == 13


def test_it_reads_pages_with_wrong_or_missing_charsets(web, site):
    web.page("/", html_page("Home", "<p>Home text.</p>", links=["/mislabelled", "/unlabelled"]))
    body = (
        "<html><body><main><h1>Kahvila</h1><p>Päivän keitto ja jälkiruoka.</p></main></body></html>"
    )
    web.routes["/mislabelled"] = (
        200,
        {"Content-Type": "text/html; charset=utf-8"},
        body.encode("cp1252"),
    )
    meta = body.replace("<html>", "<html><head><meta charset='iso-8859-1'></head>")
    web.routes["/unlabelled"] = (
        200,
        {"Content-Type": "text/html"},
        meta.replace("Kahvila", "Ravintola").encode("latin-1"),
    )
    run = crawl_run(site, fetch_options=FAST)
    assert run.pages_indexed == 3
    texts = {c.page.url.rsplit("/", 1)[-1]: c.text for c in Chunk.objects.select_related("page")}
    assert "Päivän keitto" in texts["mislabelled"]
    assert "Päivän keitto" in texts["unlabelled"]


def test_it_fails_clearly_when_robots_txt_disallows_everything(web, site):
    web.page("/robots.txt", "User-agent: *\nDisallow: /\n", **{"Content-Type": "text/plain"})
    web.page("/", html_page("Home", "<p>Home text.</p>"))
    run = crawl_run(site, fetch_options=FAST)
    assert run.status == CrawlRun.Status.FAILED
    assert "robots" in run.error
    assert web.count("/") == 0


def test_it_does_not_refetch_pages_written_after_the_last_snapshot(web, site):
    """A worker killed between two snapshots: the pages it wrote count as done."""
    links = [f"/p{i}" for i in range(15)]
    web.page("/", html_page("Home", "<p>Home text.</p>", links=links))
    for p in links:
        web.page(p, html_page(p, f"<p>Text of page {p}.</p>", links=[f"/deep{p}"]))
        web.page(f"/deep{p}", html_page(p, f"<p>Deep text under {p}.</p>"))
    early = {}

    def die(run):
        if run.pages_fetched == 1:
            early.update(run.frontier)  # the snapshot taken after the first page
        if run.pages_fetched == 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        crawl_run(site, progress=die, concurrency=1, fetch_options=FAST)
    assert early["todo"]
    written = {urlsplit(u).path for u in Page.objects.values_list("url", flat=True)}
    # As if killed: the final snapshot never happened and the run still says running.
    CrawlRun.objects.update(status=CrawlRun.Status.RUNNING, frontier=early)
    run = crawl_run(site, fetch_options=FAST)
    assert run.status == CrawlRun.Status.SUCCEEDED
    assert Page.objects.count() == 31
    # Only pages fetched ahead and never written are fetched again (how many depends on the
    # machine's speed).
    refetched = {p for p in {r[0] for r in web.requests} if web.count(p) > 1}
    assert not refetched & written, refetched


def test_it_refuses_pages_that_decompress_past_the_size_cap(web, site):
    import brotli

    from crawler.fetch import MAX_BYTES

    bomb = (
        "<html><body><main><p>" + "x" * (MAX_BYTES + 1024) + "</p></main></body></html>"
    ).encode()
    web.page("/", html_page("Home", "<p>Links to two bombs.</p>", links=["/br", "/gz"]))
    web.routes["/br"] = (200, {"Content-Encoding": "br"}, brotli.compress(bomb, quality=1))
    web.routes["/gz"] = (200, {"Content-Encoding": "gzip"}, gzip.compress(bomb, 1))
    run = crawl_run(site)
    got = _reasons(run)
    assert got["br"] == reasons.TOO_LARGE and got["gz"] == reasons.TOO_LARGE
    assert run.pages_indexed == 1
