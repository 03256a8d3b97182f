import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import tenant_context

from crawler.index import index_html
from crawler.models import CrawlRun, CrawlSettings
from tests.crawler.conftest import html_page

SUMMARY_KEYS = {
    "site_id",
    "status",
    "pages_fetched",
    "pages_indexed",
    "pages_skipped",
    "errors",
    "seconds",
    "traps",
    "notes",
}


def _call(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def crawlable(web, allow_private, db, site_a):
    web.page(
        "/",
        html_page(
            "Home", "<p>Opening hours are nine to five.</p>", links=["/x", "https://other.test/"]
        ),
    )
    web.page("/x", html_page("X", "<p>The X page explains parking near the shop.</p>"))
    with tenant_context(site_a):
        cfg = CrawlSettings.load()
        cfg.start_urls = [web.url + "/"]
        cfg.save()
    return site_a


def test_it_crawls_from_the_command_with_a_json_summary(crawlable):
    out, _ = _call("crawl", "site-a", "--json", "--concurrency", "2", "--max-pages", "10")
    data = json.loads(out.strip().splitlines()[-1])
    assert set(data) == SUMMARY_KEYS
    assert data["site_id"] == "site-a" and data["status"] == "succeeded"
    assert (data["pages_fetched"], data["pages_indexed"], data["pages_skipped"]) == (2, 2, 1)
    assert data["errors"] == 0 and data["seconds"] > 0


def test_it_prints_progress_and_the_report_for_people(crawlable):
    out, err = _call("crawl", "site-a")
    assert "fetched" in err and "indexed" in err
    assert "2 indexed" in out
    assert "off-site" in out and "https://other.test/" in out


def test_it_refuses_bad_crawl_arguments(crawlable):
    with pytest.raises(CommandError, match="unknown site"):
        _call("crawl", "no-such-site")
    with pytest.raises(CommandError):
        _call("crawl", "site-a", "--max-pages", "0")
    with pytest.raises(CommandError):
        _call("crawl", "site-a", "--concurrency", "many")
    with pytest.raises(CommandError, match="at most 16"):
        _call("crawl", "site-a", "--concurrency", "17")


def test_it_reports_a_failed_crawl_as_an_error_after_the_json(web, allow_private, db, site_a):
    web.page("/", "down", status=500)
    with tenant_context(site_a):
        cfg = CrawlSettings.load()
        cfg.start_urls = [web.url + "/"]
        cfg.save()
    out = StringIO()
    with pytest.raises(CommandError, match="crawl failed"):
        call_command("crawl", "site-a", "--json", stdout=out, stderr=StringIO())
    data = json.loads(out.getvalue().strip().splitlines()[-1])
    assert data["status"] == "failed" and data["errors"] >= 1


def test_it_refuses_a_second_queued_crawl(db, site_a):
    with tenant_context(site_a):
        CrawlRun.objects.create(status=CrawlRun.Status.QUEUED)
    with pytest.raises(CommandError, match="already queued"):
        _call("crawl", "site-a", "--queue")


def test_it_searches_from_the_command(db, site_a):
    with tenant_context(site_a):
        index_html(
            "https://site-a.test/parking",
            "<html><head><title>Parking</title></head><body><main><h2 id='car'>By car</h2>"
            "<p>Free parking behind the shop for two hours.</p></main></body></html>",
        )
    out, _ = _call("search", "site-a", "where can I park my car", "--json", "--k", "3")
    rows = json.loads(out.strip().splitlines()[-1])
    assert rows[0]["url"] == "https://site-a.test/parking#car"
    assert set(rows[0]) == {"url", "title", "heading", "score", "text"}
    assert rows[0]["title"] == "Parking" and rows[0]["heading"] == "By car" and rows[0]["score"] > 0
    human, _ = _call("search", "site-a", "parking")
    assert "https://site-a.test/parking#car" in human
    nothing, _ = _call("search", "site-a", "zeppelin", "--json")
    assert json.loads(nothing.strip()) == []


def test_it_refuses_bad_search_arguments(db, site_a):
    with pytest.raises(CommandError, match="empty"):
        _call("search", "site-a", "   ")
    with pytest.raises(CommandError):
        _call("search", "site-a", "x", "--k", "0")
    with pytest.raises(CommandError, match="unknown site"):
        _call("search", "nope-site", "x")


@pytest.mark.parametrize("command", ["crawl", "search"])
def test_it_refuses_a_site_whose_schema_is_not_ready(db, site_a, command):
    from tenants.models import Site

    Site.objects.filter(pk=site_a.pk).update(ready=False)
    args = [command, site_a.site_id] + (["query"] if command == "search" else [])
    with pytest.raises(CommandError, match="not ready"):
        _call(*args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["crawl", "site-a", "--max-pages", "0"], "must be at least 1"),
        (["crawl", "site-a", "--concurrency", "x"], "'x' is not a whole number"),
        (["search", "site-a", "q", "--k", "51"], "must be between 1 and 50"),
    ],
)
def test_it_names_the_bad_number(db, site_a, args, message):
    with pytest.raises(CommandError, match=message):
        _call(*args)
