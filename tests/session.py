"""The test session's entry point: runs before Django reads the settings (pyproject's addopts
load it with `-p tests.session`; its hook runs before pytest-django's, which sets Django up).

Like `make run` and manage.py, it starts (or reuses) the embedded PostgreSQL and Redis when
DATABASE_URL / REDIS_URL are unset (importing the settings starts nothing; cloop/embedded.py).

The settings know nothing of tests: the suite runs the code production runs, configured
through the environment, here, for reasons given beside each variable.
"""

from __future__ import annotations

import os

import pytest

# Set for the whole session, test processes and the servers the tests start alike.
SESSION_ENV = {
    # Development settings, also against external servers (`make test-external`), where a
    # DATABASE_URL alone would mean production: static files from the apps' folders, the
    # development hosts, no HTTPS redirect. pytest-django still runs each test with DEBUG off.
    "DEBUG": "1",
    # A fixed public URL: a developer's running platform (the URL `make run` recorded, a PORT
    # exported in the shell) must not change the suite's results.
    "CLOOP_PUBLIC_URL": "http://localhost:8000",
    # The offline model streams without the demo's pacing: tests wait for events, not time.
    "CLOOP_OFFLINE_CHUNK_MS": "0",
}

# For this process only: it hosts an ASGI server and a threaded Celery worker beside the tests,
# so it needs more connections than one web process (10). Taken out of the environment again
# once the settings are read, so the processes a test starts name and budget themselves.
PROCESS_ENV = {"CLOOP_PROCESS": "cloop-test", "CLOOP_DB_POOL_MAX": "20"}


def worker_number() -> int:
    """This pytest-xdist worker's number (gw<n>), 0 without xdist."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def worker_redis_url(base: str, worker: int) -> str:
    """Worker gw<n>'s Redis: database n above the one `base` names, so workers running side by
    side never share a broker queue, a channel group, a rate-limit counter or a cache (the
    live_db reset empties its whole database)."""
    from cloop.redis_urls import redis_url_db, redis_url_with_db

    return redis_url_with_db(base, redis_url_db(base) + worker)


def redis_flush(base: str, workers: str | int = 1) -> None:
    """Empty the Redis databases a run of `workers` workers uses (`make test-external`)."""
    import redis

    for worker in range(max(int(workers), 1)):
        redis.Redis.from_url(worker_redis_url(base, worker)).flushdb()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    from cloop import embedded

    os.environ.update(SESSION_ENV)
    embedded.start()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # Each worker's test database is pytest-django's (CLOOP_TEST_DB + "_gw<n>"); its Redis
        # database is chosen here, for the settings and every process the tests start.
        base = os.environ.get("REDIS_URL") or embedded.redis_url()
        os.environ["REDIS_URL"] = worker_redis_url(base, worker_number())
    saved = {name: os.environ.get(name) for name in PROCESS_ENV}
    os.environ.update(PROCESS_ENV)
    try:
        return (yield)  # pytest-django reads the settings and sets Django up in here
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
