"""The conversation summary e-mail a visitor can ask for from the chat.

Precondition: sync code inside the site's schema (the Celery task runs there via
tenant-schemas-celery's `_schema_name` header).
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.template.loader import render_to_string

from conversations.models import Conversation, Message, SiteSettings

SUBJECTS = {
    "en": "Your conversation with {name}",
    "fi": "Keskustelusi: {name}",
}


def summary_email_send(conversation_id: int, email: str, language: str = "en") -> int:
    """Send the transcript of `conversation_id` to `email`; returns the number sent (0 or 1).

    Only the visitor's own conversation is sent, to the address they gave for it. Error
    messages (failed model calls) are left out; answers keep their cited sources.
    """
    conv = Conversation.objects.filter(pk=conversation_id).first()
    if conv is None:  # erased meanwhile (forget, retention): nothing to send
        return 0
    messages = list(
        Message.objects.filter(conversation=conv, error="").order_by("created_at", "id")
    )
    site = getattr(connection, "tenant", None)
    site_settings = SiteSettings.load()
    name = site_settings.company_name or getattr(site, "name", "") or "Cloop"
    language = language if language in SUBJECTS else "en"
    context = {
        "name": name,
        "site_url": getattr(site, "url", ""),
        "messages": messages,
        "language": language,
        "conversation": conv,
    }
    text = render_to_string("emails/summary.txt", context)
    html = render_to_string("emails/summary.html", context)
    mail = EmailMultiAlternatives(
        subject=SUBJECTS[language].format(name=name),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email],
    )
    mail.attach_alternative(html, "text/html")
    return mail.send(fail_silently=False)
