import datetime
import json
from uuid import uuid4

from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import tenant_context

from conversations.models import Conversation, Lead, Message, SiteSettings, Visitor
from conversations.privacy.retention import retention_purge
from tests.conversations.admin_data import conversation_make, lead_make, visitor_make

DAY = datetime.timedelta(days=1)


def _settings(conv_days=30, lead_days=60):
    s = SiteSettings.load()
    s.conversation_retention_days = conv_days
    s.lead_retention_days = lead_days
    s.save()


def test_it_deletes_conversations_a_day_after_their_period_and_keeps_younger_ones(in_site_a):
    _settings(conv_days=30)
    now = timezone.now()
    old_v = visitor_make(last_seen=now - 40 * DAY)
    expired = conversation_make(old_v, at=now - 31 * DAY, messages=4)
    young_v = visitor_make()
    kept = conversation_make(young_v, at=now - 29 * DAY, messages=2)
    # Started long ago but still active: its last message is recent.
    active = conversation_make(young_v, at=now - 90 * DAY, messages=1)
    Message.objects.create(conversation=active, role="visitor", text="still here", created_at=now)

    counts = retention_purge(now=now)

    # 4 messages of the expired conversation + the 90-day-old first line of the active one.
    assert counts == {
        "conversations": 1,
        "messages": 5,
        "leads": 0,
        "visitors": 1,
        "access_log": 0,
    }
    assert not Conversation.objects.filter(pk=expired.pk).exists()
    assert not Visitor.objects.filter(pk=old_v.pk).exists()
    assert set(Conversation.objects.values_list("pk", flat=True)) == {kept.pk, active.pk}
    assert list(active.messages.values_list("text", flat=True)) == ["still here"]
    # Move the clock: the next nightly run takes the one that expired since.
    retention_purge(now=now + 2 * DAY)
    assert set(Conversation.objects.values_list("pk", flat=True)) == {active.pk}


def test_it_deletes_leads_after_their_own_period_and_keeps_objected_visitors(in_site_a):
    _settings(conv_days=30, lead_days=60)
    now = timezone.now()
    v = visitor_make(last_seen=now - 100 * DAY, objected=True, objected_at=now - 100 * DAY)
    lead_make(v, email="old@example.com", created_at=now - 61 * DAY)
    lead_make(v, email="new@example.com", created_at=now - 59 * DAY)
    retention_purge(now=now)
    assert list(Lead.objects.values_list("email", flat=True)) == ["new@example.com"]
    assert Visitor.objects.filter(pk=v.pk, objected=True).exists()


def test_it_counts_without_deleting_on_a_dry_run(site_a, site_b, db, capsys):
    now = timezone.now()
    with tenant_context(site_a):
        _settings(conv_days=10)
        conversation_make(visitor_make(last_seen=now - 20 * DAY), at=now - 20 * DAY)
    call_command("purge_expired", "--dry-run", "--json")
    reports = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    a = next(r for r in reports if r["site_id"] == "site-a")
    assert a["conversations"] == 1 and a["dry_run"] is True
    with tenant_context(site_a):
        assert Conversation.objects.count() == 1
    call_command("purge_expired", "--site", "site-a")
    with tenant_context(site_a):
        assert Conversation.objects.count() == 0


