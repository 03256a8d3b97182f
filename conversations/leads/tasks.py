"""Celery tasks of the team's e-mails (`conversations.leads.notifications`). Thin.

`lead_notify_task` is published after a lead's commit with the site's schema in its header;
`weekly_digest_task` is a beat entry fanned out to every site's schema by
tenant-schemas-celery's TenantAwareScheduler.
"""

import logging

from celery import shared_task
from django.db import connection

from conversations.leads.notifications import digest_send, lead_notification_send
from conversations.privacy.tasks import in_ready_site

log = logging.getLogger(__name__)


@shared_task(
    name="conversations.lead_notify",
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def lead_notify_task(lead_id: int) -> int:
    if not in_ready_site("lead_notify"):
        return 0
    sent = lead_notification_send(lead_id)
    log.info("lead notification in %s: %s sent", connection.schema_name, sent)
    return sent


@shared_task(name="conversations.weekly_digest", ignore_result=True)
def weekly_digest_task() -> int:
    if not in_ready_site("weekly_digest"):
        return 0
    sent = digest_send()
    log.info("weekly digest in %s: %s sent", connection.schema_name, sent)
    return sent
