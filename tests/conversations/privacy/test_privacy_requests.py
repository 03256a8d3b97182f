import datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from conversations.models import DataRequest
from conversations.privacy import privacy, requests
from tests.conversations.admin_data import person_make

D = datetime.date


def test_it_sets_the_due_date_thirty_days_after_receipt(in_site_a):
    r = requests.request_create("access", email="a@example.com", received_on=D(2026, 1, 10))
    assert r.due_on == D(2026, 2, 9)
    assert requests.request_days_left(r, today=D(2026, 2, 1)) == 8
    assert not requests.request_is_overdue(r, today=D(2026, 2, 9))
    assert requests.request_is_overdue(r, today=D(2026, 2, 10))


def test_it_lists_only_open_requests_past_their_deadline_as_overdue(in_site_a):
    old = requests.request_create("erasure", email="b@example.com", received_on=D(2026, 1, 1))
    done = requests.request_create("access", email="c@example.com", received_on=D(2026, 1, 1))
    done.status = DataRequest.Status.DONE
    done.save()
    extended = requests.request_create("access", email="d@example.com", received_on=D(2026, 1, 1))
    requests.request_extend(extended, reason="many conversations to review")
    fresh = requests.request_create("access", email="e@example.com", received_on=D(2026, 2, 5))
    today = D(2026, 2, 20)
    assert list(requests.requests_overdue(today)) == [old]
    assert extended.extended_until == D(2026, 4, 1)
    assert set(requests.requests_due_soon(today)) == {extended}
    assert fresh not in requests.requests_overdue(today)
    assert set(requests.requests_overdue(D(2026, 4, 2))) == {old, extended, fresh}


def test_it_refuses_extensions_without_reason_or_beyond_three_months(in_site_a):
    r = requests.request_create("access", email="f@example.com", received_on=D(2026, 1, 1))
    with pytest.raises(privacy.PrivacyError, match="reason"):
        requests.request_extend(r, reason=" ")
    with pytest.raises(privacy.PrivacyError, match="at the latest"):
        requests.request_extend(r, reason="complex", until=D(2026, 5, 1))


def test_it_carries_out_each_kind_of_request_and_records_who(in_site_a):
    person_make("g@example.com")
    access = requests.request_create("access", email="g@example.com")
    result = requests.request_act(access, by="owner")
    assert result["export"]["leads"][0]["email"] == "g@example.com"
    objection = requests.request_create("objection", email="g@example.com")
    requests.request_act(objection, by="owner")
    erasure = requests.request_create("erasure", email="g@example.com")
    result = requests.request_act(erasure, by="owner")
    assert result["counts"]["leads"] == 1
    for r in (access, objection, erasure):
        r.refresh_from_db()
        assert r.status == "done" and r.handled_by == "owner" and r.handled_at
    with pytest.raises(privacy.PrivacyError, match="already done"):
        requests.request_act(erasure, by="owner")


def test_it_highlights_overdue_requests_on_the_admin_index(in_site_a, site_a):
    r = DataRequest.objects.create(
        kind="erasure", subject_email="h@example.com", received_on=D(2020, 1, 1)
    )
    user = get_user_model().objects.create_superuser("o@a.test", "o@a.test", "pw-123456")
    client = Client(HTTP_HOST=site_a.host)
    client.force_login(user)
    page = client.get("/admin/").content.decode()
    assert 'data-cloop="overdue"' in page
    assert f"/admin/conversations/datarequest/{r.pk}/change/" in page
    listing = client.get("/admin/conversations/datarequest/").content.decode()
    assert "cloop-overdue" in listing and "overdue by" in listing


