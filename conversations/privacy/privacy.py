"""Data-subject rights: access (export), erasure and objection. GDPR Art. 15, 17, 21.

One implementation for every entry point: the admin's data-request actions, the `gdpr` staff
command, the REST API and the widget's `forget` frame all call these functions.

The subject's identifiers live in conversations.privacy.subject and the export in
conversations.privacy.export; both are re-exported here, so callers use `privacy.<name>`.

Preconditions (every public function): sync code, the connection is inside the site's schema
(`tenant_context(site)`). Each function opens its own transaction (`transaction.atomic`), so a
failure changes nothing.

A *subject* is named by an e-mail address and/or a visitor id (the widget's localStorage UUID).
Both are widened once to a closed set: the visitors who left that e-mail, and the e-mails those
visitors left, so "everything held about the subject" really is everything.
"""

from __future__ import annotations

import re

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from conversations.models import (
    Conversation,
    DataRequest,
    ErasureAudit,
    Lead,
    Message,
    Visitor,
)
from conversations.privacy.export import (  # noqa: F401 - re-exported for callers
    subject_export,
    subject_export_html,
    subject_information,
)
from conversations.privacy.subject import (  # noqa: F401 - re-exported for callers
    PrivacyError,
    Subject,
    subject_clean,
    subject_hash,
    subject_resolve,
)

# --- erasure (Art. 17) ------------------------------------------------------------------------


def subject_erase(
    email: str | None = None,
    visitor_id=None,
    *,
    request: DataRequest | None = None,
    handled_by: str = "",
    widen: bool = False,
) -> dict:
    """Hard-delete every row about the subject; return the counts per kind.

    Deletes the visitors (cascading to conversations and messages) and the leads; blanks the
    subject's identifiers in data requests and removes admin log entries that name them. Leaves
    one ErasureAudit row holding only a keyed HMAC of the identifier and the counts. When
    `request` is given it is marked done.
    """
    subject = subject_resolve(email, visitor_id, widen=widen)
    with transaction.atomic():
        # Lock before reading: a chat answer being stored (`chat.answer_store` holds its
        # conversation row) commits first and is erased here, or waits and then finds its
        # conversation gone and stores nothing. No answer outlives the erasure.
        list(Visitor.objects.select_for_update().filter(id__in=subject.visitor_ids).values("id"))
        list(
            Conversation.objects.select_for_update()
            .filter(visitor_id__in=subject.visitor_ids)
            .values("id")
        )
        counts = {
            "visitors": 0,
            "conversations": Conversation.objects.filter(
                visitor_id__in=subject.visitor_ids
            ).count(),
            "messages": Message.objects.filter(
                conversation__visitor_id__in=subject.visitor_ids
            ).count(),
            "leads": 0,
            "data_requests_scrubbed": 0,
            "admin_log_entries": 0,
        }
        counts["leads"] = Lead.objects.filter(
            pk__in=list(subject.leads().values_list("pk", flat=True))
        ).delete()[0]
        # Messages first, newest first, in one statement each: avoids the collector walking
        # reply_to chains row by row for long conversations.
        Message.objects.filter(
            conversation__visitor_id__in=subject.visitor_ids, reply_to__isnull=False
        ).delete()
        Message.objects.filter(conversation__visitor_id__in=subject.visitor_ids).delete()
        Conversation.objects.filter(visitor_id__in=subject.visitor_ids).delete()
        counts["visitors"] = Visitor.objects.filter(id__in=subject.visitor_ids).delete()[0]
        counts["data_requests_scrubbed"] = _requests_scrub(subject)
        counts["admin_log_entries"] = _admin_log_scrub(subject)
        if request is not None:
            request.status = DataRequest.Status.DONE
            request.handled_by = handled_by or request.handled_by
            request.handled_at = timezone.now()
            request.subject_email = ""
            request.subject_visitor_id = None
            for needle in [*subject.emails, *(str(v) for v in subject.visitor_ids)]:
                request.notes = _replace_ci(request.notes, needle, "[erased]")
            request.save()
        ErasureAudit.objects.create(
            request=request, subject_hash=subject_hash(subject.primary_identifier), counts=counts
        )
    return counts


