"""Who a data subject is: validated identifiers, widened to a closed set, and their keyed hash.

Shared by the access (conversations.privacy.export) and erasure/objection
(conversations.privacy.privacy) functions. Preconditions: sync code inside the site's schema.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac

from conversations.models import DataRequest, Lead


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
    key = settings.CLOOP_ERASURE_HMAC_KEY or settings.SECRET_KEY
    return salted_hmac(
        "cloop.privacy.erasure", identifier.strip().lower(), secret=key, algorithm="sha256"
    ).hexdigest()
