"""The Celery app, built on tenant-schemas-celery.

Tasks published from inside a tenant's schema carry a `_schema_name` header and run in that
schema on the worker. Code running outside a tenant_context (the WebSocket consumer's event
loop, on_commit callbacks) must pass `headers={"_schema_name": ...}` itself; see
`tenant_task_send` below.
"""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloop.settings")

app = CeleryApp("cloop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(tenant_cache_seconds=30)
app.autodiscover_tasks()


def tenant_task_send(task, schema_name: str, *args, **kwargs):
    """Publish `task` to run in `schema_name`, whatever schema the caller's connection is on."""
    return task.apply_async(args=args, kwargs=kwargs, headers={"_schema_name": schema_name})
