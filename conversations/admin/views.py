"""Data behind the customer's overview page and the staff admin's per-site status.

Preconditions: `overview_data` runs inside the site's schema; `site_status(site)` may be
called from any schema and enters `tenant_context(site)` itself.
"""

from __future__ import annotations

import datetime

from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone
from django_tenants.utils import tenant_context

from conversations.chat.feedback import answers_unhelpful, feedback_counts
from conversations.leads.exports import leads_exportable
from conversations.models import Conversation, Lead, Message, Phase
from conversations.privacy import requests
from crawler.models import CrawlRun, Page

DAYS = 30


def _bars(pairs: list[tuple[str, int]]) -> list[dict]:
    """Rows for a CSS bar chart: label, value and width in percent of the largest value."""
    top = max((v for _, v in pairs), default=0) or 1
    return [{"label": k, "value": v, "pct": round(100 * v / top, 1)} for k, v in pairs]


def axis_top(value: int) -> int:
    """The y axis's top for a largest value: 1, 2 or 5 × a power of ten, at least 2 (so the
    middle tick is a whole number) — 7 → 10, 23 → 50, 0 → 2."""
    top = 1
    while True:
        for step in (1, 2, 5):
            if step * top >= max(value, 2):
                return step * top
        top *= 10


def day_chart(bars: list[dict]) -> dict:
    """A per-day column chart: columns scaled to a round axis top, y ticks (top, half, 0),
    x labels at the first, middle and last day, and the total (for the chart's summary)."""
    top = axis_top(max((b["value"] for b in bars), default=0))
    columns = []
    for b in bars:
        day = datetime.date.fromisoformat(b["label"])
        columns.append(
            {**b, "pct": round(100 * b["value"] / top, 1), "short": f"{day:%b} {day.day}"}
        )
    marks = {0, len(columns) // 2, len(columns) - 1} if columns else set()
    return {
        "columns": columns,
        "ticks": [top, top // 2, 0],
        "x_labels": [c["short"] for i, c in enumerate(columns) if i in marks],
        "total": sum(b["value"] for b in bars),
        "peak": max(columns, key=lambda c: c["value"], default=None),
    }


def _per_day(queryset, field: str, today: datetime.date) -> list[dict]:
    start = today - datetime.timedelta(days=DAYS - 1)
    counts = dict(
        queryset.filter(**{f"{field}__date__gte": start})
        .annotate(day=TruncDate(field))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    days = [start + datetime.timedelta(days=i) for i in range(DAYS)]
    return _bars([(d.isoformat(), counts.get(d, 0)) for d in days])


def _most_cited(since: datetime.datetime, limit: int = 10) -> list[dict]:
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT s->>'url', max(s->>'title'), count(*)
            FROM conversations_message m, jsonb_array_elements(m.sources) s
            WHERE m.role = 'assistant' AND m.created_at >= %s AND jsonb_typeof(m.sources) = 'array'
            GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT %s
            """,
            [since, limit],
        )
        rows = cur.fetchall()
    bars = _bars([(url or "", n) for url, _, n in rows])
    for bar, (_, title, _) in zip(bars, rows, strict=True):
        bar["title"] = title or bar["label"]
    return bars


def _unanswered(since: datetime.datetime, limit: int = 15) -> list[dict]:
    """Visitor questions the bot declined (no content on the site): what to write next."""
    refused = (
        Message.objects.filter(role=Message.Role.ASSISTANT, refused=True, created_at__gte=since)
        .select_related("reply_to")
        .order_by("-created_at")[:limit]
    )
    return [
        {
            "question": m.reply_to.text if m.reply_to_id else "",
            "at": m.created_at,
            "conversation_id": m.conversation_id,
        }
        for m in refused
    ]


def _crawl_status() -> dict:
    last = CrawlRun.objects.order_by("-created_at").first()
    runs = list(CrawlRun.objects.order_by("-created_at")[:10])
    last_ok = (
        CrawlRun.objects.filter(status=CrawlRun.Status.SUCCEEDED).order_by("-created_at").first()
    )
    return {
        "pages": Page.objects.count(),
        "last": last,
        "last_ok": last_ok if last_ok != last else None,
        "runs": _bars([(f"#{r.pk} {r.status}", r.pages_indexed) for r in reversed(runs)]),
    }


def overview_data(now: datetime.datetime | None = None) -> dict:
    now = now or timezone.now()
    today = timezone.localdate(now)
    since = now - datetime.timedelta(days=DAYS)
    phases = dict(Conversation.objects.values_list("phase").annotate(n=Count("id")))
    # The leads a customer may contact: an objection (Art. 21) voids marketing consent, so
    # objected people are counted apart, never as "with marketing consent".
    leads = leads_exportable()
    objected_leads = Lead.objects.count() - leads.count()
    recent = Message.objects.filter(role=Message.Role.ASSISTANT, created_at__gte=since)
    refused_total = recent.filter(refused=True).count()
    failed_total = recent.filter(refused=False).exclude(error="").count()
    answered_total = recent.filter(refused=False, error="").count()
    answers = _bars(
        [
            ("answered", answered_total),
            ("could not answer", refused_total),
            ("failed (model error)", failed_total),
        ]
    )
    for bar in answers[1:]:
        bar["warn"] = True
    return {
        "days": DAYS,
        "days_text": f"{DAYS} days",
        "totals": {
            "conversations": Conversation.objects.count(),
            "conversations_recent": Conversation.objects.filter(created_at__gte=since).count(),
            "leads": leads.count(),
            "leads_consent": leads.filter(marketing_consent=True).count(),
            "leads_objected": objected_leads,
            "answered": answered_total,
            "refused": refused_total,
            "failed": failed_total,
            "open_requests": requests.requests_open().count(),
            "overdue_requests": requests.requests_overdue().count(),
        },
        "conversations_per_day": day_chart(
            _per_day(Conversation.objects.all(), "created_at", today)
        ),
        "leads_per_day": day_chart(_per_day(leads, "created_at", today)),
        "phases": _bars([(label, phases.get(value, 0)) for value, label in Phase.choices]),
        "answers": answers if failed_total else answers[:2],
        "unanswered": _unanswered(since),
        "unhelpful": answers_unhelpful(since),
        "feedback": feedback_counts(since),
        "most_cited": _most_cited(since),
        "crawl": _crawl_status(),
    }


def site_status(site) -> dict:
    """Counts for the staff admin's site list, read inside the site's schema."""
    if not site.ready:
        return {}
    with tenant_context(site):
        last = CrawlRun.objects.order_by("-created_at").first()
        req = requests.requests_open().aggregate(
            open=Count("id"), overdue=Count("id", filter=requests.requests_overdue_q())
        )
        return {
            "pages_indexed": Page.objects.count(),
            "last_crawl": f"{last.status} {last.created_at:%Y-%m-%d %H:%M}" if last else "never",
            "conversations": Conversation.objects.count(),
            "open_requests": req["open"],
            "overdue_requests": req["overdue"],
        }
