"""Summary e-mails a visitor asks for in the chat: the limits, then the queue.

`summary_queue` is a coroutine for the event loop (the WebSocket consumer); it touches no
database (the address is resolved and saved before, by `leads`). The e-mail itself is sent
by `tasks.summary_send_task` on a Celery worker.
"""

from __future__ import annotations

import logging

from asgiref.sync import sync_to_async
from kombu.exceptions import OperationalError

from conversations.chat.limits import LimitUnavailable, summary_rate_hit
from conversations.tasks import summary_send_task
from tasking import tenant_task_send_bounded

log = logging.getLogger(__name__)

UNAVAILABLE = "Summaries cannot be sent right now; try again in a moment."


class SummaryRefused(Exception):
    """Not queued; `code`, `message` and `extra` (retry_after, retryable) go to the visitor."""

    def __init__(self, code: str, message: str, **extra):
        super().__init__(message)
        self.code, self.message, self.extra = code, message, extra


async def summary_queue(schema_name: str, conversation_id: int, email: str, language: str):
    """Queue a summary of the conversation to `email`, or raise SummaryRefused.

    Refused with `rate_limited` (and `retry_after`) over the per-address or per-site limit
    (`limits.summary_rate_hit`), with `unavailable` (`retryable`) when Redis, which holds
    both the limits and the queue, cannot be reached.
    """
    try:
        wait = await summary_rate_hit(schema_name, email)
    except LimitUnavailable:
        raise SummaryRefused("unavailable", UNAVAILABLE, retryable=True) from None
    if wait:
        raise SummaryRefused(
            "rate_limited", "Too many summaries to this address; try again later.", retry_after=wait
        )
    # Publishing talks to the broker: off the event loop, not on a DB thread.
    await sync_to_async(summary_enqueue, thread_sensitive=False)(
        schema_name, conversation_id, email, language
    )


def summary_enqueue(schema_name: str, conversation_id: int, email: str, language: str) -> None:
    """Publish `summary_send_task` to run in `schema_name`, or raise SummaryRefused.

    Precondition: sync code off the event loop, any schema (the schema travels in the task's
    header, see `tasking.tenant_task_send`). A fresh broker connection with short socket
    timeouts and one quick retry, so a dead or stuck Redis fails in seconds instead of hanging
    the chat; summaries are rare, so the connection's cost does not matter.
    """
    try:
        tenant_task_send_bounded(summary_send_task, schema_name, conversation_id, email, language)
    except (OperationalError, OSError) as exc:
        log.warning("summary not queued: %s", type(exc).__name__)
        raise SummaryRefused("unavailable", UNAVAILABLE, retryable=True) from None
