"""A site with realistic data for reviewing the customer's admin page by page (run inside the
site's schema): indexed pages, a finished and a failed crawl, answered, refused and failed
conversations in every phase (some answers marked helpful or not), custom answers, leads with and without marketing consent, an objected visitor,
data requests in every state, an erasure audit and access-log entries."""

from __future__ import annotations

import datetime

from django.utils import timezone

from conversations.chat import custom_answers
from conversations.models import (
    Conversation,
    CustomAnswer,
    DataRequest,
    Message,
    SiteSettings,
)
from conversations.privacy import privacy, requests
from conversations.privacy.access_log import access_record
from tests.conversations.admin_data import lead_make, person_make, visitor_make

DAY = datetime.timedelta(days=1)


def realistic_site_make() -> dict:
    from crawler.index import index_html
    from crawler.models import CrawlRun
    from tests.conversations.pages import PAGES_A

    for url, html in PAGES_A.items():
        index_html(url, html)
    now = timezone.now()
    CrawlRun.objects.create(
        status="succeeded",
        started_at=now - 2 * DAY,
        finished_at=now - 2 * DAY + datetime.timedelta(seconds=42),
        pages_fetched=12,
        pages_indexed=10,
        pages_skipped=2,
        skipped=[{"url": "http://site-a.test/private", "reason": "robots", "detail": ""}],
    )
    CrawlRun.objects.create(status="failed", error="DNS lookup failed", finished_at=now - DAY)
    s = SiteSettings.load()
    s.company_name = ""  # one notice placeholder still missing: the index warns
    s.save()
    phases = ["exploring", "learning", "requesting_contact"]
    convs = []
    for day in range(14):
        for n in range(day % 4 + 1):
            v = visitor_make(last_seen=now - day * DAY)
            at = now - day * DAY - datetime.timedelta(hours=n)
            conv = Conversation.objects.create(
                visitor=v,
                start_page_url=f"https://site-a.test/{['pricing', 'services', ''][n % 3]}",
                phase=phases[(day + n) % 3],
                phase_history=[{"phase": "exploring", "at": at.isoformat()}],
                created_at=at,
            )
            q = Message.objects.create(
                conversation=conv,
                role="visitor",
                text=f"How much is the Pro plan? ({day})",
                created_at=at,
            )
            refused = (day + n) % 5 == 0
            Message.objects.create(
                conversation=conv,
                role="assistant",
                reply_to=q,
                refused=refused,
                # Visitors' thumbs: a few answers marked unhelpful, a few helpful.
                feedback=("down" if refused else "up") if day % 3 == 0 else "",
                text="I could not find that on this site." if refused else "99 euros per month.",
                sources=[]
                if refused
                else [{"url": "http://site-a.test/pricing", "title": "Pricing - Site A"}],
                created_at=at + datetime.timedelta(seconds=3),
            )
            convs.append(conv)
    failed = Message.objects.create(
        conversation=convs[0],
        role="assistant",
        text="",
        error="model timed out",
        created_at=now,
    )
    custom_answers.custom_answer_save(
        CustomAnswer(question="Do you offer gift cards?", answer="Yes, from 20 euros.")
    )
    custom_answers.custom_answer_save(
        CustomAnswer(question="Old question", answer="Retired answer.", active=False)
    )
    lead_make(
        convs[0].visitor,
        convs[0],
        email="ann@example.com",
        marketing_consent=True,
        consent_text="Send me news about Site A.",
        consent_at=now,
    )
    lead_make(convs[1].visitor, convs[1], email="bob@example.com")
    objector, objector_convs, _ = person_make("obi@example.com")
    privacy.subject_object("obi@example.com", None, handled_by="owner@a.test")
    open_req = requests.request_create("access", email="ann@example.com")
    overdue = requests.request_create(
        "erasure", email="bob@example.com", received_on=timezone.localdate() - 40 * DAY
    )
    soon = requests.request_create(
        "objection", visitor_id=convs[2].visitor_id, received_on=timezone.localdate() - 22 * DAY
    )
    extended = requests.request_create(
        "access", email="bob@example.com", received_on=timezone.localdate() - 35 * DAY
    )
    requests.request_extend(extended, reason="Many conversations to review.")
    erased, _, _ = person_make("gone@example.com")
    done = requests.request_create("erasure", email="gone@example.com")
    requests.request_act(done, by="owner@a.test")
    access_record(
        channel="admin",
        action="transcript_view",
        username="owner@a.test",
        object_type="conversation",
        object_id=convs[0].pk,
    )
    return {
        "conversations": convs,
        "failed_message": failed,
        "objector_conversation": objector_convs[0],
        "requests": {
            "open": open_req,
            "overdue": overdue,
            "soon": soon,
            "extended": extended,
            "done": DataRequest.objects.get(pk=done.pk),
        },
    }
