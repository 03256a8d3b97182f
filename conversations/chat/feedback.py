"""A visitor's thumbs up / down on an answer, and where the customer sees them.

`message_feedback_set` is the chat's database unit (sync, any schema: it enters
`tenant_context(site)` itself, one short statement). The feedback is a value on the assistant
message and nothing more: no time, no comment, nothing about the visitor beyond the
conversation the message already belongs to. The other functions run in the site's schema.
"""

from __future__ import annotations

import datetime
import uuid

from django.db.models import Exists, OuterRef, QuerySet
from django_tenants.utils import tenant_context

from conversations.models import Message

VALUES = {"up": Message.Feedback.UP, "down": Message.Feedback.DOWN, None: ""}


class FeedbackError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def message_feedback_set(site, *, visitor_id: uuid.UUID, message_id, value) -> str:
    """Set (or with `value` None clear) the feedback on assistant message `message_id`.

    Only on an answer in one of this visitor's own conversations: any other id (another
    visitor's, another site's, a visitor message, a failed answer) is `not_found`, so the
    answer does not tell which ids exist. Returns the stored value ("up", "down" or "").
    """
    if not (value is None or isinstance(value, str)) or value not in VALUES:
        raise FeedbackError("invalid_feedback", 'value must be "up", "down" or null.')
    if isinstance(message_id, bool) or not isinstance(message_id, int) or message_id <= 0:
        raise FeedbackError("invalid_feedback", "message_id must be a positive integer.")
    with tenant_context(site):
        updated = Message.objects.filter(
            pk=message_id,
            role=Message.Role.ASSISTANT,
            error="",
            conversation__visitor_id=visitor_id,
        ).update(feedback=VALUES[value])
    if not updated:
        raise FeedbackError("not_found", "No such answer in your conversation.")
    return VALUES[value]


def conversations_with_feedback(queryset: QuerySet, value: str) -> QuerySet:
    """Conversations of `queryset` holding at least one answer marked `value`."""
    marked = Message.objects.filter(conversation=OuterRef("pk"), feedback=value)
    return queryset.filter(Exists(marked))


def answers_unhelpful(since: datetime.datetime, limit: int = 15) -> list[dict]:
    """Answers visitors marked not helpful, newest first: the question, the answer, where."""
    rows = (
        Message.objects.filter(
            role=Message.Role.ASSISTANT, feedback=Message.Feedback.DOWN, created_at__gte=since
        )
        .select_related("reply_to")
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        {
            "question": m.reply_to.text if m.reply_to_id else "",
            "answer": m.text,
            "at": m.created_at,
            "conversation_id": m.conversation_id,
            "message_id": m.pk,
        }
        for m in rows
    ]


def feedback_counts(since: datetime.datetime) -> dict:
    recent = Message.objects.filter(role=Message.Role.ASSISTANT, created_at__gte=since)
    return {
        "up": recent.filter(feedback=Message.Feedback.UP).count(),
        "down": recent.filter(feedback=Message.Feedback.DOWN).count(),
    }
