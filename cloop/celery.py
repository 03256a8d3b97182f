"""The Celery app, built on tenant-schemas-celery.

Its task class is tenant-schemas-celery's `TenantTask`: a task runs in the schema named by
its message's `_schema_name` header. The apps define their tasks with `shared_task`, which
binds them to this app (imported when Django starts, `cloop/__init__.py`), and publish them
with the helpers in `tasking` (below the apps in the import contract): no app imports this
module, which imports the apps' tasks through autodiscovery.
"""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloop.settings")

app = CeleryApp("cloop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(tenant_cache_seconds=30)
app.autodiscover_tasks()
