import csv
import io
import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from conversations.leads import exports
from conversations.models import AccessLog, Lead
from conversations.privacy import privacy
from conversations.privacy.access_log import Actor, Channel
from tests.conversations.admin_data import lead_make, person_make, visitor_make

TESTER = Actor(Channel.COMMAND, username="test")


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _csv(site) -> str:
    out = io.StringIO()
    exports.leads_export(site, exports.CsvFile(out), TESTER)
    return out.getvalue()


def test_it_neutralises_cells_a_spreadsheet_would_evaluate():
    for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")'):
        assert exports.csv_safe(dangerous) == "'" + dangerous
    assert exports.csv_safe("plain, with comma") == "plain, with comma"
    assert exports.csv_safe(None) == ""
    assert exports.csv_safe(True) == "yes"


def test_it_writes_every_field_and_escapes_hostile_values(in_site_a):
    v, convs, lead = person_make("ok@example.com")
    lead_make(
        visitor_make(),
        email="evil@example.com",
        consent_text='=cmd|" /C calc"!A0\nsecond line, "quoted"',
        marketing_consent=False,
    )
    rows = _rows(_csv(in_site_a))
    assert [r["email"] for r in rows] == ["ok@example.com", "evil@example.com"]
    assert rows[0]["marketing_consent"] == "yes"
    assert rows[0]["consent_text"] == "Send me news"
    assert rows[0]["start_page_url"] == convs[0].start_page_url
    assert rows[0]["conversation_id"] == str(convs[0].pk)
    assert rows[0]["visitor_id"] == str(v.id)
    assert rows[1]["consent_text"] == '\'=cmd|" /C calc"!A0\nsecond line, "quoted"'
    assert list(rows[0].keys()) == [name for name, _ in exports.COLUMNS]


def test_it_leaves_objected_visitors_and_emails_out_of_every_export(in_site_a, site_a, tmp_path):
    person_make("stay@example.com")
    v, _, _ = person_make("gone@example.com")
    lead_make(None, email="Quiet@Example.com", source="admin")
    privacy.subject_object(visitor_id=str(v.id))
    privacy.subject_object(email="quiet@example.com")
    emails = [r["email"] for r in _rows(_csv(site_a))]
    assert emails == ["stay@example.com"]
    out = tmp_path / "leads.csv"
    call_command("export_leads", "site-a", "-o", str(out))
    assert [r["email"] for r in _rows(out.read_text())] == ["stay@example.com"]


def test_it_streams_the_export_in_pages(in_site_a, site_a, monkeypatch):
    monkeypatch.setattr(exports, "PAGE_SIZE", 50)
    v = visitor_make()
    Lead.objects.bulk_create(
        [Lead(visitor=v, email=f"p{i}@example.com", created_at=timezone.now()) for i in range(230)]
    )
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser("exp@a.test", "exp@a.test", "pw-123456")
    client = Client(HTTP_HOST=site_a.host)
    client.force_login(user)
    response = client.get("/admin/conversations/lead/export.csv")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    chunks = list(response.streaming_content)
    assert len(chunks) == 1 + 5  # header, then 230 rows in pages of 50
    rows = _rows(b"".join(chunks).decode())
    assert len(rows) == 230 and len({r["email"] for r in rows}) == 230


def test_it_exports_only_the_selected_leads_from_the_admin_action(in_site_a, site_a):
    a = person_make("sel1@example.com")[2]
    person_make("sel2@example.com")
    c = person_make("sel3@example.com")[2]
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser("act@a.test", "act@a.test", "pw-123456")
    client = Client(HTTP_HOST=site_a.host)
    client.force_login(user)
    response = client.post(
        "/admin/conversations/lead/",
        {"action": "export_csv", "_selected_action": [a.pk, c.pk]},
    )
    assert response.status_code == 200 and response.streaming
    rows = _rows(b"".join(response.streaming_content).decode())
    assert sorted(r["email"] for r in rows) == ["sel1@example.com", "sel3@example.com"]


def test_it_reports_the_row_count_as_json(in_site_a, site_a, capsys, tmp_path):
    person_make("j1@example.com")
    person_make("j2@example.com")
    call_command("export_leads", "site-a", "-o", str(tmp_path / "x.csv"), "--json")
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out == {"site_id": "site-a", "rows": 2, "file": str(tmp_path / "x.csv")}
    assert len(_rows((tmp_path / "x.csv").read_text())) == 2


