"""The crawl task on a real Celery worker and broker, with committed data."""

import os
import signal
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import tenant_context

from crawler.models import Chunk, CrawlRun, CrawlSettings, Page
from crawler.tasks import crawl_due_check, crawl_request, crawl_site, crawl_stale
from tasking import tenant_task_send
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


def test_it_crawls_on_a_worker_and_is_safe_to_run_twice(web, allow_private, celery_tasks, site_a):
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
    assert len(celery_tasks.idle()) == 3  # the first run and both deliveries
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


@pytest.fixture
def worker_processes(live_db, tmp_path):
    """Start real `celery worker` processes on the test database; kill what is left after."""
    from cloop.celery import app

    app.control.purge()
    db = connection.settings_dict
    url = urlsplit(settings.DATABASE_URL)._replace(path=f"/{db['NAME']}")
    env = {
        **os.environ,
        "DATABASE_URL": urlunsplit(url),
        "REDIS_URL": settings.REDIS_URL,
        "CLOOP_CRAWL_ALLOW_PRIVATE": "1",
        # A worker as deployed (DATABASE_URL set: DEBUG off), with the session's development
        # key (CLOOP_DEV) instead of a SECRET_KEY of its own.
        "DEBUG": "0",
        "CLOOP_DEV": "1",
        "DJANGO_SETTINGS_MODULE": "cloop.settings",
    }
    started: list[subprocess.Popen] = []

    def start(name: str) -> subprocess.Popen:
        log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "celery", "-A", "cloop", "worker", "--pool", "solo"]
            + ["--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed as a whole
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _forget_unacked(task_id: str) -> int:
    """Drop the killed worker's unacknowledged message from the broker: Redis would deliver
    it again after the visibility timeout, in some later test session."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    forgotten = 0
    for tag, payload in client.hgetall("unacked").items():
        if task_id.encode() in payload:
            forgotten += client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
    client.close()
    return forgotten


def test_it_finishes_a_crawl_whose_worker_was_sigkilled(
    web, allow_private, worker_processes, site_a, settings
):
    links = [f"/p{i}" for i in range(10)]
    web.page("/", html_page("Home", "<p>Home text about bicycles.</p>", links=links))
    for p in links:
        web.page(p, html_page(p, f"<p>Text of page {p} about tyres.</p>"))
    reached, release = threading.Event(), threading.Event()

    def stuck(handler):
        reached.set()
        release.wait(60)
        return (200, {}, html_page("Last", "<p>The last page, about spokes.</p>"))

    web.routes["/p9"] = stuck
    with tenant_context(site_a):
        cfg = CrawlSettings.load()
        cfg.start_urls = [web.url + "/"]
        cfg.connections_per_host = 1
        cfg.save()
        run = crawl_request(site_a, "manual")
    first = worker_processes("first")
    # Mid-crawl: the worker waits for /p9, its run is running with a saved frontier.
    _wait(site_a, lambda: CrawlRun.objects.filter(pk=run.pk, status="running").exists())
    assert reached.wait(60)
    _wait(site_a, lambda: CrawlRun.objects.get(pk=run.pk).frontier.get("todo"))
    task_id = _wait(site_a, lambda: CrawlRun.objects.get(pk=run.pk).task_id)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    try:
        with tenant_context(site_a):
            # What a killed worker leaves: a running run that blocks every new crawl.
            assert CrawlRun.objects.get(pk=run.pk).status == "running"
            assert crawl_due_check() == "a crawl is queued or running"
        # Beat's check, with the staleness threshold injected; it requeues once PostgreSQL
        # has ended the dead worker's session (and with it the site's crawl lock).
        settings.CLOOP_CRAWL_STALE_SECONDS = 0
        assert _wait(site_a, crawl_stale.run) == run.pk
        release.set()
        worker_processes("second")
        _wait(
            site_a,
            lambda: CrawlRun.objects.filter(pk=run.pk, status="succeeded").first(),
            timeout=90,
        )
    finally:
        release.set()
        forgotten = _forget_unacked(task_id)
    # The killed worker never acknowledged its message (acks_late): Redis still held it.
    assert forgotten == 1
    with tenant_context(site_a):
        assert CrawlRun.objects.count() == 1
        assert Page.objects.count() == 11
        assert Chunk.objects.count() == 11  # one section each: nothing indexed twice
    # Resumed from the saved frontier: the home page was not fetched again.
    assert web.count("/") == 1
