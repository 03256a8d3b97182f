"""Leads: e-mail addresses visitors chose to leave, with a separate, recorded marketing consent.

Precondition: sync code, any schema; `lead_save` enters `tenant_context(site)` itself.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from conversations.leads.notifications import lead_notify_on_commit
from conversations.models import Conversation, Lead, Visitor


class LeadError(ValueError):
    """The e-mail could not be saved; `code` and the message go to the visitor."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def email_clean(email) -> str:
    """A validated, trimmed e-mail address (Django's validator); raises LeadError."""
    if not isinstance(email, str) or not email.strip():
        raise LeadError("invalid_email", "Please give an e-mail address.")
    email = email.strip()
    if len(email) > 254:
        raise LeadError("invalid_email", "That e-mail address is too long.")
    try:
        validate_email(email)
    except ValidationError:
        raise LeadError(
            "invalid_email", "That does not look like a valid e-mail address."
        ) from None
    return email


def lead_save(
    site,
    *,
    visitor_id: uuid.UUID,
    conversation_id: int | None,
    email,
    marketing_consent=False,
    consent_text: str = "",
    source: str = Lead.Source.WIDGET,
) -> dict:
    """Save (or update) the visitor's lead for this address.

    Marketing consent is recorded only when the visitor ticked the box: `marketing_consent`
    must be exactly True (anything else counts as not given). With it the wording shown
    (`consent_text`), the time and how it was obtained (`source`) are stored. A later save
    without the tick does not withdraw an earlier consent (withdrawal is its own act).
    Objected visitors' addresses are not stored (LeadError "objected"). Concurrent saves of
    one visitor run one after another (the visitor's row is locked until commit). A new
    address queues the team's lead notification after the commit (`notifications`).
    """
    email = email_clean(email)
    consent = marketing_consent is True
    now = timezone.now()
    with tenant_context(site), transaction.atomic():
        Visitor.objects.get_or_create(pk=visitor_id)
        # Locked until commit: the same address sent on several sockets at once makes one
        # lead (each save sees the one before it).
        visitor = Visitor.objects.select_for_update().get(pk=visitor_id)
        if visitor.objected:
            raise LeadError(
                "objected", "You have objected to processing; your e-mail was not stored."
            )
        conv = None
        if conversation_id:
            conv = Conversation.objects.filter(pk=conversation_id, visitor=visitor).first()
        lead = Lead.objects.filter(visitor=visitor, email__iexact=email).first()
        created = lead is None
        if lead is None:
            lead = Lead(visitor=visitor, email=email, source=source, created_at=now)
        lead.conversation = conv or lead.conversation
        if consent and not lead.marketing_consent:
            lead.marketing_consent = True
            lead.consent_text = consent_text
            lead.consent_at = now
            lead.source = source
        lead.save()
        if created:  # a new address: the team members who opted in hear of it after commit
            lead_notify_on_commit(site.schema_name, lead.pk)
        return {
            "lead_id": lead.pk,
            "email": lead.email,
            "marketing_consent": lead.marketing_consent,
        }


def lead_latest_email(site, visitor_id: uuid.UUID) -> str | None:
    """The address this visitor left most recently on this site, if any."""
    with tenant_context(site):
        return (
            Lead.objects.filter(visitor_id=visitor_id)
            .order_by("-created_at", "-id")
            .values_list("email", flat=True)
            .first()
        )


def summary_address(
    site, *, visitor_id: uuid.UUID, conversation_id: int | None, email
) -> str | None:
    """Where a summary goes: `email` if given (saved as a lead with source summary, no
    marketing consent; LeadError if invalid or the visitor objected), else the address this
    visitor left last on this site, or None. Same preconditions as `lead_save`."""
    if email is None:
        return lead_latest_email(site, visitor_id)
    lead_save(
        site,
        visitor_id=visitor_id,
        conversation_id=conversation_id,
        email=email,
        marketing_consent=False,
        source=Lead.Source.SUMMARY,
    )
    return email_clean(email)
