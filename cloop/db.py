"""PostgreSQL connections: which process this is, how many connections it may hold, the pool.

Every Cloop process reaches PostgreSQL through psycopg's connection pool (Django's
`OPTIONS["pool"]`), never through persistent per-thread connections: under ASGI every HTTP
request runs in a thread of its own, and a connection kept for `CONN_MAX_AGE` by a thread that
then ends is only freed by the garbage collector — the web process climbed to the server's
100 connections that way. A pool caps the process at `max_size` connections whatever its
thread count, and a connection goes back to the pool when Django closes it (end of request,
end of a chat DB unit, end of a Celery task).

Each process names itself in `pg_stat_activity.application_name` (`cloop-web`,
`cloop-worker-<queue>` — one worker per Celery queue, cloop/queues.py —, `cloop-beat`,
`cloop-manage`) so its connections can be counted against its
budget (`connection_budgets`, the README's formula for `max_connections`, bench/soak.py).

Tenancy: closing a Django connection (which returns it to the pool) makes django-tenants forget
the schema it had set, so it issues `SET search_path` on the first cursor after every checkout:
a pooled connection never carries one site's schema into its next use
(tests/cloop/test_connections.py alternates two sites over a pool of one). No pool `reset`
callback: psycopg runs it on a worker thread, which makes returning a connection asynchronous
and lets a connection returned just before the pool closes escape the close.

Imported by cloop/settings.py: no Django imports at module level.
"""

from __future__ import annotations

import os
import sys

from cloop import queues

WEB, WORKER, BEAT, MANAGE = "cloop-web", "cloop-worker", "cloop-beat", "cloop-manage"

# Connections one process may hold (its pool's max_size), by kind. For a Celery worker this is
# per pool process: every prefork child has a pool of its own.
POOL_MAX_DEFAULTS = {
    # 4 chat DB threads + 4 search threads + HTTP requests (each holds one for its duration).
    WEB: 10,
    # A task runs on one thread and uses one connection (the crawler writes from one thread).
    WORKER: 1,
    BEAT: 1,
    # migrate_platform forks TENANT_MULTIPROCESSING_MAX_PROCESSES children, each with its own.
    MANAGE: 2,
}


def kind(process: str) -> str:
    """The kind of a process name: `cloop-worker-crawl` is a WORKER (one per queue)."""
    return WORKER if process.startswith(WORKER + "-") else process


def process_name(argv: list[str] | None = None, environ=os.environ) -> str:
    """This process's name for `application_name`: CLOOP_PROCESS, else guessed from argv.

    The guess covers the README's production commands (`uvicorn cloop.asgi…`,
    `celery -A cloop worker|beat`, `manage.py …`); cloop/asgi.py sets CLOOP_PROCESS for any
    other ASGI server.
    """
    explicit = environ.get("CLOOP_PROCESS", "").strip()
    if explicit:
        return explicit[:63]
    argv = sys.argv if argv is None else argv
    prog = os.path.basename(
        os.path.dirname(argv[0]) if argv[0].endswith("__main__.py") else argv[0]
    )
    words = set(argv[1:])
    if prog.startswith("celery"):
        if "beat" in words:
            return BEAT
        queue = _option(argv[1:], "-Q", "--queues")
        return queues.worker_name(queue.replace(",", "-")) if queue else WORKER
    if prog.startswith(("uvicorn", "daphne", "gunicorn", "hypercorn")):
        return WEB
    return MANAGE


def pool_max(process: str, environ=os.environ) -> int:
    """This process's connection budget: CLOOP_DB_POOL_MAX, else the default for its kind."""
    given = environ.get("CLOOP_DB_POOL_MAX", "").strip()
    if given:
        value = int(given)
        if value < 1:
            raise ValueError("CLOOP_DB_POOL_MAX must be at least 1")
        return value
    return POOL_MAX_DEFAULTS.get(kind(process), POOL_MAX_DEFAULTS[MANAGE])


def _option(args: list[str], short: str, long: str) -> str:
    """The value of `-Q x`, `-Qx`, `--queues x` or `--queues=x` in `args`, else ''."""
    for i, arg in enumerate(args):
        if arg in (short, long):
            return args[i + 1] if i + 1 < len(args) else ""
        if arg.startswith(long + "="):
            return arg.split("=", 1)[1]
        if arg.startswith(short) and not arg.startswith("--"):
            return arg[len(short) :]
    return ""


def connection_budgets(
    worker_concurrency: dict[str, int] | None = None, environ=os.environ
) -> dict[str, int]:
    """Connections each process of `make run` may hold with the default pool sizes.

    One worker per queue (`cloop-worker-<queue>`), its budget covering all its pool processes
    (`worker_concurrency`: queue -> pool processes, default `make run`'s). The README's
    production section sums these over the processes a deployment runs to size
    `max_connections`; bench/soak.py checks each application_name against them.
    """
    concurrency = queues.CONCURRENCY if worker_concurrency is None else worker_concurrency
    workers = {
        queues.worker_name(queue): pool_max(WORKER, environ) * n for queue, n in concurrency.items()
    }
    return {
        WEB: pool_max(WEB, environ),
        **workers,
        BEAT: pool_max(BEAT, environ),
        MANAGE: pool_max(MANAGE, environ),
    }


def pool_options(
    process: str, *, max_size: int, min_size: int, timeout: float, max_idle: float
) -> dict:
    """Django's DATABASES[...]["OPTIONS"]["pool"] for this process, from the settings'
    CLOOP_DB_POOL_* values (cloop/settings.py declares them and their defaults)."""
    return {
        "min_size": min(min_size, max_size),
        "max_size": max_size,
        "timeout": timeout,
        "max_idle": max_idle,
        "name": process,
    }


def _forget_inherited_pools() -> None:
    """In a forked child (Celery prefork, migrate_platform's workers), drop the parent's pools.

    The child inherits the pool object and its idle connections' sockets, but not its
    threads: using them would interleave two processes on one server session, and closing
    them would end the parent's sessions. Dropping the references is safe (psycopg never
    finishes a connection in a process other than the one that opened it); the child opens
    a pool of its own on first use.
    """
    backend = sys.modules.get("django.db.backends.postgresql.base")
    if backend is not None:
        backend.DatabaseWrapper._connection_pools.clear()


os.register_at_fork(after_in_child=_forget_inherited_pools)
