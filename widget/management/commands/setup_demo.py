"""Create the `demo` site once (used by `make run`), crawl the bundled demo website, print the login.

The demo website is served by Cloop itself at <public_base_url>/demo/. `make run` calls this
before its ASGI server is up, so for the crawl the command serves the application itself for
a moment: uvicorn in a thread on a private, ephemeral port of 127.0.0.1 (never the public
port, where a client would take it for the platform and lose it a moment later). The pages
are then filed under the public URL, where visitors open them.
"""

from __future__ import annotations

import asyncio
import copy
import secrets
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.test.utils import override_settings
from django_tenants.utils import tenant_context

from crawler.index import index_stats_rebuild, page_remove
from crawler.models import CrawlSettings, Page
from crawler.services import crawl_run
from crawler.urls import BadURL, normalise_url
from tenants import urls
from tenants.management.commands._base import StaffCommand
from tenants.models import Site
from tenants.services import normalise_origin, site_create, site_get_ready
from widget.models import WidgetSettings

DEMO_ADMIN = "admin@demo.example"
DEMO_WIDGET = {
    "bot_name": "Northwind helper",
    "greeting": "Hi! I can answer questions about our bikes, prices, service and stores.",
    "starter_questions": [
        "What is the price of the E-Cruiser?",
        "Can I ride in winter?",
        "What does the warranty cover?",
    ],
    "primary_color": "#143d2b",
}


class Command(StaffCommand):
    json_flag = False
    help = "Create the demo site (idempotent), crawl the demo website once, print its admin login."

    def add_command_arguments(self, parser):
        parser.add_argument("--recrawl", action="store_true", help="crawl even if indexed")
        parser.add_argument("--no-crawl", action="store_true", help="skip the crawl")
        parser.add_argument(
            "--password-file",
            help="where the admin password is kept (default: <CLOOP_DATA_DIR>/demo-admin-password.txt)",
        )

    def run(self, **o):
        default_file = Path(settings.CLOOP_DATA_DIR) / "demo-admin-password.txt"
        secret_file = Path(o["password_file"] or default_file)
        site_id = settings.CLOOP_DEMO_SITE_ID  # the site /demo/ shows
        if not Site.objects.filter(site_id=site_id).exists():
            password = secrets.token_urlsafe(12)
            site_create(
                site_id,
                name="Northwind Bikes (demo)",
                url=urls.public_base_url() + "/demo/",
                origins=[urls.public_base_url()],
                contact_email="privacy@northwind.example",
                admin_email=DEMO_ADMIN,
                admin_password=password,
            )
            secret_file.parent.mkdir(parents=True, exist_ok=True)
            secret_file.write_text(password + "\n")
            secret_file.chmod(0o600)
            self.stdout.write(f"[cloop] created the demo site '{site_id}'")
        site = site_get_ready(site_id)
        moved = demo_site_follow(site)
        demo_settings_ensure(site)
        if not o["no_crawl"] and (o["recrawl"] or moved or not demo_indexed(site)):
            self._crawl(site)
        password = secret_file.read_text().strip() if secret_file.exists() else "(see create_site)"
        self.stdout.write(
            f"[cloop] demo admin login: {urls.admin_url(site_id)}  "
            f"user {DEMO_ADMIN}  password {password}"
        )

    def _crawl(self, site):
        self.stdout.write(f"[cloop] crawling the demo website {site.url} ...")
        started = time.monotonic()
        try:
            # The demo website is Cloop's own, on loopback: the only private address we allow.
            with serving_privately() as private, override_settings(CLOOP_CRAWL_ALLOW_PRIVATE=True):
                run = demo_crawl(site, private, urls.public_base_url())
        except Exception as exc:  # noqa: BLE001 - `make run` goes on without the index
            self.stderr.write(
                f"[cloop] warning: the demo crawl failed: {type(exc).__name__}: {exc}"
            )
            return
        self.stdout.write(
            f"[cloop] demo crawl {run.status}: {run.pages_indexed} pages indexed, "
            f"{run.errors} errors, {time.monotonic() - started:.1f} s"
        )


def demo_site_follow(site: Site) -> bool:
    """Point the demo site at where Cloop runs now (PORT or CLOOP_PUBLIC_URL may change
    between runs); True if it moved, so its pages are crawled again under the new URL."""
    base = urls.public_base_url()
    url, origins = base + "/demo/", [normalise_origin(base)]
    if site.url == url and site.allowed_origins == origins:
        return False
    site.url, site.allowed_origins = url, origins
    site.save(update_fields=["url", "allowed_origins", "updated_at"])
    return True


def demo_settings_ensure(site: Site) -> None:
    """Give the demo its widget look and keep the crawl inside /demo/ (first time only)."""
    with tenant_context(site):
        ws = WidgetSettings.load()
        if not ws.bot_name:
            for key, value in DEMO_WIDGET.items():
                setattr(ws, key, value)
            ws.save()
        cfg = CrawlSettings.load()
        if not cfg.include_patterns:
            cfg.include_patterns = ["/demo/*"]
            # Scheduled crawls run without the loopback exception; the demo never changes.
            cfg.recrawl_interval_hours = 0
            cfg.save()


def demo_indexed(site: Site) -> bool:
    """Whether the demo site has any page indexed yet (public schema; enters the site's)."""
    with tenant_context(site):
        return Page.objects.exists()


def demo_crawl(site: Site, private: str, public: str):
    """Crawl the demo website served at `private` (an origin), then file its pages under
    `public`, where visitors open them. Public schema on entry; returns the CrawlRun."""
    at_private = copy.copy(site)  # never saved: the site keeps its public URL
    at_private.url = private + urlsplit(site.url).path
    try:
        return crawl_run(at_private, trigger="manual")
    finally:
        # A failed or interrupted crawl's pages too: no page may keep a private URL.
        with tenant_context(site):
            demo_pages_refile(private, public)


def _refiled(url: str, private: str, public: str) -> str:
    if not url.startswith(private + "/"):
        return url
    try:
        return normalise_url(public + url[len(private) :])
    except BadURL:
        return url


def demo_pages_refile(private: str, public: str) -> None:
    """Move pages crawled under the `private` origin to the `public` one (the site's
    schema): a copy already filed there (an earlier crawl) gives way to the fresh one."""
    with transaction.atomic():
        moved = 0
        for page in Page.objects.filter(url__startswith=private + "/"):
            target = _refiled(page.url, private, public)
            for stale in Page.objects.filter(url=target).exclude(pk=page.pk):
                page_remove(stale, stats=False)
            page.url = target
            page.links = [_refiled(link, private, public) for link in page.links]
            page.save(update_fields=["url", "links"])
            moved += 1
        if moved:
            index_stats_rebuild()


@contextmanager
def serving_privately():
    """Serve the ASGI application on an ephemeral port of 127.0.0.1 for the duration;
    yields its origin (`http://127.0.0.1:<port>`)."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    # Listening at once: a connection made while uvicorn still imports the application
    # waits in the backlog instead of being refused.
    sock.listen(128)
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            "cloop.asgi:application",
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    # Importing the application takes seconds (minutes on a loaded machine): wait for it.
    deadline = time.monotonic() + 300
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the demo website could not be served for its crawl")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
