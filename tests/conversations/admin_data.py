"""Builders of conversation data for the admin / privacy / export tests (run inside a schema)."""

from __future__ import annotations

import datetime
import uuid

from django.utils import timezone

from conversations.models import Conversation, Lead, Message, Visitor


def visitor_make(**kw) -> Visitor:
    return Visitor.objects.create(id=kw.pop("id", uuid.uuid4()), **kw)


def conversation_make(visitor, *, start="https://site.test/start", messages=2, at=None, **kw):
    at = at or timezone.now()
    conv = Conversation.objects.create(
        visitor=visitor,
        start_page_url=start,
        created_at=at,
        phase_history=[{"phase": "exploring", "at": at.isoformat()}],
        **kw,
    )
    prev = None
    for i in range(messages):
        role = Message.Role.VISITOR if i % 2 == 0 else Message.Role.ASSISTANT
        m = Message.objects.create(
            conversation=conv,
            role=role,
            text=f"{role} message {i} of conversation {conv.pk}",
            sources=[{"url": "https://site.test/pricing", "title": "Pricing"}]
            if role == Message.Role.ASSISTANT
            else [],
            reply_to=prev if role == Message.Role.ASSISTANT else None,
            created_at=at + datetime.timedelta(seconds=i),
        )
        prev = m
    return conv


def lead_make(visitor, conversation=None, *, email, **kw) -> Lead:
    return Lead.objects.create(visitor=visitor, conversation=conversation, email=email, **kw)


def person_make(email: str, *, conversations: int = 1, messages: int = 4):
    """A visitor with conversations and a lead: the usual data subject."""
    v = visitor_make()
    convs = [conversation_make(v, messages=messages) for _ in range(conversations)]
    lead = lead_make(
        v,
        convs[0],
        email=email,
        marketing_consent=True,
        consent_text="Send me news",
        consent_at=timezone.now(),
    )
    return v, convs, lead
