"""Celery tasks of the conversations app: thin shells over the functions that do the work."""

import logging

from celery import shared_task
from django.core.cache import cache

from conversations.leads.emails import summary_email_send
from conversations.privacy.tasks import retention_purge_task  # noqa: F401 - registers it

log = logging.getLogger(__name__)


SENT_MARK_SECONDS = 2 * 24 * 3600
SENDING_MARK_SECONDS = 10 * 60


@shared_task(
    bind=True,
    name="conversations.summary_send",
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
)
def summary_send_task(self, conversation_id: int, email: str, language: str = "en") -> int:
    """Runs in the site's schema: publish with `tasking.tenant_task_send(..., schema)`.

    Idempotent per task id: a redelivered or duplicated task whose e-mail already went out
    (or is going out) sends nothing. The mark holds only the task id, no address.
    """
    mark = f"summary-sent:{self.request.id}"
    # Claimed atomically, so two deliveries running at once send one e-mail. A claim whose
    # attempt crashed expires before Redis redelivers the task (visibility timeout > 1 h).
    if self.request.id and not cache.add(mark, "sending", SENDING_MARK_SECONDS):
        return 0
    try:
        sent = summary_email_send(conversation_id, email, language)
    except Exception:
        cache.delete(mark)  # let the retry send it
        raise
    cache.set(mark, "sent", SENT_MARK_SECONDS)
    log.info("summary e-mail for conversation %s: %s sent", conversation_id, sent)
    return sent
