"""The chat's database units: small synchronous functions the WebSocket consumer calls.

Preconditions (every function): sync code, any schema; each function enters
`tenant_context(site)` itself (the consumer's DB calls share one thread per process, where
another chat may have left another schema active) and does one short transaction. Nothing
here calls a model or the network.

Nothing here stores a client address: visitors are known by their random UUID only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.db import IntegrityError, connection, transaction
from django.db.models import Func, JSONField, Value
from django.utils import timezone
from django_tenants.utils import tenant_context

from conversations.chat.phases import phase_after_answer
from conversations.models import Conversation, Lead, Message, Phase, Visitor

HISTORY_LIMIT = 50


class JSONBConcat(Func):
    """`a || b` for jsonb (appends array elements)."""

    template = "(%(expressions)s)"
    arg_joiner = " || "
    output_field = JSONField()


def page_url_clean(url: str | None) -> str:
    """The page URL without query string and fragment (they can carry personal data)."""
    if not url or not isinstance(url, str):
        return ""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))[:1000]


def visitor_id_parse(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def message_as_dict(m: Message) -> dict:
    return {
        "message_id": m.pk,
        "role": m.role,
        "text": m.text,
        "sources": m.sources or [],
        "client_message_id": m.client_message_id,
        "refused": m.refused,
        "feedback": m.feedback or None,
        "created_at": m.created_at.isoformat(),
    }


def chat_resume(site, visitor_id: uuid.UUID) -> dict:
    """The visitor's latest conversation on this site and its history (read only).

    Returns {"conversation_id", "phase", "history", "objected", "has_lead", "answered"}
    (answered: assistant answers that were neither refusals nor failures); conversation_id is
    None for a visitor never seen on this site (another site's visitor id starts fresh).
    """
    with tenant_context(site):
        visitor = Visitor.objects.filter(pk=visitor_id).first()
        out = {
            "conversation_id": None,
            "phase": Phase.EXPLORING.value,
            "history": [],
            "objected": bool(visitor and visitor.objected),
            "has_lead": False,
            "answered": 0,
        }
        if visitor is None:
            return out
        out["has_lead"] = Lead.objects.filter(visitor=visitor).exists()
        conv = Conversation.objects.filter(visitor=visitor).order_by("-created_at", "-id").first()
        if conv is None:
            return out
        rows = list(
            Message.objects.filter(conversation=conv, error="").order_by("-created_at", "-id")[
                :HISTORY_LIMIT
            ]
        )
        out.update(
            conversation_id=conv.pk,
            phase=conv.phase,
            history=[message_as_dict(m) for m in reversed(rows)],
            answered=_answered_count(conv),
        )
        return out


@dataclass
class StoredQuestion:
    conversation_id: int | None
    message_id: int | None
    stored: bool  # False for objected visitors: nothing was written
    duplicate: bool = False  # this client_message_id was already stored
    reply: dict | None = None  # the stored successful answer to the duplicate, if any
    phase: str = Phase.EXPLORING.value


def question_store(
    site,
    *,
    visitor_id: uuid.UUID,
    conversation_id: int | None,
    text: str,
    client_message_id: str | None,
    page_url: str = "",
) -> StoredQuestion:
    """Store a visitor message before any model is called.

    Creates the visitor and the conversation on first use (recording the start page without
    query or fragment). A `client_message_id` already stored in this conversation is not stored
    again: the result says `duplicate` and carries the stored answer, if there is one. Objected
    visitors' messages are not stored at all (`stored` False).

    `conversation_id` must come from server state for this visitor (`chat_resume` or an
    earlier call), never from the client. This is the hot path of every chat message: one
    transaction of a few statements (upsert visitor, the visitor's conversation when none is
    given, insert message with ON CONFLICT on the idempotency key).

    Safe under concurrency: the visitor upsert locks the visitor's row until commit, so the
    same visitor's first messages on several sockets at once are stored one after another;
    the later ones find the conversation the first one opened, and the same
    `client_message_id` is stored once (the unique constraint; the others get `duplicate`).
    """
    now = timezone.now()
    with tenant_context(site):
        for attempt in range(2):
            try:
                with transaction.atomic():
                    if _visitor_touch(visitor_id, now):
                        return StoredQuestion(conversation_id=None, message_id=None, stored=False)
                    conv_id = conversation_id
                    if conv_id is None:
                        conv_id = _conversation_open(visitor_id, page_url, now)
                    msg_id = _message_insert(conv_id, text, client_message_id, now)
                    if msg_id is None:
                        existing = Message.objects.get(
                            conversation_id=conv_id, client_message_id=client_message_id
                        )
                        return _duplicate(Conversation.objects.get(pk=conv_id), existing)
                    return StoredQuestion(conversation_id=conv_id, message_id=msg_id, stored=True)
            except IntegrityError:
                # The conversation was erased meanwhile (forget in another tab, an erasure
                # request): the whole transaction rolled back; continue in the visitor's
                # latest remaining conversation, or a new one.
                if attempt or conversation_id is None:
                    raise
                conversation_id = None
        raise AssertionError("unreachable")  # pragma: no cover


def _visitor_touch(visitor_id: uuid.UUID, now) -> bool:
    """Create the visitor or update last_seen; returns whether they objected."""
    table = Visitor._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (id, first_seen, last_seen, objected) "  # noqa: S608
            "VALUES (%s, %s, %s, false) "
            # An objected visitor's record is left as it was (no new processing).
            f"ON CONFLICT (id) DO UPDATE SET last_seen = CASE WHEN {table}.objected "
            f"THEN {table}.last_seen ELSE EXCLUDED.last_seen END RETURNING objected",
            [visitor_id, now, now],
        )
        return bool(cur.fetchone()[0])


def _conversation_open(visitor_id: uuid.UUID, page_url: str, now) -> int:
    """The visitor's latest conversation, or a new one.

    Precondition: the visitor's row is locked by this transaction (`_visitor_touch`), so two
    sockets of one visitor sending their first message at once open one conversation.
    """
    latest = (
        Conversation.objects.filter(visitor_id=visitor_id)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    if latest is not None:
        return latest
    return Conversation.objects.create(
        visitor_id=visitor_id,
        start_page_url=page_url_clean(page_url),
        phase=Phase.EXPLORING,
        phase_history=[{"phase": Phase.EXPLORING.value, "at": now.isoformat()}],
        created_at=now,
    ).pk


def _message_insert(conv_id: int, text: str, cmid: str | None, now) -> int | None:
    """Insert a visitor message; None if its client_message_id is already stored."""
    table = Message._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (conversation_id, role, text, sources, model, "  # noqa: S608
            "client_message_id, refused, error, created_at) "
            "VALUES (%s, 'visitor', %s, '[]'::jsonb, '', %s, false, '', %s) "
            "ON CONFLICT (conversation_id, client_message_id) "
            "WHERE client_message_id IS NOT NULL DO NOTHING RETURNING id",
            [conv_id, text, cmid or None, now],
        )
        row = cur.fetchone()
        return row[0] if row else None


def _duplicate(conv: Conversation, existing: Message) -> StoredQuestion:
    reply = (
        Message.objects.filter(reply_to=existing, error="").order_by("-created_at", "-id").first()
    )
    return StoredQuestion(
        conversation_id=conv.pk,
        message_id=existing.pk,
        stored=True,
        duplicate=True,
        reply=message_as_dict(reply) if reply else None,
        phase=conv.phase,
    )


def _answered_count(conv: Conversation) -> int:
    return Message.objects.filter(
        conversation=conv, role=Message.Role.ASSISTANT, error="", refused=False
    ).count()


@dataclass
class StoredAnswer:
    message_id: int | None
    phase: str
    ask_email: bool
    # Another socket stored the answer to this question first: `reply` is that answer.
    duplicate: bool = False
    reply: dict | None = None
    # The conversation or the question was erased meanwhile: nothing was stored.
    erased: bool = False


def answer_store(
    site,
    *,
    conversation_id: int | None,
    reply_to_id: int | None,
    question: str,
    language: str,
    result,
    current_phase: str,
    answered_before: int,
    has_lead: bool,
) -> StoredAnswer:
    """Store the assistant's answer (or its failure) and move the conversation's phase.

    `result` is an AnswerResult. `ask_email` is true when this answer moved the conversation
    into requesting_contact and the visitor has not left an e-mail. For an objected visitor
    (`conversation_id` None) nothing is stored and the phase is only computed.

    The transaction first locks the conversation row (FOR NO KEY UPDATE, which an erasure's
    FOR UPDATE waits for, see `privacy.subject_erase`) and checks the question is still there:
    - erased meanwhile (forget, an erasure request): nothing is stored, `erased` is true;
    - already answered (the same message sent on two sockets at once): nothing is stored,
      `duplicate` is true and `reply` is the stored answer. A question has at most one
      successful answer (constraint `message_one_answer`).
    """
    step = phase_after_answer(
        question=question,
        language=language,
        current=current_phase,
        answered_before=answered_before,
        refused=result.refused,
        failed=bool(result.error),
        has_lead=has_lead,
    )
    new_phase, ask_email = step.phase, step.ask_email
    if conversation_id is None:
        return StoredAnswer(message_id=None, phase=new_phase, ask_email=ask_email)
    now = timezone.now()
    with tenant_context(site), transaction.atomic():
        gone = StoredAnswer(message_id=None, phase=current_phase, ask_email=False, erased=True)
        conv = (
            Conversation.objects.select_for_update(no_key=True)
            .filter(pk=conversation_id)
            .values_list("phase", flat=True)
            .first()
        )
        if conv is None:
            return gone
        if reply_to_id is not None:
            question = Message.objects.filter(pk=reply_to_id, conversation_id=conversation_id)
            if not question.exists():
                return gone
            answered_already = (
                Message.objects.filter(reply_to_id=reply_to_id, error="").order_by("id").first()
            )
            if answered_already is not None:
                return StoredAnswer(
                    message_id=answered_already.pk,
                    phase=conv,
                    ask_email=False,
                    duplicate=True,
                    reply=message_as_dict(answered_already),
                )
        msg = Message.objects.create(
            conversation_id=conversation_id,
            role=Message.Role.ASSISTANT,
            text=result.text,
            sources=result.sources,
            model=result.model,
            reply_to_id=reply_to_id,
            refused=result.refused,
            error=result.error,
            first_token_ms=result.first_token_ms,
            total_ms=result.total_ms,
            created_at=now,
        )
        if new_phase != current_phase:
            # One statement, no read: append to the history in the database.
            Conversation.objects.filter(pk=conversation_id).update(
                phase=new_phase,
                phase_history=JSONBConcat(
                    "phase_history",
                    Value([{"phase": new_phase, "at": now.isoformat()}], output_field=JSONField()),
                ),
                updated_at=now,
            )
        if ask_email:
            # A lead may have arrived on another connection meanwhile.
            ask_email = not Lead.objects.filter(visitor__conversations=conversation_id).exists()
    return StoredAnswer(message_id=msg.pk, phase=new_phase, ask_email=ask_email)


def conversation_transcript(site, conversation_id: int) -> dict:
    """Messages of a conversation for a summary e-mail: {"start_page_url", "messages"}."""
    with tenant_context(site):
        conv = Conversation.objects.get(pk=conversation_id)
        msgs = Message.objects.filter(conversation=conv, error="").order_by("created_at", "id")
        return {
            "start_page_url": conv.start_page_url,
            "messages": [message_as_dict(m) for m in msgs],
        }
