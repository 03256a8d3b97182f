"""The GDPR request desk: data-subject requests, their deadlines and how they are handled.

A request is due 30 days after receipt (GDPR Art. 12(3): one month); it may be extended by up
to two further months for complex or numerous requests if the subject is told why. Overdue
means open past its (possibly extended) deadline.

Preconditions: sync code inside the site's schema (`tenant_context(site)`).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import connection
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from conversations.models import DATA_REQUEST_DAYS, DataRequest
from conversations.privacy import privacy
from tenants.urls import admin_url

# Art. 12(3): "may be extended by two further months"; counted from the receipt.
MAX_EXTENSION_DAYS = DATA_REQUEST_DAYS + 60
REMIND_AFTER_DAYS = 20


def request_create(
    kind: str,
    *,
    email: str = "",
    visitor_id=None,
    received_on: datetime.date | None = None,
    notes: str = "",
) -> DataRequest:
    """Log a request; raises PrivacyError on a bad kind or subject."""
    if kind not in DataRequest.Kind.values:
        raise privacy.PrivacyError(
            f"unknown request kind {kind!r}; choose one of {', '.join(DataRequest.Kind.values)}"
        )
    email, vid = privacy.subject_clean(email, visitor_id)
    return DataRequest.objects.create(
        kind=kind,
        subject_email=email,
        subject_visitor_id=vid,
        received_on=received_on or timezone.localdate(),
        notes=notes,
    )


def request_extend(
    req: DataRequest, *, reason: str, until: datetime.date | None = None
) -> DataRequest:
    """Extend the deadline (default: the longest Art. 12(3) allows); a reason is required."""
    if not (reason or "").strip():
        raise privacy.PrivacyError("an extension needs a reason (it is told to the subject)")
    if req.status != DataRequest.Status.OPEN:
        raise privacy.PrivacyError("only an open request can be extended")
    latest = req.received_on + datetime.timedelta(days=MAX_EXTENSION_DAYS)
    until = until or latest
    if until > latest:
        raise privacy.PrivacyError(
            f"a deadline can be extended to {latest.isoformat()} at the latest "
            "(three months from receipt)"
        )
    if until <= req.due_on:
        raise privacy.PrivacyError(f"the extension must end after the due date {req.due_on}")
    req.extended_until = until
    req.extension_reason = reason.strip()
    req.save(update_fields=["extended_until", "extension_reason"])
    return req


def requests_overdue_q(today: datetime.date | None = None) -> Q:
    today = today or timezone.localdate()
    return Q(status=DataRequest.Status.OPEN) & (
        Q(extended_until__isnull=True, due_on__lt=today) | Q(extended_until__lt=today)
    )


def requests_overdue(today: datetime.date | None = None):
    return DataRequest.objects.filter(requests_overdue_q(today))


def requests_open():
    return DataRequest.objects.filter(status=DataRequest.Status.OPEN)


def requests_due_soon(today: datetime.date | None = None):
    """Open requests at or past day 20 and not overdue yet: the reminder list."""
    today = today or timezone.localdate()
    return (
        requests_open()
        .filter(received_on__lte=today - datetime.timedelta(days=REMIND_AFTER_DAYS))
        .exclude(requests_overdue_q(today))
    )


def request_days_left(req: DataRequest, today: datetime.date | None = None) -> int:
    return (req.deadline - (today or timezone.localdate())).days


def request_is_overdue(req: DataRequest, today: datetime.date | None = None) -> bool:
    return req.status == DataRequest.Status.OPEN and request_days_left(req, today) < 0


def request_act(req: DataRequest, *, by: str = "") -> dict:
    """Carry out the request and mark it done (the customer has verified the requester, so
    the subject is widened to every linked e-mail and visitor). Returns what it produced:

    access → {"export": <subject_export dict>}, erasure → {"counts": ...},
    objection → {"objection": ...}.
    """
    if req.status != DataRequest.Status.OPEN:
        raise privacy.PrivacyError(f"request {req.pk} is already {req.status}")
    email, vid = req.subject_email, req.subject_visitor_id
    if req.kind == DataRequest.Kind.ACCESS:
        data = privacy.subject_export(email, vid, widen=True)
        req.status = DataRequest.Status.DONE
        req.handled_by = by
        req.handled_at = timezone.now()
        req.save(update_fields=["status", "handled_by", "handled_at"])
        return {"export": data}
    if req.kind == DataRequest.Kind.ERASURE:
        return {"counts": privacy.subject_erase(email, vid, request=req, handled_by=by, widen=True)}
    return {"objection": privacy.subject_object(email, vid, request=req, handled_by=by, widen=True)}


def request_reject(req: DataRequest, *, by: str, reason: str) -> DataRequest:
    """Close the request as rejected; the reason (required) is appended to its notes."""
    if not (reason or "").strip():
        raise privacy.PrivacyError("a rejection needs a reason")
    req.status = DataRequest.Status.REJECTED
    req.handled_by = by
    req.handled_at = timezone.now()
    req.notes = (req.notes + "\n" if req.notes else "") + f"Rejected: {reason.strip()}"
    req.save(update_fields=["status", "handled_by", "handled_at", "notes"])
    return req


def requests_reminder_send(today: datetime.date | None = None) -> int:
    """E-mail the site's team about requests at day 20 or later and overdue ones.

    Recipients: the site's data-protection contact and the active staff users of this site.
    Sent daily (beat) while anything is pending; returns the number of messages sent (0 or 1).
    """
    today = today or timezone.localdate()
    overdue = list(requests_overdue(today))
    soon = list(requests_due_soon(today))
    if not overdue and not soon:
        return 0
    site = connection.tenant  # type: ignore[attr-defined]  # django-tenants' connection
    users = get_user_model().objects.filter(is_active=True, is_staff=True).exclude(email="")
    recipients = sorted(
        {e for e in [site.contact_email, *users.values_list("email", flat=True)] if e}
    )
    if not recipients:
        return 0
    body = render_to_string(
        "emails/requests_reminder.txt",
        {
            "site": site,
            "overdue": [(r, -request_days_left(r, today)) for r in overdue],
            "soon": [(r, request_days_left(r, today)) for r in soon],
            "admin_url": admin_url(site.site_id) + "conversations/datarequest/?deadline=open",
        },
    )
    subject = f"[{site.name}] data requests: {len(overdue)} overdue, {len(soon)} due within 10 days"
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, recipients).send()
