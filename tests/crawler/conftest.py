"""A real HTTP server on loopback that plays the customer's website.

Routes map a path (with query) to a response: (status, headers, body), or a callable taking
the handler and returning one; `server.fallback` (such a callable) answers paths without a
route, for generated sites. Every request is recorded in `server.requests`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from crawler.fetch import FetchOptions
from crawler.models import CrawlSettings
from crawler.runs import crawl_lock_release, crawl_lock_try


class SiteServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.routes: dict = {}
        self.fallback = None
        self.requests: list[tuple[str, dict, float]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append((self.path, dict(self.headers), time.monotonic()))
                route = server.routes.get(self.path) or server.fallback
                if route is None:
                    route = (
                        404,
                        {"Content-Type": "text/html"},
                        b"<html><body>Not found</body></html>",
                    )
                if callable(route):
                    route = route(self)
                    if route is None:
                        return
                status, headers, body = route
                if isinstance(body, str):
                    body = body.encode()
                self.send_response(status)
                headers = dict(headers)
                headers.setdefault("Content-Type", "text/html; charset=utf-8")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def page(self, path: str, html: str, status: int = 200, **headers):
        self.routes[path] = (status, headers, html)

    def paths(self) -> list[str]:
        return [r[0] for r in self.requests]

    def count(self, path: str) -> int:
        return self.paths().count(path)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def web():
    server = SiteServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def allow_private(settings):
    settings.CLOOP_CRAWL_ALLOW_PRIVATE = True


# Short timeouts and retries: every server in these tests is on loopback.
FAST = FetchOptions(connect_timeout=2, read_timeout=2, total_timeout=3, retries=2, backoff=0.05)


@pytest.fixture
def site(web, allow_private, in_site_a):
    """Site A with its crawl starting at the test web server's root."""
    cfg = CrawlSettings.load()
    cfg.start_urls = [web.url + "/"]
    cfg.save()
    return in_site_a


def html_page(title: str, body: str, *, links: list[str] = (), head: str = "") -> str:
    nav = "".join(f'<a href="{u}">{u}</a> ' for u in links)
    return (
        f"<!doctype html><html lang='en'><head><title>{title}</title>{head}</head><body>"
        f"<nav>{nav}</nav><main><h1>{title}</h1>{body}</main></body></html>"
    )


@contextlib.contextmanager
def crawl_lock_elsewhere(site):
    """While inside: another database session (a process crawling `site`) holds the site's
    crawl lock; released on exit."""
    holding, release = threading.Event(), threading.Event()

    def hold():
        try:
            with tenant_context(site):
                assert crawl_lock_try()
                holding.set()
                release.wait(30)
                crawl_lock_release()
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(30)
        yield
    finally:
        release.set()
        holder.join(30)
