import multiprocessing

import pytest
from django.conf import settings
from django.db import connection

from cloop import db


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["/srv/.venv/bin/uvicorn", "cloop.asgi:application"], db.WEB),
        (["/usr/lib/python3/site-packages/uvicorn/__main__.py", "cloop.asgi:app"], db.WEB),
        (["/srv/.venv/bin/gunicorn", "-k", "uvicorn.workers.UvicornWorker"], db.WEB),
        (["/srv/.venv/bin/celery", "-A", "cloop", "worker"], db.WORKER),
        (["/srv/.venv/bin/celery", "-A", "cloop", "worker", "-Q", "crawl"], "cloop-worker-crawl"),
        (["/srv/.venv/bin/celery", "-A", "cloop", "worker", "-Qdefault"], "cloop-worker-default"),
        (["celery", "-A", "cloop", "worker", "--queues=crawl"], "cloop-worker-crawl"),
        (["/x/celery/__main__.py", "-A", "cloop", "beat", "--scheduler", "s"], db.BEAT),
        (["manage.py", "migrate_platform"], db.MANAGE),
        # No kind of its own: the test session names itself and sets its budget (tests/session.py).
        (["/srv/.venv/bin/pytest", "-q"], db.MANAGE),
    ],
)
def test_it_names_each_kind_of_process(argv, expected):
    assert db.process_name(argv, environ={}) == expected


def test_it_takes_an_explicit_process_name_first():
    argv = ["/srv/.venv/bin/celery", "-A", "cloop", "worker"]
    assert db.process_name(argv, environ={"CLOOP_PROCESS": "cloop-worker-crawl"}) == (
        "cloop-worker-crawl"
    )


def test_it_budgets_connections_per_process_kind():
    budgets = db.connection_budgets(worker_concurrency={"crawl": 4, "default": 2}, environ={})
    assert budgets[db.WEB] == db.POOL_MAX_DEFAULTS[db.WEB]
    # Every prefork child of a worker has a pool of its own; one worker per queue.
    assert budgets["cloop-worker-crawl"] == 4 * db.POOL_MAX_DEFAULTS[db.WORKER]
    assert budgets["cloop-worker-default"] == 2 * db.POOL_MAX_DEFAULTS[db.WORKER]
    assert db.pool_max("cloop-worker-crawl", environ={}) == db.POOL_MAX_DEFAULTS[db.WORKER]
    assert db.pool_max(db.WEB, environ={"CLOOP_DB_POOL_MAX": "3"}) == 3
    with pytest.raises(ValueError):
        db.pool_max(db.WEB, environ={"CLOOP_DB_POOL_MAX": "0"})


def test_it_pools_connections_instead_of_keeping_them_per_thread():
    options = settings.DATABASES["default"]["OPTIONS"]
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 0
    assert options["application_name"] == settings.CLOOP_PROCESS == "cloop-test"
    assert options["pool"]["max_size"] == settings.CLOOP_DB_POOL_MAX == 20


def _child_sees_pools(queue):
    from django.db.backends.postgresql.base import DatabaseWrapper

    queue.put(len(DatabaseWrapper._connection_pools))


def test_it_drops_the_parents_pool_in_a_forked_child(db):
    from django.db.backends.postgresql.base import DatabaseWrapper

    connection.ensure_connection()
    assert DatabaseWrapper._connection_pools  # the parent's pool is open
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_sees_pools, args=(queue,))
    child.start()
    child.join(60)
    assert queue.get(timeout=5) == 0
    # The parent's own connections still work.
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)
