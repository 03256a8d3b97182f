"""Retention: delete conversations, messages, leads, visitors and access-log entries older than
the site's periods (GDPR Art. 5(1)(e)).

`retention_purge` works on the current schema; the nightly beat task (run in every site's
schema by tenant-schemas-celery) and `manage.py purge_expired` (which loops over the sites)
both call it. Run daily, nothing outlives its period by more than a day.

Preconditions: sync code inside the site's schema for `retention_purge`; the public schema
for `retention_purge_all`.
"""

from __future__ import annotations

import datetime

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, tenant_context

from conversations.models import Conversation, Lead, Message, SiteSettings, Visitor
from conversations.privacy.access_log import access_log_purge
from tenants.models import Site


def retention_cutoffs(now: datetime.datetime | None = None) -> dict[str, datetime.datetime]:
    """Rows created before these instants have expired (from the current site's settings)."""
    now = now or timezone.now()
    s = SiteSettings.load()
    return {
        "conversations": now - datetime.timedelta(days=s.conversation_retention_days),
        "leads": now - datetime.timedelta(days=s.lead_retention_days),
    }


BATCH = 500  # conversations per transaction: bounded locks and memory on a first big purge


def _messages_delete(ids: list[int]) -> int:
    messages = Message.objects.filter(pk__in=ids)
    # Answers first: they point at the questions they reply to.
    n = messages.filter(reply_to__isnull=False).delete()[0]
    return n + Message.objects.filter(pk__in=ids).delete()[0]


def retention_purge(*, now: datetime.datetime | None = None, dry_run: bool = False) -> dict:
    """Delete expired rows of the current site; returns counts (what would go, if dry_run).

    - A conversation expires when its last message (or its start, if it has none) is older
      than the conversation period; it goes with all its messages.
    - A message older than the conversation period goes on its own too, even in a
      conversation still in use (a visitor who keeps coming back): the notice promises a
      period, so a long-running transcript loses its oldest lines rather than keeping them.
    - A lead expires when it is older than the lead period.
    - A visitor expires when it has no conversation and no lead left and was last seen before
      the conversation period, except objected visitors: the row *is* the objection (the chat
      engine checks it before storing anything), so deleting it would let the next chat from
      that browser be stored again. It holds nothing but the random id and two dates.
    - Access-log entries expire after ACCESS_LOG_RETENTION_DAYS (conversations.privacy.access_log).

    Conversations and stray messages go in batches, each in its own transaction, so a purge
    interrupted halfway has deleted whole conversations (or whole batches of old messages)
    only, and the next run finishes it.
    """
    cut = retention_cutoffs(now)
    expired = Conversation.objects.filter(created_at__lt=cut["conversations"]).exclude(
        messages__created_at__gte=cut["conversations"]
    )
    old_messages = Message.objects.filter(created_at__lt=cut["conversations"])
    leads = Lead.objects.filter(created_at__lt=cut["leads"])
    stale_visitors = Visitor.objects.filter(objected=False, last_seen__lt=cut["conversations"])
    if dry_run:
        return {
            "conversations": expired.count(),
            "messages": old_messages.count(),
            "leads": leads.count(),
            "visitors": stale_visitors.exclude(
                conversations__in=Conversation.objects.exclude(pk__in=expired.values("pk"))
            )
            .exclude(leads__in=Lead.objects.filter(created_at__gte=cut["leads"]))
            .count(),
            "access_log": access_log_purge(now, dry_run=True),
        }
    counts = {"conversations": 0, "messages": 0, "leads": leads.delete()[0]}
    while True:
        with transaction.atomic():
            ids = list(expired.values_list("pk", flat=True)[:BATCH])
            if not ids:
                break
            msg_ids = list(
                Message.objects.filter(conversation_id__in=ids).values_list("pk", flat=True)
            )
            counts["messages"] += _messages_delete(msg_ids)
            counts["conversations"] += Conversation.objects.filter(pk__in=ids).delete()[0]
    # Old lines of conversations that are still in use.
    while True:
        with transaction.atomic():
            ids = list(old_messages.values_list("pk", flat=True)[: BATCH * 10])
            if not ids:
                break
            counts["messages"] += _messages_delete(ids)
    # What is left of a stale visitor's data is live (the expired rows are gone by now).
    counts["visitors"] = stale_visitors.filter(
        conversations__isnull=True, leads__isnull=True
    ).delete()[0]
    counts["access_log"] = access_log_purge(now)
    return counts


def retention_purge_site(site, *, now=None, dry_run: bool = False) -> dict:
    """Purge one site from the public schema (enters the site's schema and leaves it again);
    returns its report: the counts with the site id and whether it was a dry run."""
    with tenant_context(site):
        counts = retention_purge(now=now, dry_run=dry_run)
    return {"site_id": site.site_id, "dry_run": dry_run, **counts}


def retention_purge_all(*, now=None, dry_run: bool = False) -> list[dict]:
    """Purge every ready site, one schema at a time; returns one report per site."""
    sites = Site.objects.filter(ready=True).exclude(schema_name=get_public_schema_name())
    reports = [
        retention_purge_site(site, now=now, dry_run=dry_run) for site in sites.order_by("site_id")
    ]
    connection.set_schema_to_public()  # type: ignore[attr-defined]  # django-tenants' connection
    return reports
