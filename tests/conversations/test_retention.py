import datetime
import json

from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import tenant_context

from conversations.models import Conversation, Lead, Message, SiteSettings, Visitor
from conversations.retention import retention_purge
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
    from cloop.celery import tenant_task_send
    from conversations.tasks_retention import retention_purge_task

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
    from conversations import retention

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
