import json
import uuid

import pytest
from django.core.management import call_command

from conversations.models import DataRequest, ErasureAudit, Lead, Message, Visitor
from conversations.privacy import privacy
from tests.conversations.admin_data import conversation_make, lead_make, person_make, visitor_make


def test_it_exports_every_row_about_the_subject_and_nothing_about_anyone_else(in_site_a):
    v, convs, lead = person_make("ann@example.com", conversations=2, messages=4)
    # The same person on another device, linked by the same e-mail address.
    v2, convs2, _ = person_make("ANN@example.com", conversations=1, messages=2)
    other, _, _ = person_make("bob@example.com")
    DataRequest.objects.create(kind="access", subject_email="ann@example.com")

    data = privacy.subject_export(email="ann@example.com")

    assert {x["visitor_id"] for x in data["visitors"]} == {str(v.id), str(v2.id)}
    exported_msgs = {
        m["id"] for x in data["visitors"] for c in x["conversations"] for m in c["messages"]
    }
    expected = set(
        Message.objects.filter(conversation__visitor__in=[v, v2]).values_list("id", flat=True)
    )
    assert exported_msgs == expected and len(expected) == 10
    assert {x["email"] for x in data["leads"]} == {"ann@example.com", "ANN@example.com"}
    assert len(data["data_requests"]) == 1
    conv = data["visitors"][0]["conversations"][0]
    assert conv["phase_history"] and conv["start_page_url"]
    assert any(m["sources"] for m in conv["messages"])
    for key in ("purposes", "recipients", "retention", "rights", "complaint", "source"):
        assert data["information"][key]
    text = json.dumps(data)
    assert "bob@example.com" not in text and str(other.id) not in text
    html = privacy.subject_export_html(data)
    assert "ann@example.com" in html and "bob@example.com" not in html
    assert "How long it is kept" in html


def test_it_erases_so_that_no_table_of_the_schema_holds_the_email_or_visitor_id(in_site_a):
    v, convs, lead = person_make("carl@example.com", conversations=2, messages=6)
    other, _, _ = person_make("dora@example.com")
    req = DataRequest.objects.create(
        kind="erasure", subject_email="carl@example.com", notes="asked by carl@example.com"
    )
    from django.contrib.admin.models import ADDITION, LogEntry
    from django.contrib.contenttypes.models import ContentType

    LogEntry.objects.create(
        user_id=_staff().pk,
        content_type=ContentType.objects.get_for_model(Lead),
        object_id=str(lead.pk),
        object_repr=str(lead),
        action_flag=ADDITION,
    )

    counts = privacy.subject_erase(email="carl@example.com", request=req)

    assert counts["visitors"] == 1 and counts["conversations"] == 2
    assert counts["messages"] == 12 and counts["leads"] == 1
    assert counts["admin_log_entries"] == 1
    needles = ["carl@example.com", str(v.id), str(v.id).replace("-", "")]
    assert privacy.schema_scan(needles) == []
    # Someone else's data is untouched.
    assert Visitor.objects.filter(pk=other.pk).exists()
    assert Lead.objects.filter(email="dora@example.com").count() == 1
    audit = ErasureAudit.objects.get(request=req)
    assert audit.subject_hash == privacy.subject_hash("carl@example.com")
    assert "carl" not in json.dumps(audit.counts)
    req.refresh_from_db()
    assert req.status == "done" and req.subject_email == ""


def test_it_erases_by_visitor_id_including_the_emails_that_visitor_left(in_site_a):
    v, _, lead = person_make("erin@example.com")
    # An e-mail-only lead from another visit is the same subject.
    lead_make(None, email="erin@example.com", source="admin")
    privacy.subject_erase(visitor_id=str(v.id), widen=True)
    assert privacy.schema_scan(["erin@example.com", str(v.id)]) == []


def test_it_keeps_a_forget_from_reaching_other_visitors_through_a_typed_email(in_site_a):
    victim, _, _ = person_make("victim@example.com")
    attacker = visitor_make()
    lead_make(attacker, conversation_make(attacker), email="victim@example.com")
    # What the widget's `forget` calls: only the browser's own visitor id is proven.
    counts = privacy.subject_erase(visitor_id=str(attacker.id))
    assert counts["visitors"] == 1 and counts["leads"] == 1
    assert privacy.schema_scan([str(attacker.id)]) == []
    assert Visitor.objects.filter(pk=victim.pk).exists()
    assert Lead.objects.filter(visitor=victim, email="victim@example.com").exists()


