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


def test_it_starts_only_the_servers_the_environment_leaves_to_cloop(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOOP_DATA_DIR", str(tmp_path))
    external = {"DATABASE_URL": "postgres://db.example/cloop", "REDIS_URL": "redis://r.example/0"}
    embedded.start(external)
    assert not embedded.running()
    try:
        embedded.start({"DATABASE_URL": external["DATABASE_URL"]})
        # Redis now runs where the settings look for it; PostgreSQL was never started.
        client = redis.Redis.from_url(embedded.redis_address())
        assert client.ping()
        client.close()
        assert not (tmp_path / "pg").exists()
    finally:
        embedded.stop()


def test_it_finds_postgres_where_its_server_recorded_the_socket(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOOP_DATA_DIR", str(tmp_path))
    # Before any start: the data directory's own pg/, where pgserver puts short socket paths.
    assert embedded.postgres_address() == f"postgresql://postgres:@/postgres?host={tmp_path}/pg"
    # Once started: the socket directory the server wrote into its postmaster.pid (pgserver
    # picks another one when the data directory's path is too long for a socket).
    (tmp_path / "pg").mkdir()
    pid_lines = ["4242", str(tmp_path / "pg"), "1700000000", "5432", "/run/short-dir", "", "1 2"]
    (tmp_path / "pg" / "postmaster.pid").write_text("\n".join([*pid_lines, "ready"]) + "\n")
    assert embedded.postgres_address("cloop") == "postgresql://postgres:@/cloop?host=/run/short-dir"
