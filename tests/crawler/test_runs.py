"""One queued or running crawl per site, guaranteed by the database; runs whose worker died."""

import datetime
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from crawler.models import CrawlRun
from crawler.runs import CrawlBusy
from crawler.tasks import crawl_request
from tests.crawler.conftest import crawl_lock_elsewhere


def _lock_waiters() -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cur.fetchone()[0]


def test_it_queues_one_crawl_of_parallel_attempts(live_db, site_a):
    outcomes: dict[str, str] = {}
    inserted, commit = threading.Event(), threading.Event()

    def attempt(name, hold=False):
        try:
            with tenant_context(site_a), transaction.atomic():
                try:
                    crawl_request(site_a, "api")
                    outcomes[name] = "queued"
                except CrawlBusy:
                    outcomes[name] = "busy"
                if hold:
                    inserted.set()
                    commit.wait(30)
        finally:
            connection.close()

    first = threading.Thread(target=attempt, args=("first", True))
    first.start()
    assert inserted.wait(30)
    # Three more attempts while the first one's run is inserted but not committed: a
    # check-then-insert sees no run and inserts its own.
    others = [threading.Thread(target=attempt, args=(f"other{i}",)) for i in range(3)]
    for t in others:
        t.start()
    # Each either finished or waits for the first transaction (the unique index).
    for _ in range(600):
        done = sum(1 for t in others if not t.is_alive())
        if done + _lock_waiters() >= len(others):
            break
        threading.Event().wait(0.05)
    commit.set()
    for t in [first, *others]:
        t.join(30)
    assert outcomes == {"first": "queued", "other0": "busy", "other1": "busy", "other2": "busy"}
    with tenant_context(site_a):
        assert CrawlRun.objects.filter(status__in=CrawlRun.ACTIVE).count() == 1


def test_it_refuses_a_second_active_run_in_the_database(in_site_a):
    from django.db import IntegrityError

    CrawlRun.objects.create(status=CrawlRun.Status.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        CrawlRun.objects.create(status=CrawlRun.Status.QUEUED)
    CrawlRun.objects.create(status=CrawlRun.Status.SUCCEEDED)  # finished runs: any number
    with pytest.raises(CrawlBusy, match="already running"):
        crawl_request(in_site_a, "api")


def test_it_requeues_a_running_run_only_when_its_heartbeat_is_stale(in_site_a):
    from crawler.tasks import crawl_stale_requeue

    beat = timezone.now()
    run = CrawlRun.objects.create(
        status=CrawlRun.Status.RUNNING,
        started_at=beat,
        heartbeat_at=beat,
        frontier={"todo": ["https://site-a.test/x"], "done": []},
    )
    stale_after = datetime.timedelta(minutes=5)
    fresh = beat + datetime.timedelta(minutes=4)
    assert crawl_stale_requeue(in_site_a, now=fresh, stale_after=stale_after) is None
    later = beat + datetime.timedelta(minutes=6)
    revived = crawl_stale_requeue(in_site_a, now=later, stale_after=stale_after)
    assert revived.pk == run.pk and revived.status == CrawlRun.Status.QUEUED
    assert revived.frontier["todo"] == ["https://site-a.test/x"]  # resumed, not restarted


def test_it_leaves_a_slow_crawl_alone_while_its_process_holds_the_lock(in_site_a):
    from crawler.tasks import crawl_stale_requeue

    old = timezone.now() - datetime.timedelta(hours=1)
    CrawlRun.objects.create(status=CrawlRun.Status.RUNNING, started_at=old, heartbeat_at=old)
    # Another session (the crawling process) holds the site's crawl lock.
    with crawl_lock_elsewhere(in_site_a):
        assert crawl_stale_requeue(in_site_a) is None
        assert CrawlRun.objects.get().status == CrawlRun.Status.RUNNING
    assert crawl_stale_requeue(in_site_a).status == CrawlRun.Status.QUEUED


def test_it_revives_a_dead_run_when_someone_clicks_crawl_now(in_site_a):
    old = timezone.now() - datetime.timedelta(hours=1)
    run = CrawlRun.objects.create(status=CrawlRun.Status.RUNNING, started_at=old, heartbeat_at=old)
    with pytest.raises(CrawlBusy, match="queued again") as info:
        crawl_request(in_site_a, "api")
    assert info.value.revived and info.value.run.pk == run.pk
    assert CrawlRun.objects.get().status == CrawlRun.Status.QUEUED