def test_it_flags_an_objecting_visitor_and_keeps_the_flag_for_unknown_ids(in_site_a):
    v, _, _ = person_make("fay@example.com")
    result = privacy.subject_object(email="fay@example.com")
    v.refresh_from_db()
    assert v.objected and v.objected_at
    assert result["leads_excluded"] == 1
    unseen = uuid.uuid4()
    privacy.subject_object(visitor_id=str(unseen))
    assert privacy.visitor_has_objected(unseen)
    assert DataRequest.objects.filter(kind="objection", status="done").count() == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "name the subject"),
        ({"email": "not-an-address"}, "invalid e-mail"),
        ({"visitor_id": "1234"}, "invalid visitor id"),
    ],
)
def test_it_refuses_bad_subjects_with_a_clear_error(in_site_a, kwargs, message):
    with pytest.raises(privacy.PrivacyError, match=message):
        privacy.subject_erase(**kwargs)


def test_it_runs_the_gdpr_command_with_json(in_site_a, site_a, capsys):
    v, _, _ = person_make("gil@example.com")
    call_command("gdpr", "site-a", "export", "--email", "gil@example.com", "--json")
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["result"]["leads"][0]["email"] == "gil@example.com"
    call_command("gdpr", "site-a", "object", "--visitor-id", str(v.id), "--json")
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["result"]["visitors_flagged"] == 1
    call_command("gdpr", "site-a", "erase", "--email", "gil@example.com", "--json")
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["result"]["leads"] == 1
    from django_tenants.utils import tenant_context

    with tenant_context(site_a):
        assert privacy.schema_scan(["gil@example.com", str(v.id)]) == []


def test_it_keeps_other_sites_out_of_a_subject_operation(site_a, site_b, db):
    from django_tenants.utils import tenant_context

    with tenant_context(site_b):
        vb, _, _ = person_make("hal@example.com")
    with tenant_context(site_a):
        va, _, _ = person_make("hal@example.com")
        privacy.subject_erase(email="hal@example.com")
    with tenant_context(site_b):
        assert Lead.objects.filter(email="hal@example.com").count() == 1
        assert Visitor.objects.filter(pk=vb.pk).exists()


def _staff():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("owner@a.test", "owner@a.test", "pw-123456")


def test_it_lets_an_erasure_delete_conversations_with_many_messages_quickly(in_site_a):
    v, convs, _ = person_make("ivy@example.com", conversations=1, messages=0)
    conversation_make(v, messages=200)
    counts = privacy.subject_erase(email="ivy@example.com")
    assert counts["messages"] == 200


def test_it_makes_the_chat_engine_store_nothing_for_an_objecting_subject(in_site_a, site_a):
    from conversations.chat.chat import question_store

    v, convs, _ = person_make("obj-chat@example.com", messages=2)
    before = Message.objects.count()
    privacy.subject_object(email="obj-chat@example.com")
    stored = question_store(
        site_a,
        visitor_id=v.id,
        conversation_id=convs[0].pk,
        text="please keep this",
        client_message_id="c-1",
    )
    assert stored.stored is False
    assert Message.objects.count() == before
    assert not Message.objects.filter(text="please keep this").exists()
    # A visitor id objected before it ever chatted is refused too.
    fresh = uuid.uuid4()
    privacy.subject_object(visitor_id=str(fresh))
    assert (
        question_store(
            site_a, visitor_id=fresh, conversation_id=None, text="hi", client_message_id=None
        ).stored
        is False
    )


def test_it_reports_bad_gdpr_command_input_as_a_command_error(in_site_a):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="invalid e-mail"):
        call_command("gdpr", "site-a", "erase", "--email", "nope", "--json")
    with pytest.raises(CommandError, match="unknown site"):
        call_command("gdpr", "no-such-site", "export", "--email", "a@example.com")