def test_it_prints_the_leads_themselves_as_json_and_logs_that_export_once(in_site_a, site_a):
    """`export_leads --json` without a file: the rows are in the JSON (it once wrote them
    nowhere and still logged an export)."""
    v, convs, consented = person_make("j1@example.com")
    plain = lead_make(visitor_make(), email="=j2@example.com")
    out = io.StringIO()
    call_command("export_leads", "site-a", "--json", stdout=out)
    data = json.loads(out.getvalue().strip().splitlines()[-1])
    assert (data["site_id"], data["file"], data["rows"]) == ("site-a", None, 2)
    assert data["leads"] == [
        {
            "id": consented.pk,
            "email": "j1@example.com",
            "marketing_consent": True,
            "consent_text": "Send me news",
            "consent_at": consented.consent_at.isoformat(),
            "source": "widget",
            "created_at": consented.created_at.isoformat(),
            "conversation_id": convs[0].pk,
            "start_page_url": convs[0].start_page_url,
            "visitor_id": str(v.id),
        },
        {
            "id": plain.pk,
            "email": "=j2@example.com",  # JSON is no spreadsheet: the value as stored
            "marketing_consent": False,
            "consent_text": "",
            "consent_at": None,
            "source": "widget",
            "created_at": plain.created_at.isoformat(),
            "conversation_id": None,
            "start_page_url": None,
            "visitor_id": str(plain.visitor_id),
        },
    ]
    logged = AccessLog.objects.get()
    assert (logged.channel, logged.action, logged.object_id, logged.rows) == (
        "command",
        "lead_export",
        "all",
        2,
    )


def test_it_prints_the_csv_to_standard_output_and_logs_it_once(in_site_a, site_a):
    person_make("s1@example.com")
    out = io.StringIO()
    call_command("export_leads", "site-a", stdout=out)
    assert [r["email"] for r in _rows(out.getvalue())] == ["s1@example.com"]
    assert list(AccessLog.objects.values_list("action", "rows")) == [("lead_export", 1)]


@pytest.mark.parametrize("how", ["admin_all", "admin_selected", "api", "command"])
def test_it_logs_each_export_once_with_the_rows_it_streamed(owner_a, site_a, tmp_path, how):
    """Every entry point goes through leads_export: one access-log entry, whose count is the
    number of rows the export carried (a lead saved while it streams is in neither)."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    leads = [person_make(f"e{i}@example.com")[2] for i in range(3)]
    if how == "admin_all":
        response = owner_a.get("/admin/conversations/lead/export.csv")
    elif how == "admin_selected":
        response = owner_a.post(
            "/admin/conversations/lead/",
            {"action": "export_csv", "_selected_action": [leads[0].pk, leads[2].pk]},
        )
    elif how == "api":
        api = APIClient(HTTP_HOST=site_a.host)
        api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner_a.user)}")
        response = api.get("/api/v1/leads.csv")
    if how == "command":
        call_command("export_leads", "site-a", "-o", str(tmp_path / "l.csv"))
        text = (tmp_path / "l.csv").read_text()
    else:
        assert response.status_code == 200 and response.streaming
        lead_make(visitor_make(), email="late@example.com")  # after the count, before the rows
        text = b"".join(response.streaming_content).decode()
    emails = [r["email"] for r in _rows(text)]
    assert "late@example.com" not in emails
    entry = AccessLog.objects.get(action="lead_export")
    assert entry.rows == len(emails) == (2 if how == "admin_selected" else 3)
    assert entry.object_id == ("selected" if how == "admin_selected" else "all")


def test_it_streams_over_the_real_asgi_server_in_the_sites_schema(live_server, site_a, site_b):
    import httpx
    from django.contrib.auth import get_user_model
    from django_tenants.utils import tenant_context
    from rest_framework.authtoken.models import Token

    with tenant_context(site_b):
        lead_make(visitor_make(), email="b-only@example.com")
    with tenant_context(site_a):
        v = visitor_make()
        Lead.objects.bulk_create(
            [Lead(visitor=v, email=f"s{i}@example.com", consent_text="=1+2") for i in range(2500)]
        )
        user = get_user_model().objects.create_user(
            "asgi@a.test", "asgi@a.test", "pw-123456", is_staff=True
        )
        token = Token.objects.create(user=user).key
    chunks = []
    with httpx.stream(
        "GET",
        live_server.url + "/api/v1/leads.csv",
        headers={"Authorization": f"Token {token}", "Host": f"{site_a.host}:{live_server.port}"},
        timeout=30,
    ) as response:
        assert response.status_code == 200
        chunks.extend(response.iter_raw())
    rows = _rows(b"".join(chunks).decode())
    assert len(rows) == 2500
    assert {r["consent_text"] for r in rows} == {"'=1+2"}
    assert "b-only@example.com" not in {r["email"] for r in rows}
