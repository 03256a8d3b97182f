"""The embedded Redis is a real server that keeps its data across a restart."""

import redis

from cloop import embedded


def test_it_persists_the_embedded_redis_across_a_restart(tmp_path, monkeypatch):
    # A data directory of its own: the session's Redis (the broker of other tests) stays up.
    monkeypatch.setenv("CLOOP_DATA_DIR", str(tmp_path))
    try:
        client = redis.Redis.from_url(embedded.redis_url())
        assert client.config_get("save")["save"] != ""
        assert client.config_get("appendonly")["appendonly"] == "yes"
        # What Celery's queue is in Redis: a list under the queue's name.
        client.lpush("celery", b"a queued task")
        client.close()
        embedded.stop()
        client = redis.Redis.from_url(embedded.redis_url())
        assert client.lrange("celery", 0, -1) == [b"a queued task"]
        client.close()
    finally:
        embedded.stop()