def _requests_scrub(subject: Subject) -> int:
    n = 0
    needles = [*subject.emails, *(str(v) for v in subject.visitor_ids)]
    for r in subject.requests():
        r.subject_email = ""
        r.subject_visitor_id = None
        for needle in needles:
            r.notes = _replace_ci(r.notes, needle, "[erased]")
        r.save(update_fields=["subject_email", "subject_visitor_id", "notes"])
        n += 1
    # Notes of other requests may quote the address too.
    q = Q()
    for needle in needles:
        q |= Q(notes__icontains=needle)
    if needles:
        for r in DataRequest.objects.filter(q):
            for needle in needles:
                r.notes = _replace_ci(r.notes, needle, "[erased]")
            r.save(update_fields=["notes"])
            n += 1
    return n


def _replace_ci(text: str, needle: str, replacement: str) -> str:
    return re.sub(re.escape(needle), replacement, text or "", flags=re.IGNORECASE)


def _admin_log_scrub(subject: Subject) -> int:
    """Admin history names leads by e-mail and visitors by id; such entries go too."""
    from django.contrib.admin.models import LogEntry

    needles = [*subject.emails, *(str(v) for v in subject.visitor_ids)]
    if not needles:
        return 0
    q = Q()
    for needle in needles:
        q |= (
            Q(object_repr__icontains=needle)
            | Q(object_id__iexact=needle)
            | Q(change_message__icontains=needle)
        )
    return LogEntry.objects.filter(q).delete()[0]


# --- objection (Art. 21) ----------------------------------------------------------------------


def subject_object(
    email: str | None = None,
    visitor_id=None,
    *,
    request: DataRequest | None = None,
    handled_by: str = "",
    widen: bool = False,
) -> dict:
    """Flag the subject as objecting: their visitors store no new messages and their leads
    leave every export.

    Visitor ids not seen yet get a Visitor row carrying the flag, so the objection also holds
    for a first chat afterwards. An e-mail objection is kept as a done objection DataRequest
    (the `request` given, or a new one), which the lead exports consult.
    """
    subject = subject_resolve(email, visitor_id, widen=widen)
    now = timezone.now()
    with transaction.atomic():
        existing = set(
            Visitor.objects.filter(id__in=subject.visitor_ids).values_list("id", flat=True)
        )
        Visitor.objects.filter(id__in=existing, objected=False).update(
            objected=True, objected_at=now
        )
        for vid in subject.visitor_ids - existing:
            Visitor.objects.create(id=vid, objected=True, objected_at=now)
        if request is None:
            request = DataRequest(
                kind=DataRequest.Kind.OBJECTION,
                subject_email=subject.given_email,
                subject_visitor_id=subject.given_visitor_id,
                received_on=timezone.localdate(),
                notes="Recorded by the objection action.",
            )
        request.status = DataRequest.Status.DONE
        request.handled_by = handled_by or request.handled_by
        request.handled_at = now
        request.save()
    return {
        "visitors_flagged": len(subject.visitor_ids),
        "emails": len(subject.emails),
        "leads_excluded": subject.leads().count(),
        "request_id": request.pk,
    }


def objected_emails():
    """Lower-cased e-mails under a done objection request (a subquery-able values list)."""
    return (
        DataRequest.objects.filter(kind=DataRequest.Kind.OBJECTION, status=DataRequest.Status.DONE)
        .exclude(subject_email="")
        .annotate(email_l=Lower("subject_email"))
        .values("email_l")
    )


def visitor_has_objected(visitor_id) -> bool:
    """For the chat engine: True if this visitor's messages must not be stored."""
    return Visitor.objects.filter(id=visitor_id, objected=True).exists()


# --- verification -----------------------------------------------------------------------------

_TEXT_TYPES = ("text", "character varying", "character", "uuid", "json", "jsonb")


def schema_scan(needles: list[str], schema: str | None = None) -> list[tuple[str, str]]:
    """(table, column) pairs of the schema whose values contain any needle (case-insensitive).

    Used to prove an erasure: after `subject_erase` no table of the site's schema may still
    hold the e-mail or the visitor id. Reads every text-like column; slow on big sites, so it
    runs in tests and benchmarks, not on every erasure.
    """
    schema = schema or connection.schema_name  # type: ignore[attr-defined]  # django-tenants' connection
    found = []
    with connection.cursor() as cur:
        cur.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND data_type = ANY(%s) ORDER BY table_name, column_name",
            [schema, list(_TEXT_TYPES)],
        )
        columns = cur.fetchall()
        for table, column in columns:
            for needle in needles:
                cur.execute(
                    f'SELECT 1 FROM "{schema}"."{table}" WHERE "{column}"::text ILIKE %s LIMIT 1',  # noqa: S608
                    ["%" + needle.replace("%", r"\%").replace("_", r"\_") + "%"],
                )
                if cur.fetchone():
                    found.append((table, column))
                    break
    return found
