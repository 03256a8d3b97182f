"""Sending an access request's export to the subject (GDPR Art. 15(3)): an e-mail to the
request's address with a one-time link that expires, instead of an attachment (no size limit,
nothing readable left in mailboxes or mail servers' queues, and a link nobody opened can be
replaced or lapses).

The link carries a signed token (`django.core.signing`, salted): the request's id and a random
nonce. The request stores only the SHA-256 of the nonce and the expiry, so a new link replaces
the old one, and the first download clears the hash: the link works once. The export itself
is built at download time by `privacy.subject_export` (the same function as the desk's
Export buttons) and the download is access-logged.

Preconditions: sync code inside the site's schema; `export_link_send` and
`export_link_consume` open their own transaction.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import smtplib

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from conversations.models import DataRequest
from conversations.privacy import privacy
from conversations.privacy.access_log import Action, Channel, access_record
from tenants.urls import site_base_url

SALT = "cloop.subject-export-link"
HOW_LINK = "e-mail, one-time link"
SUBJECTS = {
    "en": "Your data held by {name}",
    "fi": "Sinusta tallennetut tiedot: {name}",
}


class ExportLinkInvalid(Exception):
    """The link is unknown, was already used, was replaced by a newer one, or expired."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "invalid" | "used" | "expired"


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def export_link_url(token: str) -> str:
    site = connection.tenant  # type: ignore[attr-defined]  # django-tenants' connection
    return site_base_url(site.site_id) + reverse("subject-export-link", args=[token])


def export_link_send(
    req: DataRequest, *, by: str, now: datetime.datetime | None = None
) -> DataRequest:
    """E-mail the subject a one-time link to their export and record it on the request.

    Only for an access request (open, or done and being sent again) with a subject e-mail.
    The request is marked done (answered) like the desk's "Mark answered". A mail server that
    refuses the message leaves the request as it was (PrivacyError).
    """
    if req.kind != DataRequest.Kind.ACCESS:
        raise privacy.PrivacyError("only an access request's export is sent to the subject")
    if req.status == DataRequest.Status.REJECTED:
        raise privacy.PrivacyError(f"request {req.pk} was rejected")
    if not req.subject_email:
        raise privacy.PrivacyError("the request names no e-mail address to send the export to")
    now = now or timezone.now()
    days = settings.CLOOP_EXPORT_LINK_DAYS
    nonce = secrets.token_urlsafe(24)
    token = signing.dumps({"r": req.pk, "n": nonce}, salt=SALT)
    site = connection.tenant  # type: ignore[attr-defined]  # django-tenants' connection
    language = site.language if site.language in SUBJECTS else "en"
    expires = now + datetime.timedelta(days=days)
    body = render_to_string(
        "emails/subject_export_link.txt",
        {
            "site": site,
            "language": language,
            "link": export_link_url(token),
            "expires": timezone.localtime(expires),
            "days": days,
            "request": req,
        },
    )
    with transaction.atomic():
        req = DataRequest.objects.select_for_update().get(pk=req.pk)
        req.export_sent_at = now
        req.export_sent_by = by
        req.export_sent_how = HOW_LINK
        req.export_link_hash = _hash(nonce)
        req.export_link_expires_at = expires
        req.export_link_used_at = None
        fields = [
            "export_sent_at",
            "export_sent_by",
            "export_sent_how",
            "export_link_hash",
            "export_link_expires_at",
            "export_link_used_at",
        ]
        if req.status == DataRequest.Status.OPEN:
            req.status = DataRequest.Status.DONE
            req.handled_by = by
            req.handled_at = now
            fields += ["status", "handled_by", "handled_at"]
        req.save(update_fields=fields)
        mail = EmailMessage(
            SUBJECTS[language].format(name=site.name),
            body,
            settings.DEFAULT_FROM_EMAIL,
            [req.subject_email],
        )
        try:
            mail.send(fail_silently=False)
        except (OSError, smtplib.SMTPException) as exc:
            # Raised inside the transaction: nothing is recorded as sent.
            raise privacy.PrivacyError(
                f"the e-mail could not be sent ({type(exc).__name__}); nothing was recorded"
            ) from None
    return req


def _request_for(token: str, now: datetime.datetime, *, lock: bool) -> DataRequest:
    try:
        payload = signing.loads(
            token, salt=SALT, max_age=datetime.timedelta(days=settings.CLOOP_EXPORT_LINK_DAYS)
        )
    except signing.SignatureExpired:
        raise ExportLinkInvalid("expired") from None
    except signing.BadSignature:
        raise ExportLinkInvalid("invalid") from None
    qs = DataRequest.objects.select_for_update() if lock else DataRequest.objects
    req = qs.filter(pk=payload.get("r"), kind=DataRequest.Kind.ACCESS).first()
    if req is None:
        raise ExportLinkInvalid("invalid")
    if not req.export_link_hash or not secrets.compare_digest(
        req.export_link_hash, _hash(str(payload.get("n", "")))
    ):
        # Used (the hash is cleared) or replaced by a newer link.
        raise ExportLinkInvalid("used" if req.export_link_used_at else "invalid")
    if req.export_link_expires_at is None or now >= req.export_link_expires_at:
        raise ExportLinkInvalid("expired")
    if not (req.subject_email or req.subject_visitor_id):  # erased since
        raise ExportLinkInvalid("invalid")
    return req


def export_link_check(token: str, now: datetime.datetime | None = None) -> DataRequest:
    """The request a link is for, if the link still works (does not use it up)."""
    return _request_for(token, now or timezone.now(), lock=False)


def export_link_consume(token: str, now: datetime.datetime | None = None) -> tuple[str, int]:
    """Use the link up and return (the readable export page, the request id).

    Raises ExportLinkInvalid. Two downloads at once: the row lock lets one through."""
    now = now or timezone.now()
    with transaction.atomic():
        req = _request_for(token, now, lock=True)
        req.export_link_hash = ""
        req.export_link_used_at = now
        req.save(update_fields=["export_link_hash", "export_link_used_at"])
        data = privacy.subject_export(req.subject_email, req.subject_visitor_id, widen=True)
        access_record(
            channel=Channel.SUBJECT_LINK,
            action=Action.SUBJECT_EXPORT,
            username="the subject (one-time link)",
            object_type="datarequest",
            object_id=req.pk,
        )
    return privacy.subject_export_html(data), req.pk
