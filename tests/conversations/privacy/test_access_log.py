import datetime
import json

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conversations.models import AccessLog, DataRequest
from conversations.privacy import privacy
from conversations.privacy.access_log import ACCESS_LOG_RETENTION_DAYS
from conversations.privacy.retention import retention_purge
from tests.conversations.admin_data import person_make

EMAIL = "reader-subject@example.com"


def _entries():
    return list(
        AccessLog.objects.order_by("id").values_list(
            "channel", "action", "username", "object_type", "object_id", "rows"
        )
    )


def _assert_nothing_personal(visitor, convs):
    """No column of any entry holds the e-mail, the visitor id or any message text."""
    texts = [m.text for c in convs for m in c.messages.all()]
    for row in AccessLog.objects.values():
        blob = json.dumps(row, default=str).lower()
        assert EMAIL not in blob and str(visitor.id) not in blob
        assert not any(t.lower() in blob for t in texts)


def test_it_records_each_admin_access_to_personal_data(owner_a):
    v, convs, lead = person_make(EMAIL, messages=4)
    req = DataRequest.objects.create(kind="access", subject_email=EMAIL)
    assert (
        owner_a.get(f"/admin/conversations/conversation/{convs[0].pk}/change/").status_code == 200
    )
    assert owner_a.get("/admin/conversations/lead/").status_code == 200
    assert owner_a.get(f"/admin/conversations/lead/{lead.pk}/change/").status_code == 200
    export = owner_a.get("/admin/conversations/lead/export.csv")
    assert EMAIL in b"".join(export.streaming_content).decode()
    selected = owner_a.post(
        "/admin/conversations/lead/",
        {"action": "export_csv", "_selected_action": [lead.pk]},
    )
    b"".join(selected.streaming_content)
    base = f"/admin/conversations/datarequest/{req.pk}"
    assert owner_a.get(f"{base}/export.json").status_code == 200
    assert owner_a.get(f"{base}/export.html").status_code == 200
    # Lists of conversations show no message text and are not logged; the overview neither.
    owner_a.get("/admin/conversations/conversation/")

    who = "owner@a.test"
    assert _entries() == [
        ("admin", "transcript_view", who, "conversation", str(convs[0].pk), None),
        ("admin", "lead_list", who, "lead", "", 1),
        ("admin", "lead_view", who, "lead", str(lead.pk), None),
        ("admin", "lead_export", who, "lead", "all", 1),
        ("admin", "lead_export", who, "lead", "selected", 1),
        ("admin", "subject_export", who, "datarequest", str(req.pk), None),
        ("admin", "subject_export", who, "datarequest", str(req.pk), None),
    ]
    assert set(AccessLog.objects.values_list("user_id", flat=True)) == {owner_a.user.pk}
    _assert_nothing_personal(v, convs)


def test_it_does_not_log_a_refused_or_missing_transcript(owner_a, site_a):
    assert owner_a.get("/admin/conversations/conversation/999999/change/").status_code == 302
    anonymous = Client(HTTP_HOST=site_a.host)
    _, convs, _ = person_make(EMAIL)
    assert (
        anonymous.get(f"/admin/conversations/conversation/{convs[0].pk}/change/").status_code == 302
    )
    assert AccessLog.objects.count() == 0


