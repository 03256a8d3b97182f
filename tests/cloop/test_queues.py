"""Long and short work on separate Celery queues: a crawl never delays a summary e-mail."""

from __future__ import annotations

import threading

import pytest
from celery.signals import task_postrun
from django.conf import settings
from django.db import transaction
from django_tenants.utils import tenant_context

from cloop import queues
from cloop.celery import app
from conversations.tasks import summary_send_task
from crawler.models import CrawlRun, CrawlSettings
from crawler.tasks import crawl_request
from tasking import tenant_task_send
from tests.conftest import restored_root_logger
from tests.conversations.conftest import smtp_server  # noqa: F401 - the fixture
from tests.conversations.leads.test_summary_email import make_conversation
from tests.crawler.conftest import SiteServer, html_page

WAIT = 60.0


def _queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_it_routes_crawls_to_the_crawl_queue_and_the_rest_to_the_short_one():
    assert _queue_of("crawler.crawl_site") == queues.CRAWL
    for short in (
        "conversations.summary_send",
        "conversations.retention_purge",
        "conversations.requests_remind",
        "crawler.crawl_due",
        "crawler.crawl_stale",
    ):
        assert _queue_of(short) == queues.SHORT, short
    # Every queue is declared (a worker without -Q consumes all of them) and bound to a
    # routing key of its own: a crawl is never also delivered to the short queue.
    declared = {q.name: q.routing_key for q in settings.CELERY_TASK_QUEUES}
    assert declared == {q: q for q in queues.QUEUES}


@pytest.fixture
def queue_workers(live_db):
    """A real worker per queue (one slot each, threads in this process), real broker.

    Built like celery.contrib.testing.worker.start_worker, but stopped together: its stop
    signal is process-wide state (`should_terminate`), so nesting two start_worker contexts
    lets the inner one reset the signal before the outer worker has seen it. Without remote
    control: two workers of one process on the broadcast channel could leave one blocked in
    a read of it, deaf to the stop.
    """
    from celery.contrib.testing.worker import TestWorkController, setup_app_for_worker
    from celery.worker import state

    app.control.purge()
    # Celery's logging setup replaces the root logger's handlers: they come back afterwards.
    with restored_root_logger():
        setup_app_for_worker(app, "WARNING", None)
        remote_control = app.conf.worker_enable_remote_control
        app.conf.worker_enable_remote_control = False
        threads = []
        try:
            for queue in (queues.CRAWL, queues.SHORT):
                worker = TestWorkController(
                    app=app,
                    queues=[queue],
                    hostname=f"{queue}@test",
                    pool="threads",
                    concurrency=1,
                    loglevel="WARNING",
                    logfile=None,
                    ready_callback=None,
                    without_heartbeat=True,
                    without_mingle=True,
                    without_gossip=True,
                )
                thread = threading.Thread(target=worker.start, daemon=True)
                thread.start()
                worker.ensure_started()
                threads.append(thread)
            yield
        finally:
            state.should_terminate = 0
            for thread in threads:
                thread.join(WAIT)
            state.should_terminate = None
            app.conf.worker_enable_remote_control = remote_control
            # A worker's `queues` selects them on the app's shared queue map: give the next
            # worker of this process (celery_worker_live) every queue back.
            app.amqp.queues.select(list(queues.QUEUES))
            assert not any(t.is_alive() for t in threads), "a worker did not stop"


def test_it_sends_a_summary_email_while_a_long_crawl_occupies_the_crawl_queue(
    site_a,
    queue_workers,
    smtp_server,  # noqa: F811 - the fixture imported above
    settings,
):
    settings.CLOOP_CRAWL_ALLOW_PRIVATE = True
    started, release, crawl_done = threading.Event(), threading.Event(), threading.Event()

    def on_postrun(sender=None, **_kw):
        if sender is not None and sender.name == "crawler.crawl_site":
            crawl_done.set()

    task_postrun.connect(on_postrun, weak=False)

    def slow_home(_handler):
        started.set()
        release.wait(WAIT)  # the crawl holds the crawl worker until the test lets it go
        return 200, {}, html_page("Home", "<p>Bicycles and tyres.</p>")

    web = SiteServer().start()
    web.routes["/"] = slow_home
    try:
        with tenant_context(site_a):
            cfg = CrawlSettings.load()
            cfg.start_urls = [web.url + "/"]
            cfg.save()
            with transaction.atomic():
                run = crawl_request(site_a, "manual")
        assert started.wait(WAIT), "the crawl never reached the website"

        conv_id = make_conversation(site_a)
        tenant_task_send(summary_send_task, site_a.schema_name, conv_id, "anna@example.fi", "en")
        messages = smtp_server.wait(1, timeout=WAIT)
        assert [rcpt for rcpt, _ in messages] == [["anna@example.fi"]]
        # ... sent while the crawl was still fetching its first page.
        assert not release.is_set()
        with tenant_context(site_a):
            assert CrawlRun.objects.get(pk=run.pk).status == CrawlRun.Status.RUNNING
    finally:
        release.set()
        # The crawl worker must be idle before the fixture stops it.
        finished = crawl_done.wait(WAIT)
        task_postrun.disconnect(on_postrun)
        web.stop()
    assert finished, "the crawl did not finish"
    with tenant_context(site_a):
        assert CrawlRun.objects.get(pk=run.pk).status == CrawlRun.Status.SUCCEEDED


def test_it_starts_a_worker_per_queue_and_a_locked_beat_under_make_run():
    from cloop.run import platform_children

    children = {c.name: c for c in platform_children({}, "127.0.0.1", "8000")}
    assert set(children) == {"web", "beat"} | {f"worker-{q}" for q in queues.QUEUES}
    for queue in queues.QUEUES:
        worker = children[f"worker-{queue}"]
        argv = worker.argv
        assert argv[argv.index("-Q") + 1] == queue
        assert worker.env["CLOOP_PROCESS"] == queues.worker_name(queue)
    assert "cloop.beat:LockedScheduler" in children["beat"].argv
