import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from crawler.models import CrawlRun, CrawlSettings


@pytest.fixture
def owner(in_site_a, site_a):
    user = get_user_model().objects.create_superuser("owner@a.test", "owner@a.test", "pw-123456")
    client = Client(HTTP_HOST=site_a.host)
    client.force_login(user)
    return client


def test_it_shows_the_crawl_report_with_every_skipped_url(owner):
    run = CrawlRun.objects.create(
        status=CrawlRun.Status.SUCCEEDED,
        pages_fetched=3,
        pages_indexed=1,
        pages_skipped=2,
        skipped=[
            {
                "url": "https://site-a.test/private",
                "reason": "robots",
                "detail": "disallowed by robots.txt",
            },
            {"url": "https://site-a.test/<script>", "reason": "HTTP status", "detail": "404"},
            {
                "url": "https://site-a.test/events/2031-01/",
                "reason": "URL trap",
                "detail": "calendar: date 2031-01-01 is more than 732 days ahead",
                "rule": "calendar",
            },
        ],
        traps={"calendar": 7, "repeating path segments": 2},
    )
    page = owner.get(f"/admin/crawler/crawlrun/{run.pk}/change/").content.decode()
    assert "https://site-a.test/private" in page and "disallowed by robots.txt" in page
    assert "robots: 1" in page and "HTTP status: 1" in page
    assert "calendar: 7, repeating path segments: 2" in page  # which trap rules fired
    assert "calendar: date 2031-01-01 is more than 732 days ahead" in page
    assert "<script>" not in page  # escaped
    listing = owner.get("/admin/crawler/crawlrun/").content.decode()
    assert "Crawl now" in listing


def test_it_edits_crawl_settings_one_per_line(owner):
    settings_url = owner.get("/admin/crawler/crawlsettings/")
    assert settings_url.status_code == 302
    form = {
        "start_urls": "https://site-a.test/docs/\nhttps://site-a.test/blog/",
        "allowed_hosts": "site-a.test",
        "include_patterns": "",
        "exclude_patterns": "/cart*\n*/print/*",
        "max_pages": "500",
        "recrawl_interval_hours": "12",
        "connections_per_host": "2",
    }
    response = owner.post(settings_url["Location"], form)
    assert response.status_code == 302
    cfg = CrawlSettings.load()
    assert cfg.start_urls == ["https://site-a.test/docs/", "https://site-a.test/blog/"]
    assert cfg.exclude_patterns == ["/cart*", "*/print/*"]
    bad = owner.post(
        settings_url["Location"], {**form, "start_urls": "ftp://x", "exclude_patterns": "cart"}
    )
    assert bad.status_code == 200 and b"errorlist" in bad.content
    assert CrawlSettings.load().start_urls == cfg.start_urls


def test_it_queues_a_crawl_from_the_admin_once(owner):
    response = owner.post("/admin/crawler/crawlrun/crawl-now/")
    assert response.status_code == 302
    assert CrawlRun.objects.filter(status=CrawlRun.Status.QUEUED, trigger="admin").count() == 1
    owner.post("/admin/crawler/crawlrun/crawl-now/")
    assert CrawlRun.objects.count() == 1
    assert owner.get("/admin/crawler/crawlrun/crawl-now/").status_code == 405
