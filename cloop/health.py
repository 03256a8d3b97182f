"""GET /healthz: is the database and the broker answering? JSON, 200 or 503.

`database` is "ok", "busy" (every pooled connection of this process is in use: the server
answers, the process is saturated; still 200) or "error: ...".
"""

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection
from psycopg_pool import PoolTimeout

DATABASE_TIMEOUT = 3.0


def _check_database() -> str:
    pool = connection.pool
    pool.open()  # Django opens it lazily, on the process's first connection
    try:
        # Straight from the connection pool with a short wait: a probe must answer quickly when
        # the server is down, and it needs no schema.
        with pool.connection(timeout=DATABASE_TIMEOUT) as conn:
            conn.execute("SELECT 1").fetchone()
        return "ok"
    except PoolTimeout:
        # Every connection of the budget is open and lent out: the database answers, this
        # process is just busy. Fewer open connections than the budget means new ones fail.
        stats = pool.get_stats()
        if stats.get("pool_size", 0) >= pool.max_size:
            return "busy"
        return "error: PoolTimeout"
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return f"error: {type(exc).__name__}"


def _check_broker() -> str:
    try:
        # The broker exactly as Celery sees it (URL scheme, transport options).
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"error: {type(exc).__name__}"


@never_cache
@require_GET
def healthz(request):
    started = time.monotonic()
    checks = {"database": _check_database(), "broker": _check_broker()}
    ok = all(v in ("ok", "busy") for v in checks.values())
    body = {
        "status": "ok" if ok else "error",
        **checks,
        "ms": round((time.monotonic() - started) * 1000, 1),
    }
    return JsonResponse(body, status=200 if ok else 503)


class HealthzMiddleware:
    """Answers /healthz before any middleware that needs the database or a tenant."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return healthz(request)
        return self.get_response(request)