def test_it_has_a_daily_beat_entry_that_runs_in_each_site(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["retention-purge-nightly"]
    assert entry["task"] == "conversations.retention_purge"
    assert entry["schedule"] <= 24 * 3600
    assert "tenant_schemas" not in entry  # fanned out to every site by the tenant scheduler


def test_it_purges_in_a_site_schema_on_a_real_worker(celery_worker_live, site_a):
    from conversations.privacy.tasks import retention_purge_task
    from tasking import tenant_task_send

    now = timezone.now()
    with tenant_context(site_a):
        _settings(conv_days=5)
        conversation_make(visitor_make(last_seen=now - 9 * DAY), at=now - 9 * DAY)
    result = tenant_task_send(retention_purge_task, site_a.schema_name)
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with tenant_context(site_a):
            if not Conversation.objects.exists():
                break
        time.sleep(0.2)
    with tenant_context(site_a):
        assert not Conversation.objects.exists()
    assert result.id


def test_it_purges_many_conversations_in_batches(in_site_a, monkeypatch):
    from conversations.privacy import retention

    monkeypatch.setattr(retention, "BATCH", 2)
    _settings(conv_days=7)
    now = timezone.now()
    old = [
        conversation_make(visitor_make(last_seen=now - 9 * DAY), at=now - 9 * DAY, messages=3)
        for _ in range(5)
    ]
    keep = conversation_make(visitor_make(), messages=1)
    counts = retention_purge(now=now)
    assert counts["conversations"] == 5 and counts["messages"] == 15 and counts["visitors"] == 5
    assert list(Conversation.objects.values_list("pk", flat=True)) == [keep.pk]
    assert not Conversation.objects.filter(pk__in=[c.pk for c in old]).exists()


def _oldest_survivors(now, conv_days, lead_days):
    """Rows that outlived their period as of `now` (should be none right after a purge)."""
    conv_cut = now - conv_days * DAY
    lead_cut = now - lead_days * DAY
    from django.db.models import Max
    from django.db.models.functions import Coalesce, Greatest

    conv_over = (
        Conversation.objects.annotate(
            last=Greatest("created_at", Coalesce(Max("messages__created_at"), "created_at"))
        )
        .filter(last__lt=conv_cut)
        .count()
    )
    return {
        "conversations": conv_over,
        "messages": Message.objects.filter(created_at__lt=conv_cut).count(),
        "leads": Lead.objects.filter(created_at__lt=lead_cut).count(),
        "visitors": Visitor.objects.filter(
            objected=False,
            last_seen__lt=conv_cut,
            conversations__isnull=True,
            leads__isnull=True,
        ).count(),
    }


def test_it_lets_nothing_outlive_its_period_by_more_than_a_day_on_a_moving_clock(in_site_a):
    """Four simulated months of daily traffic with a nightly purge: visitors come back to
    old conversations, leave e-mails, object, or vanish; after every night, nothing is older
    than its period, so between two nights nothing outlives it by more than a day."""
    import random

    conv_days, lead_days = 20, 45
    _settings(conv_days=conv_days, lead_days=lead_days)
    rng = random.Random(20261129)
    start = timezone.now().replace(hour=3, minute=0, second=0, microsecond=0) - 130 * DAY
    browsers = [uuid4() for _ in range(40)]
    objectors = set(browsers[:3])
    seen_objection_kept = False
    for day in range(130):
        today = start + day * DAY
        for browser in rng.sample(browsers, 6):
            at = today + datetime.timedelta(hours=rng.randint(1, 20))
            v, _ = Visitor.objects.get_or_create(id=browser, defaults={"first_seen": at})
            v.last_seen = at
            if browser in objectors and not v.objected:
                v.objected, v.objected_at = True, at
            v.save()
            if v.objected:
                continue  # the chat engine stores nothing more for them
            conv = v.conversations.order_by("-created_at").first()
            if conv is None or rng.random() < 0.4:
                conv = Conversation.objects.create(visitor=v, created_at=at)
            q = Message.objects.create(conversation=conv, role="visitor", text="q", created_at=at)
            Message.objects.create(
                conversation=conv, role="assistant", text="a", reply_to=q, created_at=at
            )
            if rng.random() < 0.25:
                Lead.objects.create(
                    visitor=v, conversation=conv, email=f"{day}@x.test", created_at=at
                )
        night = today + 23 * datetime.timedelta(hours=1)
        retention_purge(now=night)
        assert _oldest_survivors(night, conv_days, lead_days) == {
            "conversations": 0,
            "messages": 0,
            "leads": 0,
            "visitors": 0,
        }, f"day {day}"
        # Until the next night (24 h later) everything is within its period + 1 day.
        just_before_next = night + DAY - datetime.timedelta(seconds=1)
        assert set(_oldest_survivors(just_before_next, conv_days + 1, lead_days + 1).values()) == {
            0
        }
        seen_objection_kept |= Visitor.objects.filter(
            objected=True, last_seen__lt=night - conv_days * DAY
        ).exists()
    # The simulation did exercise every kind of expiry, and objections outlived the period.
    assert seen_objection_kept
    assert Visitor.objects.filter(objected=True).count() == len(objectors)
    assert Lead.objects.exists() and Message.objects.exists()


def test_it_keeps_a_visitor_while_a_lead_lives_and_drops_it_the_night_the_lead_goes(in_site_a):
    _settings(conv_days=10, lead_days=30)
    now = timezone.now()
    v = visitor_make(last_seen=now - 20 * DAY)
    conv = conversation_make(v, at=now - 20 * DAY)
    lead_make(v, conv, email="late@example.com", created_at=now - 20 * DAY)
    hello_only = visitor_make(last_seen=now - 9 * DAY)  # opened the widget, never wrote
    counts = retention_purge(now=now)
    assert counts["conversations"] == 1 and counts["visitors"] == 0
    assert Visitor.objects.filter(pk=v.pk).exists() and Lead.objects.filter(visitor=v).exists()
    # Eleven days on, the lead (30 days) has expired: the visitor goes with it, and the one
    # who only said hello has been unseen for 20 days.
    counts = retention_purge(now=now + 11 * DAY)
    assert counts["leads"] == 1 and counts["visitors"] == 2
    assert not Visitor.objects.filter(pk__in=[v.pk, hello_only.pk]).exists()