def test_it_records_each_api_access_to_personal_data(site_a, db):
    with tenant_context(site_a):
        user = get_user_model().objects.create_user(
            "api@a.test", "api@a.test", "pw-123456", is_staff=True
        )
        token = Token.objects.create(user=user).key
        v, convs, lead = person_make(EMAIL, messages=2)
        req = DataRequest.objects.create(kind="access", subject_visitor_id=v.id)
    api = APIClient(HTTP_HOST=site_a.host)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(f"/api/v1/conversations/{convs[0].pk}/").status_code == 200
    assert api.get("/api/v1/conversations/999999/").status_code == 404
    assert api.get("/api/v1/leads/").status_code == 200
    csv_response = api.get("/api/v1/leads.csv")
    b"".join(csv_response.streaming_content)
    assert (
        api.post(f"/api/v1/data-requests/{req.pk}/act/", {"action": "carry_out"}).status_code == 200
    )
    with tenant_context(site_a):
        assert _entries() == [
            ("api", "transcript_view", "api@a.test", "conversation", str(convs[0].pk), None),
            ("api", "lead_list", "api@a.test", "lead", "", 1),
            ("api", "lead_export", "api@a.test", "lead", "all", 1),
            ("api", "subject_export", "api@a.test", "datarequest", str(req.pk), None),
        ]
        _assert_nothing_personal(v, convs)


def test_it_records_staff_command_exports_with_only_a_keyed_hash_of_the_subject(
    in_site_a, site_a, tmp_path, capsys
):
    v, convs, _ = person_make(EMAIL)
    call_command("export_leads", "site-a", "-o", str(tmp_path / "leads.csv"))
    call_command("gdpr", "site-a", "export", "--email", EMAIL, "--json")
    call_command("gdpr", "site-a", "export", "--visitor-id", str(v.id), "--json")
    entries = list(AccessLog.objects.order_by("id"))
    assert [(e.channel, e.action, e.object_type, e.rows) for e in entries] == [
        ("command", "lead_export", "lead", 1),
        ("command", "subject_export", "subject", None),
        ("command", "subject_export", "subject", None),
    ]
    assert all(e.username.startswith("staff command") for e in entries)
    assert entries[1].subject_hash == privacy.subject_hash(EMAIL)
    assert entries[2].subject_hash == privacy.subject_hash(str(v.id))
    _assert_nothing_personal(v, convs)
    # After the erasure, nothing in the schema names the subject: the log holds hashes only.
    call_command("gdpr", "site-a", "erase", "--email", EMAIL, "--json")
    assert privacy.schema_scan([EMAIL, str(v.id)]) == []
    assert AccessLog.objects.count() == 3


def test_it_shows_the_log_read_only_in_the_admin(owner_a):
    _, convs, _ = person_make(EMAIL)
    owner_a.get(f"/admin/conversations/conversation/{convs[0].pk}/change/")
    entry = AccessLog.objects.get()
    page = owner_a.get("/admin/conversations/accesslog/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "owner@a.test" in html and "Viewed a transcript" in html
    assert "1 access log entry" in html and "By date" in html and "By at" not in html
    assert f"/admin/conversations/conversation/{convs[0].pk}/change/" in html
    assert owner_a.get("/admin/conversations/accesslog/add/").status_code == 403
    detail = owner_a.get(f"/admin/conversations/accesslog/{entry.pk}/change/")
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    assert owner_a.get(f"/admin/conversations/accesslog/{entry.pk}/delete/").status_code == 403
    owner_a.post(f"/admin/conversations/accesslog/{entry.pk}/change/", {"username": "x"})
    assert AccessLog.objects.get().username == "owner@a.test"


def test_it_purges_access_log_entries_after_a_year(in_site_a):
    now = timezone.now()
    period = datetime.timedelta(days=ACCESS_LOG_RETENTION_DAYS)
    old = AccessLog.objects.create(
        channel="admin", action="lead_list", at=now - period - datetime.timedelta(hours=1)
    )
    young = AccessLog.objects.create(
        channel="admin", action="lead_list", at=now - period + datetime.timedelta(hours=1)
    )
    assert retention_purge(now=now, dry_run=True)["access_log"] == 1
    assert retention_purge(now=now)["access_log"] == 1
    assert list(AccessLog.objects.values_list("pk", flat=True)) == [young.pk]
    assert not AccessLog.objects.filter(pk=old.pk).exists()
    retention_purge(now=now + datetime.timedelta(days=1))
    assert not AccessLog.objects.exists()
