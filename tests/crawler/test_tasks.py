"""The crawl task on a real Celery worker and broker, with committed data."""

import time

from django.core.management import call_command
from django_tenants.utils import tenant_context

from cloop.celery import tenant_task_send
from crawler.models import CrawlRun, CrawlSettings, Page
from crawler.tasks import crawl_due_check, crawl_site
from tests.crawler.conftest import html_page


def _wait(site, pred, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with tenant_context(site):
            value = pred()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_it_crawls_on_a_worker_and_is_safe_to_run_twice(
    web, allow_private, celery_worker_live, site_a
):
    web.page("/", html_page("Home", "<p>Home text about bicycles.</p>", links=["/a"]))
    web.page("/a", html_page("A", "<p>Alpha page about tyres.</p>"))
    with tenant_context(site_a):
        cfg = CrawlSettings.load()
        cfg.start_urls = [web.url + "/"]
        cfg.save()
    call_command("crawl", "site-a", "--queue", "--json", stdout=__import__("io").StringIO())
    run = _wait(site_a, lambda: CrawlRun.objects.filter(status="succeeded").first())
    assert run.pages_indexed == 2 and run.task_id
    fetched = len(web.requests)
    # The same message delivered again (acks_late redelivery) finds its work done.
    tenant_task_send(crawl_site, site_a.schema_name, run.pk, "task")
    tenant_task_send(crawl_site, site_a.schema_name, run.pk, "task")
    time.sleep(1.5)
    with tenant_context(site_a):
        assert CrawlRun.objects.count() == 1
        assert Page.objects.count() == 2
    assert len(web.requests) == fetched


def test_it_schedules_only_sites_that_are_due(in_site_a):
    cfg = CrawlSettings.load()
    assert crawl_due_check() == "due"
    CrawlRun.objects.create(status=CrawlRun.Status.SUCCEEDED)
    assert crawl_due_check() == "crawled recently"
    cfg.recrawl_interval_hours = 0
    cfg.save()
    assert crawl_due_check() == "scheduled crawls are off"


def test_it_queues_a_due_site_from_the_beat_task_once(in_site_a):
    from crawler.tasks import crawl_due

    assert crawl_due.run() == "due"
    assert CrawlRun.objects.filter(status="queued", trigger="schedule").count() == 1
    assert crawl_due.run() == "a crawl is queued or running"
    assert CrawlRun.objects.count() == 1


def test_it_skips_sites_that_are_not_ready(in_site_a):
    from crawler.tasks import crawl_due

    in_site_a.ready = False
    try:
        assert crawl_due.run() is None
        assert crawl_site.run() is None
    finally:
        in_site_a.ready = True
    assert CrawlRun.objects.count() == 0
