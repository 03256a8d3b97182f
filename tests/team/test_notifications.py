"""The team's e-mails: a new lead (opt-in, after the commit, through a worker) and the weekly
digest, over real SMTP on loopback. Neither carries a message, a transcript or the visitor's
address."""

import datetime
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from conversations.leads.leads import lead_save
from conversations.leads.notifications import digest_send, lead_notification_send
from conversations.models import Conversation, Lead, Message, Visitor
from team.services import preferences_update

SECRET = "Can I pay my invoice 4711 with the card ending 0042?"


def team_make(*, leads=(), digest=()):
    """Users of the current site: each given address opted in; one who did not, one inactive."""
    users = get_user_model().objects
    for email in {*leads, *digest}:
        user = users.create_user(email, email, "pw-123456", is_staff=True)
        preferences_update(user, notify_leads=email in leads, weekly_digest=email in digest)
    users.create_user("quiet@a.test", "quiet@a.test", "pw-123456", is_staff=True)
    gone = users.create_user("gone@a.test", "gone@a.test", "pw-123456", is_staff=True)
    preferences_update(gone, notify_leads=True, weekly_digest=True)
    gone.is_active = False
    gone.save()


def chat_make():
    conv = Conversation.objects.create(visitor=Visitor.objects.create())
    q = Message.objects.create(conversation=conv, role="visitor", text=SECRET)
    Message.objects.create(conversation=conv, role="assistant", reply_to=q, text="Yes [1].")
    return conv


def test_it_mails_only_opted_in_users_a_link_without_the_conversation(in_site_a, smtp_server):
    team_make(leads=["owner@a.test"])
    conv = chat_make()
    lead = Lead.objects.create(visitor=conv.visitor, conversation=conv, email="v@example.com")
    assert lead_notification_send(lead.pk) == 1
    # Sent synchronously: every message the call sent is already in the inbox.
    assert len(smtp_server.messages) == 1
    rcpt, msg = smtp_server.messages[0]
    assert rcpt == ["owner@a.test"]
    assert msg["Subject"] == "[Site A Oy] A visitor left their e-mail address"
    body = msg.get_content()
    link = f"http://site-a.localhost:8000/admin/conversations/conversation/{conv.pk}/change/"
    assert link in body
    for private in (SECRET, "invoice", "Yes [1]", "v@example.com", str(conv.visitor_id)):
        assert private not in body


def test_it_caps_lead_notices_per_site_and_hour(in_site_a, smtp_server, settings):
    from django.core.cache import cache

    cache.clear()
    settings.CLOOP_LEAD_NOTIFY_HOURLY = 2
    team_make(leads=["owner@a.test"])
    conv = chat_make()
    hour = timezone.now().replace(minute=0, second=0)
    sent = [
        lead_notification_send(
            Lead.objects.create(visitor=conv.visitor, email=f"{i}@example.com").pk,
            now=hour + datetime.timedelta(minutes=20 * i),
        )
        for i in range(3)
    ]
    assert sent == [1, 1, 0] and len(smtp_server.messages) == 2
    next_hour = Lead.objects.create(visitor=conv.visitor, email="later@example.com")
    assert lead_notification_send(next_hour.pk, now=hour + datetime.timedelta(hours=1)) == 1


def test_it_notifies_through_a_worker_after_the_lead_commits(site_a, celery_tasks, smtp_server):
    with tenant_context(site_a):
        team_make(leads=["owner@a.test"])
        conv = chat_make()
    lead_save(site_a, visitor_id=conv.visitor_id, conversation_id=conv.pk, email="v@example.com")
    rcpt, msg = smtp_server.wait(1)[0]
    assert rcpt == ["owner@a.test"]
    assert f"/admin/conversations/conversation/{conv.pk}/change/" in msg.get_content()
    # The same address again is no new lead: a second lead (another address) is the next mail.
    lead_save(site_a, visitor_id=conv.visitor_id, conversation_id=conv.pk, email="v@example.com")
    lead_save(site_a, visitor_id=conv.visitor_id, conversation_id=conv.pk, email="w@example.com")
    assert len(celery_tasks.idle()) == 2  # both new leads' notices have run
    assert [rcpt for rcpt, _ in smtp_server.messages] == [["owner@a.test"]] * 2


def test_it_lets_each_user_opt_in_on_their_account_page(in_site_a, site_a):
    user = get_user_model().objects.create_user("t@a.test", "t@a.test", "pw", is_staff=True)
    client = Client(HTTP_HOST=site_a.host)
    client.force_login(user)
    page = client.get("/admin/account/").content.decode()
    assert "E-mail me when a visitor leaves an e-mail address" in page
    assert 'href="/admin/account/"' in client.get("/admin/").content.decode()
    response = client.post("/admin/account/", {"notify_leads": "on"})
    assert response.status_code == 302
    user.cloop_preferences.refresh_from_db()
    assert user.cloop_preferences.notify_leads and not user.cloop_preferences.weekly_digest


def test_it_sends_the_weekly_digest_with_the_past_weeks_counts(in_site_a, smtp_server):
    team_make(digest=["owner@a.test", "second@a.test"])
    now = timezone.now()
    old = now - datetime.timedelta(days=8)
    for at in (now - datetime.timedelta(days=1), now - datetime.timedelta(days=6), old):
        conv = Conversation.objects.create(visitor=Visitor.objects.create(), created_at=at)
        q = Message.objects.create(conversation=conv, role="visitor", text=SECRET, created_at=at)
        Message.objects.create(
            conversation=conv, role="assistant", reply_to=q, refused=True, created_at=at
        )
        Lead.objects.create(visitor=conv.visitor, email=f"{uuid.uuid4().hex}@x.test", created_at=at)
    assert digest_send(now) == 2
    assert sorted(r for r, _ in smtp_server.messages) == [["owner@a.test"], ["second@a.test"]]
    msg = smtp_server.messages[0][1]
    assert msg["Subject"] == "[Site A Oy] Your week in the chat: 2 conversations, 2 leads"
    lines = msg.get_content().splitlines()
    assert "Conversations: 2" in lines and "Leads (e-mail addresses left): 2" in lines
    assert "Questions: 2" in lines
    assert "Questions the chat could not answer from your site: 2" in lines
    body = msg.get_content()
    assert "http://site-a.localhost:8000/admin/conversations/conversation/overview/" in body
    assert SECRET not in body and "@x.test" not in body


def test_it_schedules_the_digest_weekly_in_every_site():
    entry = settings.CELERY_BEAT_SCHEDULE["weekly-digest"]
    from conversations.leads.tasks import weekly_digest_task

    assert "conversations.leads.tasks" in settings.CELERY_IMPORTS  # the worker loads it
    assert entry["task"] == weekly_digest_task.name
    assert entry["schedule"].day_of_week == {1}  # Mondays


def test_it_writes_the_notice_in_the_sites_language(in_site_a, smtp_server):
    from django.db import connection

    team_make(leads=["owner@a.test"])
    conv = chat_make()
    lead = Lead.objects.create(visitor=conv.visitor, conversation=conv, email="v@example.com")
    site = connection.tenant
    site.language = "fi"
    try:
        assert lead_notification_send(lead.pk) == 1
    finally:
        site.language = "en"
    msg = smtp_server.messages[0][1]
    # (the parser keeps the fold before an encoded word: compare without it)
    assert msg["Subject"].strip() == "[Site A Oy] Kävijä jätti sähköpostiosoitteensa"
    assert "Avaa keskustelu hallinnassa" in msg.get_content()
