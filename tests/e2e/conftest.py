"""Browser tests: Debian's Chromium driven by Playwright, against the real ASGI server.

Origins in these tests:
- Cloop (widget.js, the frame, the WebSocket, the demo pages): http://localhost:<port>
- a foreign host page (not an allowed origin): http://127.0.0.1:<other port>

The session site `site-a` plays the demo site: its URL becomes the demo's and its allowed
origin Cloop's own; both are restored afterwards. Chromium is never downloaded: set
CLOOP_CHROMIUM to another binary if needed. With CLOOP_REQUIRE_BROWSER=1 (CI) a missing
browser fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from tests.conversations.conftest import smtp_server  # noqa: F401 - loopback SMTP fixture
from widget import demo

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VENDOR = Path(__file__).resolve().parent / "vendor"


def chromium_path() -> str | None:
    explicit = os.environ.get("CLOOP_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def chromium():
    path = chromium_path()
    if path is None:
        reason = "Chromium not found: apt-get install -y chromium (or set CLOOP_CHROMIUM)"
        if os.environ.get("CLOOP_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def _playwright(chromium):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; Django's guard would then
    # refuse the test's own ORM calls, which are safe here (plain sync test code).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()
        pw.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class Requests:
    """Every URL the browser asked for (pages, frames, scripts, images, sockets)."""

    def __init__(self):
        self.urls: list[str] = []

    def hosts(self) -> set[str]:
        from urllib.parse import urlsplit

        return {urlsplit(u).netloc for u in self.urls if u.startswith(("http", "ws"))}


@pytest.fixture
def browser_context(_playwright):
    """A fresh browser profile (empty storage) per test, desktop size."""
    ctx = _playwright.new_context(viewport={"width": 1280, "height": 800})
    ctx.requests = Requests()
    ctx.on("request", lambda r: ctx.requests.urls.append(r.url))
    ctx.on("websocket", lambda ws: ctx.requests.urls.append(ws.url))
    ctx.set_default_timeout(15000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(browser_context):
    p = browser_context.new_page()
    p.errors = []
    p.on("pageerror", lambda e: p.errors.append(str(e)))
    return p


def demo_url(server, slug: str = "home") -> str:
    origin = f"http://localhost:{server.port}"
    return f"{origin}/demo/" if slug == "home" else f"{origin}/demo/{slug}/"


@pytest.fixture
def demo_site(live_server, settings, site_a):
    """site-a as the demo site: Cloop's own origin allowed, the demo pages indexed."""
    from crawler.index import index_html
    from tenants.models import Site

    origin = f"http://localhost:{live_server.port}"
    before = Site.objects.filter(pk=site_a.pk).values("url", "allowed_origins").get()
    Site.objects.filter(pk=site_a.pk).update(url=f"{origin}/demo/", allowed_origins=[origin])
    settings.CLOOP_DEMO_SITE_ID = site_a.site_id
    site = Site.objects.get(pk=site_a.pk)
    import httpx

    with tenant_context(site):
        for slug in demo.PAGES:
            url = demo_url(live_server, slug)
            index_html(url, httpx.get(url, timeout=10).text)
    connection.set_schema_to_public()
    try:
        yield site
    finally:
        Site.objects.filter(pk=site_a.pk).update(**before)


class _HostPage(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        body = self.server.pages.get(self.path.split("?")[0])
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def foreign_host():
    """Another loopback origin (127.0.0.1:<port>) serving pages the test puts in `.pages`."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _HostPage)
    httpd.daemon_threads = True
    httpd.pages = {}
    httpd.origin = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def screenshot_path(tmp_path, name: str) -> Path:
    """Where a test saves a screenshot: $CLOOP_SCREENSHOTS_DIR (e.g. docs/) when set."""
    out = os.environ.get("CLOOP_SCREENSHOTS_DIR")
    return Path(out) / name if out else tmp_path / name


def foreign_shop(foreign_host, live_server, site) -> str:
    """The URL of a page on the foreign origin, now allowed for `site`, embedding its widget."""
    from tenants.models import Site

    Site.objects.filter(pk=site.pk).update(
        allowed_origins=[*site.allowed_origins, foreign_host.origin]
    )
    cloop = f"http://localhost:{live_server.port}"
    foreign_host.pages["/shop.html"] = (
        '<!doctype html><html lang="en"><title>Shop</title><h1>Shop</h1>'
        f'<script src="{cloop}/widget.js" data-site="{site.site_id}" async></script>'
    )
    return foreign_host.origin + "/shop.html"


def chat_frame(page):
    """Open the widget and return the chat window's Frame once its input is there."""
    page.locator('[data-cloop="launcher"]').click()
    handle = page.wait_for_selector('iframe[data-cloop="frame"]')
    frame = handle.content_frame()
    # The input is in the HTML before the window's script has attached its handlers.
    frame.wait_for_selector("html[data-cloop-ready]", state="attached")
    return frame


def ask(frame, text: str):
    frame.fill('[data-cloop="input"]', text)
    frame.press('[data-cloop="input"]', "Enter")


@pytest.fixture
def loopback_model(settings, monkeypatch):
    """The answer model: the loopback OpenAI-compatible server (set `.reply`, `.mode`)."""
    from tests.conversations.llm_server import LoopbackOpenAI

    server = LoopbackOpenAI().start()
    monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback")
    settings.CLOOP_LLM_MODEL = "openai/gpt-4o-mini"
    try:
        yield server
    finally:
        server.stop()
