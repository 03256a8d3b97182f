import pytest

from crawler import reasons
from crawler.fetch import Fetcher, FetchOptions
from crawler.ssrf import address_is_public
from tests.crawler.conftest import SiteServer


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - an address under test, not a bind
        "224.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::7f00:1",
        "2002:7f00:1::1",
        "::127.0.0.1",
        "not-an-ip",
    ],
)
def test_it_refuses_addresses_that_are_not_public(address):
    assert not address_is_public(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_it_accepts_public_addresses(address):
    assert address_is_public(address)


@pytest.fixture
def internal():
    """A server that must never be reached: it plays an internal service."""
    s = SiteServer("127.0.0.1").start()
    s.page("/secret", "<html><body>secret</body></html>")
    yield s
    s.stop()


@pytest.fixture
def front():
    """A server the guard lets through by explicit exemption, on another loopback address."""
    s = SiteServer("127.0.0.2").start()
    yield s
    s.stop()


async def _get(url, front=None, resolver=None):
    allow = (f"127.0.0.2:{front.port}",) if front else ()
    f = Fetcher(FetchOptions(retries=0, total_timeout=3, allow_addresses=allow), resolver=resolver)
    try:
        return await f.get(url)
    finally:
        await f.aclose()


async def test_it_blocks_loopback_with_the_guard_on(settings, internal):
    settings.CLOOP_CRAWL_ALLOW_PRIVATE = False
    r = await _get(f"http://127.0.0.1:{internal.port}/secret")
    assert r.reason == reasons.BLOCKED
    assert internal.requests == []


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "[::ffff:127.0.0.1]", "2130706433", "0x7f.1", "017700000001", "127.1"]
)
async def test_it_blocks_odd_notations_of_loopback(settings, internal, host):
    settings.CLOOP_CRAWL_ALLOW_PRIVATE = False
    r = await _get(f"http://{host}:{internal.port}/secret")
    assert r.reason == reasons.BLOCKED
    assert internal.requests == []


async def test_it_checks_every_resolved_address(settings, internal):
    """A name with one harmless and one internal address is refused before any connection."""
    settings.CLOOP_CRAWL_ALLOW_PRIVATE = False

    def resolver(host, port):
        return ["93.184.216.34", "127.0.0.1"]

    r = await _get(f"http://docs.example.test:{internal.port}/secret", resolver=resolver)
    assert r.reason == reasons.BLOCKED and "127.0.0.1" in r.detail
    assert internal.requests == []


async def test_it_refuses_non_web_ports_with_the_guard_on(settings):
    settings.CLOOP_CRAWL_ALLOW_PRIVATE = False
    r = await _get("http://93.184.216.34:6379/", resolver=lambda h, p: ["93.184.216.34"])
    assert r.reason == reasons.BLOCKED and "port" in r.detail


def test_it_rechecks_redirects_to_internal_addresses_during_a_crawl(
    settings, internal, front, in_site_a
):
    from crawler.models import CrawlSettings
    from crawler.services import crawl_run

    settings.CLOOP_CRAWL_ALLOW_PRIVATE = False
    targets = {
        "/to-loopback": f"http://127.0.0.1:{internal.port}/secret",
        "/to-metadata": "http://169.254.169.254/latest/meta-data/",
        "/to-mapped": f"http://[::ffff:127.0.0.1]:{internal.port}/secret",
        "/to-decimal": f"http://2130706433:{internal.port}/secret",
    }
    links = "".join(f'<a href="{p}">{p}</a>' for p in targets)
    front.page("/", f"<html><body><main><h1>Front</h1><p>Links {links}</p></main></body></html>")
    for path, target in targets.items():
        front.routes[path] = (302, {"Location": target}, "")
    cfg = CrawlSettings.load()
    cfg.start_urls = [f"http://127.0.0.2:{front.port}/"]
    cfg.allowed_hosts = [
        "127.0.0.2",
        "127.0.0.1",
        "169.254.169.254",
        "::ffff:127.0.0.1",
        "2130706433",
    ]
    cfg.save()
    run = crawl_run(
        in_site_a,
        fetch_options=FetchOptions(
            retries=0, total_timeout=3, allow_addresses=(f"127.0.0.2:{front.port}",)
        ),
    )
    blocked = {e["url"] for e in run.skipped if e["reason"] == reasons.BLOCKED}
    assert len(blocked) == 4, (run.skipped, run.error, run.notes)
    assert internal.requests == []
    assert run.pages_indexed == 1


def test_it_connects_only_to_the_address_it_checked_when_dns_rebinds(settings, front, in_site_a):
    """A name that first resolves to an allowed address, then to an internal one: every new
    connection is checked on its own answer, so the internal server is never reached."""
    from crawler.models import CrawlSettings
    from crawler.services import crawl_run

    settings.CLOOP_CRAWL_ALLOW_PRIVATE = False
    # The internal service listens on the same port number, so only the address differs.
    internal = SiteServer("127.0.0.1", port=front.port).start()
    internal.page("/next", "<html><body>internal</body></html>")
    answers = []

    def rebinding(host, port):
        answers.append(host)
        return ["127.0.0.2"] if len(answers) == 1 else ["127.0.0.1"]

    close = {"Connection": "close"}  # so the next request needs a new connection
    front.routes["/robots.txt"] = (404, close, "")
    front.page(
        "/", '<html><body><main><p>Start <a href="/next">next</a></p></main></body></html>', **close
    )
    cfg = CrawlSettings.load()
    cfg.start_urls = [f"http://docs.rebind.test:{front.port}/"]
    cfg.save()
    try:
        run = crawl_run(
            in_site_a,
            resolver=rebinding,
            fetch_options=FetchOptions(
                retries=0, total_timeout=3, allow_addresses=(f"127.0.0.2:{front.port}",)
            ),
        )
    finally:
        internal.stop()
    assert len(answers) >= 2
    assert internal.requests == []
    assert any(e["reason"] == reasons.BLOCKED for e in run.skipped), run.skipped
