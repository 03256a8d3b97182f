"""Beat runs its schedules once however many are started: the Redis beat lock."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import pytest
from celery.signals import before_task_publish
from django.conf import settings

from cloop.beat import LockedScheduler
from cloop.beat_lock import BeatLock
from cloop.celery import app

PROBE = "tests.beat_probe"  # never registered: its messages are purged, never run
WAIT = 30.0


@pytest.fixture
def published():
    """Names of the tasks this process publishes (Celery's own signal, as they are sent)."""
    sent: list[str] = []

    def record(sender=None, **_kw):
        if sender == PROBE:
            sent.append(sender)

    before_task_publish.connect(record, weak=False)
    try:
        yield sent
    finally:
        before_task_publish.disconnect(record)
        app.control.purge()


@pytest.fixture
def beats(db, tmp_path):
    """Build schedulers that share one lock name (a fresh one per test) and a due entry."""
    # An entry due at every tick (run_every 0), fanned out to every site like the real ones.
    real = app.conf.beat_schedule
    app.conf.beat_schedule = {"probe": {"task": PROBE, "schedule": 0}}
    name = f"cloop:test-beat-lock:{uuid.uuid4().hex}"
    made: list[LockedScheduler] = []

    def make(label: str, ttl: float = 30.0) -> LockedScheduler:
        lock = BeatLock(settings.REDIS_URL, name=name, ttl=ttl)
        scheduler = LockedScheduler(
            app=app, schedule_filename=str(tmp_path / f"beat-{label}"), beat_lock=lock
        )
        made.append(scheduler)
        return scheduler

    make.lock_name = name
    try:
        yield make
    finally:
        for scheduler in made:
            scheduler.close()
        app.conf.beat_schedule = real


def _sites() -> int:
    from tenants.models import Site

    return Site.objects.exclude(schema_name="public").count()


def test_it_runs_schedules_in_the_beat_holding_the_lock_only(beats, published):
    first, second = beats("first"), beats("second")
    first.tick()
    assert first.beat_lock.held
    assert len(published) == _sites() >= 2  # the due entry, once per site

    second.tick()
    # Standing by: it tried the lock, found it taken and sent nothing (publishing is
    # synchronous: anything it sent would be counted by now).
    assert second.standing_by and not second.beat_lock.held
    assert len(published) == _sites()

    first.close()  # a clean stop releases the lock at once
    second.tick()
    assert second.beat_lock.held and not second.standing_by
    assert len(published) == 2 * _sites()


HOLDER = """
import sys, time
from cloop.beat_lock import BeatLock
lock = BeatLock(sys.argv[1], name=sys.argv[2], ttl=float(sys.argv[3]))
assert lock.try_acquire()
print("held", flush=True)
time.sleep(3600)
"""


def test_it_takes_over_after_the_beat_holding_the_lock_dies(beats, published):
    ttl = 2.0
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, settings.REDIS_URL, beats.lock_name, str(ttl)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        standby = beats("standby", ttl=ttl)
        standby.tick()
        assert standby.standing_by and not standby.beat_lock.held and not published
        # The holder's heartbeat renews the lock (its remaining time goes back up), so a live
        # holder keeps it past its TTL and the standby keeps standing by.
        redis = standby.beat_lock.client
        left = redis.pttl(beats.lock_name)
        _wait_for(lambda: redis.pttl(beats.lock_name) > left, "a renewal")
        standby.tick()
        assert not standby.beat_lock.held and not published
    finally:
        holder.kill()  # dies without releasing: only the TTL frees the lock
        holder.wait()

    deadline = time.monotonic() + WAIT
    while not standby.beat_lock.held:
        assert time.monotonic() < deadline, "the standby never took over"
        time.sleep(standby.tick())
    assert len(published) == _sites()


def test_it_stops_a_beat_whose_lock_was_taken_over(beats, published):
    first = beats("first", ttl=1.5)
    first.tick()
    assert first.beat_lock.held
    # Another beat's token in the key, as after this one's TTL ran out while its heartbeat
    # could not reach Redis: its next renewal finds the lock not its own.
    first.beat_lock.client.set(beats.lock_name, b"another-beat")
    assert first.beat_lock.lost.wait(WAIT)
    with pytest.raises(SystemExit):
        first.tick()
    assert len(published) == _sites()  # nothing more was sent


def _wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
