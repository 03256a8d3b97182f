"""The summary e-mail: a real Celery worker sends it over real SMTP on loopback."""

from django_tenants.utils import tenant_context

from conversations.models import Conversation, Message, SiteSettings, Visitor
from conversations.tasks import summary_send_task
from tasking import tenant_task_send


def make_conversation(site):
    with tenant_context(site):
        SiteSettings.objects.update_or_create(pk=1, defaults={"company_name": "Site A Oy"})
        conv = Conversation.objects.create(visitor=Visitor.objects.create())
        q = Message.objects.create(conversation=conv, role="visitor", text="How much is Pro?")
        Message.objects.create(
            conversation=conv,
            role="assistant",
            reply_to=q,
            text="The Pro plan costs 99 euros per month [1].",
            sources=[{"url": "http://site-a.test/pricing", "title": "Pricing"}],
        )
        Message.objects.create(conversation=conv, role="assistant", error="model_error")
        return conv.pk


def test_it_sends_the_summary_through_a_worker_over_smtp(site_a, celery_worker_live, smtp_server):
    conv_id = make_conversation(site_a)
    tenant_task_send(summary_send_task, site_a.schema_name, conv_id, "anna@example.fi", "en")
    messages = smtp_server.wait(1)
    assert len(messages) == 1
    rcpt, msg = messages[0]
    assert rcpt == ["anna@example.fi"]
    assert msg["Subject"] == "Your conversation with Site A Oy"
    body = msg.get_body(preferencelist=("plain",)).get_content()
    assert "How much is Pro?" in body
    assert "The Pro plan costs 99 euros per month [1]." in body
    assert "http://site-a.test/pricing" in body
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert 'href="http://site-a.test/pricing"' in html


def test_it_sends_nothing_for_an_erased_conversation(site_a, celery_tasks, smtp_server):
    tenant_task_send(summary_send_task, site_a.schema_name, 999999, "anna@example.fi", "fi")
    conv_id = make_conversation(site_a)
    tenant_task_send(summary_send_task, site_a.schema_name, conv_id, "anna@example.fi", "fi")
    # Both tasks have run (a sent mail is in the inbox before its task ends).
    assert len(celery_tasks.idle()) == 2
    # The task for the missing conversation sends nothing (and does not fail).
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0][1]["Subject"] == "Keskustelusi: Site A Oy"


def test_it_sends_a_redelivered_summary_task_only_once(site_a, celery_tasks, smtp_server):
    conv_id = make_conversation(site_a)
    for _ in range(2):  # the same task delivered twice (e.g. after a worker crash)
        summary_send_task.apply_async(
            args=(conv_id, "anna@example.fi", "en"),
            headers={"_schema_name": site_a.schema_name},
            task_id="summary-task-1",
        )
    assert celery_tasks.idle() == ["summary-task-1"] * 2  # both deliveries have run
    assert len(smtp_server.messages) == 1


def test_it_writes_the_plain_text_part_unescaped(in_site_a, smtp_server):
    """Plain text is not HTML: "I'd" stays "I'd" (it read "I&#x27;d"); the HTML part escapes."""
    from conversations.leads.emails import summary_email_send

    conv = Conversation.objects.create(visitor=Visitor.objects.create())
    Message.objects.create(conversation=conv, role="visitor", text="I'd like <b>2</b> & more")
    assert summary_email_send(conv.pk, "anna@example.fi", "en") == 1
    msg = smtp_server.wait(1)[0][1]
    body = msg.get_body(preferencelist=("plain",)).get_content()
    assert "I'd like <b>2</b> & more" in body
    assert "&#x27;" not in body and "&amp;" not in body and "&lt;" not in body
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "I&#x27;d like &lt;b&gt;2&lt;/b&gt; &amp; more" in html
