"""Data-subject rights: access (export), erasure and objection. GDPR Art. 15, 17, 21.

One implementation for every entry point: the admin's data-request actions, the `gdpr` staff
command, the REST API and the widget's `forget` frame all call these functions.

Preconditions (every public function): sync code, the connection is inside the site's schema
(`tenant_context(site)`). Each function opens its own transaction (`transaction.atomic`), so a
failure changes nothing.

A *subject* is named by an e-mail address and/or a visitor id (the widget's localStorage UUID).
Both are widened once to a closed set: the visitors who left that e-mail, and the e-mails those
visitors left, so "everything held about the subject" really is everything.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac

from conversations.models import (
    Conversation,
    DataRequest,
    ErasureAudit,
    Lead,
    Message,
    SiteSettings,
    Visitor,
)


class PrivacyError(ValueError):
    """Bad input for a data-subject operation; the message is for the user."""


@dataclass
class Subject:
    """The closed set of identifiers of one data subject on one site."""

    emails: set[str] = field(default_factory=set)  # lower-cased
    visitor_ids: set[uuid.UUID] = field(default_factory=set)
    given_email: str = ""
    given_visitor_id: uuid.UUID | None = None

    @property
    def primary_identifier(self) -> str:
        return self.given_email or str(self.given_visitor_id)

    def leads(self):
        return Lead.objects.annotate(email_l=Lower("email")).filter(
            Q(email_l__in=self.emails) | Q(visitor_id__in=self.visitor_ids)
        )

    def requests(self):
        return DataRequest.objects.annotate(email_l=Lower("subject_email")).filter(
            Q(email_l__in=self.emails) | Q(subject_visitor_id__in=self.visitor_ids)
        )


def subject_clean(email: str | None = None, visitor_id=None) -> tuple[str, uuid.UUID | None]:
    """Validate the identifiers; raises PrivacyError with a clear message."""
    email = (email or "").strip()
    if not email and not visitor_id:
        raise PrivacyError("name the subject with an e-mail address or a visitor id")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise PrivacyError(f"invalid e-mail address {email!r}") from None
    vid = None
    if visitor_id:
        try:
            vid = visitor_id if isinstance(visitor_id, uuid.UUID) else uuid.UUID(str(visitor_id))
        except ValueError:
            raise PrivacyError(f"invalid visitor id {visitor_id!r}: expected a UUID") from None
    return email.lower(), vid


def subject_resolve(email: str | None = None, visitor_id=None, *, widen: bool = False) -> Subject:
    """The identifiers of the subject.

    Always: the given e-mail, the given visitor id, and the visitors who left that e-mail.
    With `widen` (the customer has verified who is asking: the request desk, the `gdpr`
    command, the API) also, transitively, every other e-mail those visitors left and every
    visitor who left one of them. Without it (the widget's `forget`, which only proves
    possession of one browser's visitor id) another visitor's data is never reached through
    an e-mail address anyone could have typed.
    """
    email, vid = subject_clean(email, visitor_id)
    subject = Subject(given_email=email, given_visitor_id=vid)
    if email:
        subject.emails.add(email)
        subject.visitor_ids |= set(
            Lead.objects.annotate(email_l=Lower("email"))
            .filter(email_l=email, visitor_id__isnull=False)
            .values_list("visitor_id", flat=True)
        )
    if vid:
        subject.visitor_ids.add(vid)
    # A few rounds reach the fixpoint: a visitor left two addresses, one of them used elsewhere.
    for _ in range(5 if widen else 0):
        rows = list(subject.leads().values_list("email_l", "visitor_id"))
        emails = subject.emails | {e for e, _ in rows if e}
        vids = subject.visitor_ids | {v for _, v in rows if v}
        if emails == subject.emails and vids == subject.visitor_ids:
            break
        subject.emails, subject.visitor_ids = emails, vids
    return subject


def subject_hash(identifier: str) -> str:
    """Keyed HMAC-SHA256 of an identifier: proves "this subject was erased" to whoever holds
    the identifier, reveals nothing to whoever holds only the audit row."""
    key = getattr(settings, "CLOOP_ERASURE_HMAC_KEY", "") or settings.SECRET_KEY
    return salted_hmac(
        "cloop.privacy.erasure", identifier.strip().lower(), secret=key, algorithm="sha256"
    ).hexdigest()


# --- access (Art. 15) -------------------------------------------------------------------------


def _iso(value):
    return value.isoformat() if value else None


def subject_information(site_settings: SiteSettings | None = None) -> dict:
    """The Art. 15(1)(a)-(h) information that accompanies every copy of a subject's data."""
    s = site_settings or SiteSettings.load()
    tenant = getattr(connection, "tenant", None)
    controller = s.company_name or getattr(tenant, "name", "") or "[Customer Name]"
    contact = getattr(tenant, "contact_email", "") or "[Customer Contact Email]"
    return {
        "controller": controller,
        "contact": contact,
        "purposes": [
            "Answering your questions in the chat widget from the content published on our "
            "website, with AI.",
            "Letting us review conversations to improve our content.",
            "Following up on your inquiry or sending a conversation summary, if you gave your "
            "e-mail address. Marketing only with your separate consent.",
        ],
        "categories": [
            "Your chat messages and the answers given, with their sources",
            "A random visitor id stored in your browser (localStorage)",
            "The page you started chatting on",
            "The conversation phase (exploring, learning, requesting contact)",
            "Your e-mail address and consents, only if you gave them",
        ],
        "recipients": [
            f"{controller} (the website's team)",
            "Cloop, operated by ROFFI Oy (Finland), as processor; data is stored and "
            "processed in the European Union (Finland)",
        ],
        "retention": (
            f"Conversations are deleted {s.conversation_retention_days} days after their last "
            f"message; e-mail addresses (leads) {s.lead_retention_days} days after they were "
            "given."
        ),
        "rights": [
            "Access the data collected about you (Art. 15)",
            "Rectification (Art. 16)",
            "Delete your conversation and any personal data (Art. 17)",
            "Restriction of processing (Art. 18)",
            "Object to processing (Art. 21)",
        ],
        "complaint": (
            "You may lodge a complaint with a supervisory authority, for example the "
            "Data Protection Ombudsman of Finland (tietosuoja.fi) or the authority of your "
            "home country."
        ),
        "source": "Collected from you through the chat widget on our website.",
        "automated_decisions": (
            "Answers are generated automatically by an AI language model from our published "
            "content. No decisions with legal or similarly significant effects are made about "
            "you."
        ),
        "ip_address": "Not stored by the widget.",
    }


def subject_export(email: str | None = None, visitor_id=None, *, widen: bool = False) -> dict:
    """Everything held about the subject on this site, as a JSON-serialisable dict.

    Holds nothing about anyone else: only the subject's visitors, their conversations (whose
    messages are the subject's chat with the bot), their leads and the requests about them.
    """
    subject = subject_resolve(email, visitor_id, widen=widen)
    site_settings = SiteSettings.load()
    tenant = getattr(connection, "tenant", None)
    visitors = []
    for v in Visitor.objects.filter(id__in=subject.visitor_ids).order_by("first_seen"):
        conversations = []
        for c in Conversation.objects.filter(visitor=v).order_by("created_at", "id"):
            messages = [
                {
                    "id": m.id,
                    "role": m.role,
                    "text": m.text,
                    "sources": m.sources,
                    "refused": m.refused,
                    "created_at": _iso(m.created_at),
                }
                for m in Message.objects.filter(conversation=c).order_by("created_at", "id")
            ]
            conversations.append(
                {
                    "id": c.id,
                    "start_page_url": c.start_page_url,
                    "phase": c.phase,
                    "phase_history": c.phase_history,
                    "created_at": _iso(c.created_at),
                    "updated_at": _iso(c.updated_at),
                    "messages": messages,
                }
            )
        visitors.append(
            {
                "visitor_id": str(v.id),
                "first_seen": _iso(v.first_seen),
                "last_seen": _iso(v.last_seen),
                "objected": v.objected,
                "objected_at": _iso(v.objected_at),
                "conversations": conversations,
            }
        )
    leads = [
        {
            "id": lead.id,
            "email": lead.email,
            "visitor_id": str(lead.visitor_id) if lead.visitor_id else None,
            "conversation_id": lead.conversation_id,
            "marketing_consent": lead.marketing_consent,
            "consent_text": lead.consent_text,
            "consent_at": _iso(lead.consent_at),
            "source": lead.source,
            "created_at": _iso(lead.created_at),
        }
        for lead in subject.leads().order_by("created_at", "id")
    ]
    requests = [
        {
            "id": r.id,
            "kind": r.kind,
            "received_on": _iso(r.received_on),
            "due_on": _iso(r.due_on),
            "extended_until": _iso(r.extended_until),
            "status": r.status,
            "handled_at": _iso(r.handled_at),
        }
        for r in subject.requests().order_by("received_on", "id")
    ]
    return {
        "generated_at": _iso(timezone.now()),
        "site": {
            "site_id": getattr(tenant, "site_id", ""),
            "name": getattr(tenant, "name", ""),
            "url": getattr(tenant, "url", ""),
        },
        "subject": {
            "email": subject.given_email or None,
            "visitor_id": str(subject.given_visitor_id) if subject.given_visitor_id else None,
            "emails": sorted(subject.emails),
            "visitor_ids": sorted(str(v) for v in subject.visitor_ids),
        },
        "visitors": visitors,
        "leads": leads,
        "data_requests": requests,
        "information": subject_information(site_settings),
    }


def subject_export_html(data: dict) -> str:
    """The readable page of an export (same content as the JSON)."""
    from django.template.loader import render_to_string

    return render_to_string("privacy/subject_export.html", {"data": data})


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
    schema = schema or connection.schema_name
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
