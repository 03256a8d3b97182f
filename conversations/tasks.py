"""Celery tasks of the conversations app: thin shells over the functions that do the work."""

import logging

from celery import shared_task

from conversations.emails import summary_email_send
from conversations.tasks_retention import retention_purge_task  # noqa: F401 - registers it

log = logging.getLogger(__name__)


@shared_task(
    name="conversations.summary_send",
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
)
def summary_send_task(conversation_id: int, email: str, language: str = "en") -> int:
    """Runs in the site's schema: publish with `cloop.celery.tenant_task_send(..., schema)`."""
    sent = summary_email_send(conversation_id, email, language)
    log.info("summary e-mail for conversation %s: %s sent", conversation_id, sent)
    return sent
