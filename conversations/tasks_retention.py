"""Nightly retention purge (Celery beat). Thin: the work is `conversations.retention`.

The beat entry (CELERY_BEAT_SCHEDULE in cloop/settings.py) is fanned out by
tenant-schemas-celery's TenantAwareScheduler to every site's schema, so the task runs inside
one site's schema; it refuses to run in the public schema, which has no conversation tables.
"""

import logging

from celery import shared_task
from django.db import connection
from django_tenants.utils import get_public_schema_name

from conversations.retention import retention_purge

log = logging.getLogger(__name__)


@shared_task(name="conversations.retention_purge", ignore_result=True)
def retention_purge_task(dry_run: bool = False) -> dict | None:
    if connection.schema_name == get_public_schema_name():
        log.warning("retention_purge called in the public schema; nothing to do")
        return None
    tenant = getattr(connection, "tenant", None)
    if tenant is not None and not getattr(tenant, "ready", True):
        return None  # being created; its migrations may not be complete yet
    counts = retention_purge(dry_run=dry_run)
    log.info("retention purge in %s: %s", connection.schema_name, counts)
    return counts
