"""E-mails to the site's own team: a new lead, and the weekly digest. Opt-in per user
(`team.models.Preferences`, edited on each user's account page).

Neither e-mail carries a transcript, a visitor's message or the visitor's e-mail address:
only counts, times and links into the admin, where opening a transcript is access-logged.

Preconditions: `lead_notify_on_commit` inside the transaction that saves the lead (any
schema); `lead_notification_send` and `digest_send` run inside the site's schema (the Celery
tasks get there through tenant-schemas-celery).
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from conversations.models import Conversation, Lead, Message
from tasking import tenant_task_send_bounded
from team.services import users_opted_in
from tenants.urls import admin_url

log = logging.getLogger(__name__)

DIGEST_DAYS = 7
SUBJECTS = {
    "lead": {
        "en": "[{name}] A visitor left their e-mail address",
        "fi": "[{name}] Kävijä jätti sähköpostiosoitteensa",
    },
    "digest": {
        "en": "[{name}] Your week in the chat: {conversations} conversations, {leads} leads",
        "fi": "[{name}] Viikko chatissa: {conversations} keskustelua, {leads} liidiä",
    },
}


def _language() -> str:
    language = getattr(getattr(connection, "tenant", None), "language", "") or "en"
    return language if language in SUBJECTS["lead"] else "en"


def _send_each(recipients: list[str], subject: str, body: str) -> int:
    """One message per address, so teammates do not see each other's addresses."""
    if not recipients:
        return 0
    messages = [
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
        for address in recipients
    ]
    with get_connection(fail_silently=False) as mail:
        return mail.send_messages(messages)


def lead_notify_on_commit(schema_name: str, lead_id: int) -> None:
    """Queue the new-lead e-mail once the lead's transaction commits (never for a lead that
    was rolled back). A broker that cannot be reached loses the notification, not the lead."""

    def publish():
        # Imported here: conversations.leads.tasks imports this module (a cycle).
        from conversations.leads.tasks import lead_notify_task

        try:
            tenant_task_send_bounded(lead_notify_task, schema_name, lead_id)
        except Exception as exc:  # the lead is stored; the e-mail is a courtesy
            log.warning("lead notification not queued: %s", type(exc).__name__)

    transaction.on_commit(publish)


def _lead_notices_left(now: datetime.datetime) -> bool:
    """Count one lead notice in this site's current hour; False past CLOOP_LEAD_NOTIFY_HOURLY.
    Anyone can type addresses into a widget: a bot must not flood the team's inboxes (the
    leads are still saved, listed and counted in the digest). Cache keys carry the schema."""
    key = f"cloop:lead-notify:{now:%Y%m%d%H}"
    cache.add(key, 0, 3600)
    try:
        return cache.incr(key) <= settings.CLOOP_LEAD_NOTIFY_HOURLY
    except ValueError:  # expired between add and incr: a new hour
        return True


def lead_notification_send(lead_id: int, now: datetime.datetime | None = None) -> int:
    """E-mail the opted-in users of this site that a lead arrived; returns messages sent
    (none past the site's hourly cap)."""
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None:  # erased meanwhile: nothing to tell
        return 0
    if not _lead_notices_left(now or timezone.now()):
        log.warning("lead notification skipped: over CLOOP_LEAD_NOTIFY_HOURLY")
        return 0
    site = connection.tenant
    base = admin_url(site.site_id)
    if lead.conversation_id:
        link = f"{base}conversations/conversation/{lead.conversation_id}/change/"
    else:
        link = f"{base}conversations/lead/{lead.pk}/change/"
    language = _language()
    context = {
        "site": site,
        "language": language,
        "link": link,
        "at": timezone.localtime(lead.created_at),
        "from_summary": lead.source == Lead.Source.SUMMARY,
        "marketing_consent": lead.marketing_consent,
        "account_url": f"{base}account/",
    }
    body = render_to_string("emails/lead_notification.txt", context)
    subject = SUBJECTS["lead"][language].format(name=site.name)
    recipients = list(users_opted_in("notify_leads").values_list("email", flat=True))
    return _send_each(recipients, subject, body)


def digest_counts(now: datetime.datetime | None = None) -> dict:
    """Counts of the `DIGEST_DAYS` days before `now`: conversations started, visitor questions,
    questions the chat could not answer (it found nothing on the site), leads."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=DIGEST_DAYS)
    window = {"created_at__gte": since, "created_at__lt": now}
    return {
        "since": since,
        "until": now,
        "conversations": Conversation.objects.filter(**window).count(),
        "questions": Message.objects.filter(role=Message.Role.VISITOR, **window).count(),
        "unanswered": Message.objects.filter(
            role=Message.Role.ASSISTANT, refused=True, **window
        ).count(),
        "leads": Lead.objects.filter(**window).count(),
    }


def digest_send(now: datetime.datetime | None = None) -> int:
    """The weekly digest to this site's opted-in users; returns the number of messages sent."""
    recipients = list(users_opted_in("weekly_digest").values_list("email", flat=True))
    if not recipients:
        return 0
    site = connection.tenant
    counts = digest_counts(now)
    language = _language()
    base = admin_url(site.site_id)
    context = {
        "site": site,
        "language": language,
        "counts": counts,
        "overview_url": f"{base}conversations/conversation/overview/",
        "account_url": f"{base}account/",
    }
    body = render_to_string("emails/weekly_digest.txt", context)
    subject = SUBJECTS["digest"][language].format(
        name=site.name, conversations=counts["conversations"], leads=counts["leads"]
    )
    return _send_each(recipients, subject, body)
