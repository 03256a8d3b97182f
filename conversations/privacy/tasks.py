"""Daily housekeeping of the customer's data (Celery beat): the retention purge
(`conversations.privacy.retention`) and the data-request reminder (`conversations.privacy.requests`). Thin.

The beat entry (CELERY_BEAT_SCHEDULE in cloop/settings.py) is fanned out by
tenant-schemas-celery's TenantAwareScheduler to every site's schema, so the task runs inside
one site's schema; it refuses to run in the public schema, which has no conversation tables.
"""

import logging

from celery import shared_task
from django.db import connection
from django_tenants.utils import get_public_schema_name

from conversations.privacy.requests import requests_reminder_send
from conversations.privacy.retention import retention_purge

log = logging.getLogger(__name__)


def in_ready_site(name: str) -> bool:
    if connection.schema_name == get_public_schema_name():
        log.warning("%s called in the public schema; nothing to do", name)
        return False
    tenant = getattr(connection, "tenant", None)
    # A site being created may not have all its migrations yet.
    return tenant is None or getattr(tenant, "ready", True)


@shared_task(name="conversations.retention_purge", ignore_result=True)
def retention_purge_task(dry_run: bool = False) -> dict | None:
    if not in_ready_site("retention_purge"):
        return None
    counts = retention_purge(dry_run=dry_run)
    log.info("retention purge in %s: %s", connection.schema_name, counts)
    return counts


@shared_task(name="conversations.requests_remind", ignore_result=True)
def requests_remind_task() -> int:
    """Mail the site's team while data requests are at day 20+ or overdue."""
    if not in_ready_site("requests_remind"):
        return 0
    return requests_reminder_send()
