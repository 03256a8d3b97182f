"""`setup_demo` (run by `make run`): creates the demo site, styles its widget, crawls /demo/."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import tenant_context

from tests.conftest import free_port
from widget import demo


def test_it_creates_styles_and_crawls_the_demo_site_once(live_server, settings, tmp_path):
    """The command serves the demo website itself for its crawl (on a private port) and
    files the pages under the public URL."""
    from crawler.models import CrawlSettings, Page
    from tenants.models import Site
    from widget.models import WidgetSettings

    port = live_server.port
    assert f"http://localhost:{port}" == settings.CLOOP_PUBLIC_URL
    password_file = tmp_path / "pw.txt"
    out = io.StringIO()
    call_command("setup_demo", "--password-file", str(password_file), stdout=out)
    text = out.getvalue()
    assert "created the demo site 'demo'" in text
    assert f"{len(demo.PAGES)} pages indexed" in text, text
    password = password_file.read_text().strip()
    assert len(password) >= 12 and password in text

    site = Site.objects.get(site_id="demo")
    assert site.url == f"http://localhost:{port}/demo/"
    assert site.allowed_origins == [f"http://localhost:{port}"]
    with tenant_context(site):
        urls = set(Page.objects.values_list("url", flat=True))
        assert f"http://localhost:{port}/demo/faq/" in urls
        assert all(u.startswith(f"http://localhost:{port}/demo/") for u in urls)
        assert len(urls) == len(demo.PAGES)
        ws = WidgetSettings.load()
        assert ws.bot_name == "Northwind helper" and len(ws.starter_questions) == 3
        assert CrawlSettings.load().include_patterns == ["/demo/*"]

    # Again: nothing is created or crawled twice.
    out = io.StringIO()
    call_command("setup_demo", "--password-file", str(password_file), stdout=out)
    assert "created" not in out.getvalue() and "crawling" not in out.getvalue()
    assert password in out.getvalue()


def test_it_moves_the_demo_site_when_cloop_moves(live_server, settings, tmp_path):
    """Nothing serves the new port: the command serves Cloop itself for its crawl."""
    from crawler.models import Page
    from tenants.models import Site

    password_file = tmp_path / "pw.txt"
    new = free_port()
    call_command("setup_demo", "--password-file", str(password_file), stdout=io.StringIO())
    settings.CLOOP_PUBLIC_URL = f"http://localhost:{new}"
    out = io.StringIO()
    call_command("setup_demo", "--password-file", str(password_file), stdout=out)
    assert "crawling" in out.getvalue()
    site = Site.objects.get(site_id="demo")
    assert site.url == f"http://localhost:{new}/demo/"
    assert site.allowed_origins == [f"http://localhost:{new}"]
    with tenant_context(site):
        urls = list(Page.objects.values_list("url", flat=True))
    assert urls and all(u.startswith(f"http://localhost:{new}/demo/") for u in urls)


def test_it_stops_with_one_clear_error_when_the_demo_schema_is_not_ready(db, site_a, tmp_path):
    from tenants.models import Site

    Site.objects.filter(pk=site_a.pk).update(site_id="demo", ready=False)
    with pytest.raises(CommandError, match="site 'demo' is not ready"):
        call_command(
            "setup_demo",
            "--no-crawl",
            "--password-file",
            str(tmp_path / "pw"),
            stdout=io.StringIO(),
        )


def test_it_crawls_the_demo_without_ever_listening_on_the_public_port(live_db, settings, tmp_path):
    """The public port belongs to `make run`'s ASGI server alone: a server there that comes and
    goes would pass a client's /healthz check and then drop its page loads and WebSockets.
    Here something else holds the public port (and never answers); the crawl goes on."""
    import socket

    from crawler.models import Page
    from tenants.models import Site

    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    port = squatter.getsockname()[1]
    settings.CLOOP_PUBLIC_URL = f"http://localhost:{port}"
    try:
        out = io.StringIO()
        call_command("setup_demo", "--password-file", str(tmp_path / "pw"), stdout=out)
    finally:
        squatter.close()
    assert f"{len(demo.PAGES)} pages indexed" in out.getvalue(), out.getvalue()
    site = Site.objects.get(site_id="demo")
    with tenant_context(site):
        page = Page.objects.get(url=f"http://localhost:{port}/demo/faq/")
        urls = set(Page.objects.values_list("url", flat=True))
    assert len(urls) == len(demo.PAGES)
    assert all(u.startswith(f"http://localhost:{port}/demo/") for u in urls)
    assert page.links and all(link.startswith(f"http://localhost:{port}/") for link in page.links)