def test_it_erases_from_the_admin_desk_with_a_confirmation(in_site_a, site_a):
    v, _, _ = person_make("i@example.com")
    r = DataRequest.objects.create(kind="erasure", subject_email="i@example.com")
    user = get_user_model().objects.create_superuser("p@a.test", "p@a.test", "pw-123456")
    client = Client(HTTP_HOST=site_a.host)
    client.force_login(user)
    url = f"/admin/conversations/datarequest/{r.pk}/act/"
    confirm = client.get(url)
    assert confirm.status_code == 200 and b"Yes, erase" in confirm.content
    response = client.post(url, follow=True)
    assert b"Erased: 1 visitor(s)" in response.content
    assert privacy.schema_scan(["i@example.com", str(v.id)]) == []


def test_it_downloads_the_subject_export_as_json_and_html_from_the_desk(in_site_a, site_a):
    person_make("k@example.com")
    r = DataRequest.objects.create(kind="access", subject_email="k@example.com")
    user = get_user_model().objects.create_superuser("q@a.test", "q@a.test", "pw-123456")
    client = Client(HTTP_HOST=site_a.host)
    client.force_login(user)
    data = client.get(f"/admin/conversations/datarequest/{r.pk}/export.json").json()
    assert data["leads"][0]["email"] == "k@example.com"
    html = client.get(f"/admin/conversations/datarequest/{r.pk}/export.html").content.decode()
    assert "k@example.com" in html and "Your rights" in html


def test_it_mails_the_team_about_requests_at_day_20_and_overdue(in_site_a, site_a, smtp_server):
    get_user_model().objects.create_user("team@a.test", "team@a.test", "pw-123456", is_staff=True)
    today = D(2026, 3, 1)
    assert requests.requests_reminder_send(today) == 0  # nothing pending: no mail
    DataRequest.objects.create(
        kind="erasure", subject_email="m@example.com", received_on=D(2026, 1, 2)
    )
    DataRequest.objects.create(
        kind="access", subject_email="n@example.com", received_on=D(2026, 2, 8)
    )
    DataRequest.objects.create(
        kind="access", subject_email="o@example.com", received_on=D(2026, 2, 25)
    )
    assert requests.requests_reminder_send(today) == 1
    ((rcpt, msg),) = smtp_server.wait(1)
    assert sorted(rcpt) == ["privacy@site-a.test", "team@a.test"]
    assert "1 overdue, 1 due within 10 days" in msg["Subject"]
    body = msg.get_body().get_content()
    assert "28 days overdue" in body and "9 days left" in body
    assert "m@example.com" not in body  # subjects are not named in mail


def test_it_schedules_the_reminder_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["data-requests-reminder-daily"]
    assert entry["task"] == "conversations.requests_remind" and entry["schedule"] <= 24 * 3600


def test_it_logs_and_extends_requests_through_the_admin_form(in_site_a, site_a):
    user = get_user_model().objects.create_superuser("r@a.test", "r@a.test", "pw-123456")
    client = Client(HTTP_HOST=site_a.host)
    client.force_login(user)
    form = {
        "kind": "access",
        "subject_email": "",
        "subject_visitor_id": "",
        "received_on": "2026-11-02",
        "extended_until": "",
        "extension_reason": "",
        "status": "open",
        "notes": "",
    }
    missing = client.post("/admin/conversations/datarequest/add/", form)
    assert missing.status_code == 200 and b"Name the subject" in missing.content
    form["subject_email"] = "p@example.com"
    assert client.post("/admin/conversations/datarequest/add/", form).status_code == 302
    r = DataRequest.objects.get(subject_email="p@example.com")
    assert r.due_on == D(2026, 12, 2)
    change = f"/admin/conversations/datarequest/{r.pk}/change/"
    too_long = client.post(change, {**form, "extended_until": "2027-03-01"})
    assert b"At most three months" in too_long.content
    no_reason = client.post(change, {**form, "extended_until": "2027-01-15"})
    assert b"needs a reason" in no_reason.content
    ok = client.post(change, {**form, "extended_until": "2027-01-15", "extension_reason": "many"})
    assert ok.status_code == 302
    r.refresh_from_db()
    assert r.deadline == D(2027, 1, 15)
