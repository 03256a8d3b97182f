"""Publishing Celery tasks to a site's schema: helpers every app may import.

Below the apps in the import contract (pyproject.toml, [tool.importlinter]): it imports no
app and no `cloop` module. Apps define their tasks with Celery's `shared_task`, which binds
them to Cloop's app (`cloop/celery.py`, a tenant-schemas-celery `CeleryApp`, so each task's
base class is its `TenantTask`); they never import that app. The helpers below reach the
broker through the task's own app (`task.app`).

Tasks published from inside a tenant's schema carry a `_schema_name` header and run in that
schema on the worker. Code running outside a tenant_context (the WebSocket consumer's event
loop, on_commit callbacks) must name the schema itself: `tenant_task_send`.
"""

from __future__ import annotations

# Publishing from a request or a chat thread must fail in seconds when the broker is dead.
PUBLISH_TIMEOUT = 2.0
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def tenant_task_send(task, schema_name: str, *args, task_id: str | None = None, **kwargs):
    """Publish `task` to run in `schema_name`, whatever schema the caller's connection is on.
    `task_id`: the message's id when the caller records it before publishing."""
    return task.apply_async(
        args=args, kwargs=kwargs, headers={"_schema_name": schema_name}, task_id=task_id
    )


def tenant_task_send_bounded(task, schema_name: str, *args) -> None:
    """Publish `task` to run in `schema_name` on a fresh broker connection with short socket
    timeouts and one quick retry: a dead or stuck Redis raises (kombu's OperationalError or
    OSError) within seconds instead of hanging the caller. For rare messages (summaries,
    notifications), whose connection's cost does not matter. Sync code, any schema."""
    timeouts = {"socket_connect_timeout": PUBLISH_TIMEOUT, "socket_timeout": PUBLISH_TIMEOUT}
    with task.app.connection_for_write(
        transport_options=timeouts, connect_timeout=PUBLISH_TIMEOUT
    ) as conn:
        task.apply_async(
            args=args,
            headers={"_schema_name": schema_name},
            connection=conn,
            retry=True,
            retry_policy=PUBLISH_RETRY,
        )
