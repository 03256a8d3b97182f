"""The GDPR desk's "Send the export to the subject": an e-mail over loopback SMTP with a
one-time link that works once, is replaced by a newer one, and expires (clock injected)."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from conversations.models import AccessLog, DataRequest
from conversations.privacy.delivery import (
    ExportLinkInvalid,
    export_link_check,
    export_link_consume,
    export_link_send,
)
from tests.conversations.admin_data import person_make


def link_in(msg) -> str:
    return re.search(r"http://\S+/data-export/\S+/", msg.get_content()).group(0)


@pytest.fixture
def owner(in_site_a, site_a):
    user = get_user_model().objects.create_superuser("owner@a.test", "owner@a.test", "pw-123456")
    client = Client(HTTP_HOST=site_a.host)
    client.force_login(user)
    return client


def test_it_mails_a_link_that_downloads_the_export_once(owner, site_a, smtp_server):
    _, convs, _ = person_make("subject@example.com", messages=2)
    req = DataRequest.objects.create(kind="access", subject_email="subject@example.com")
    confirm = owner.get(f"/admin/conversations/datarequest/{req.pk}/send-export/")
    assert b"subject@example.com" in confirm.content
    owner.post(f"/admin/conversations/datarequest/{req.pk}/send-export/")

    rcpt, msg = smtp_server.wait(1)[0]
    assert rcpt == ["subject@example.com"]
    assert msg["Subject"] == "Your data held by Site A Oy"
    assert "message 0 of conversation" not in msg.get_content()  # the data is behind the link
    req.refresh_from_db()
    assert req.status == "done" and req.handled_by == "owner@a.test"
    assert req.export_sent_by == "owner@a.test" and req.export_sent_how == "e-mail, one-time link"
    assert req.export_sent_at and req.export_link_used_at is None
    change = owner.get(f"/admin/conversations/datarequest/{req.pk}/change/").content.decode()
    assert "not opened yet; expires" in change

    url = link_in(msg)
    assert url.startswith("http://site-a.localhost:8000/data-export/")
    subject = Client(HTTP_HOST=site_a.host)  # no login
    path = url.split(":8000", 1)[1]
    landing = subject.get(path)  # a mail scanner's GET does not use it up
    assert landing.status_code == 200 and b"Download my data" in landing.content
    assert subject.get(path).status_code == 200
    download = subject.post(path)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert "no-store" in download["Cache-Control"]
    assert f"visitor message 0 of conversation {convs[0].pk}" in download.content.decode()
    logged = AccessLog.objects.get(channel="subject_link")
    assert (logged.action, logged.object_id) == ("subject_export", str(req.pk))

    again = subject.post(path)
    assert again.status_code == 410 and b"already been used" in again.content
    assert subject.get(path).status_code == 410
    req.refresh_from_db()
    assert req.export_link_used_at and req.export_link_hash == ""
    assert (
        "downloaded"
        in owner.get(f"/admin/conversations/datarequest/{req.pk}/change/").content.decode()
    )


def test_it_expires_the_link_and_a_new_one_replaces_the_old(in_site_a, smtp_server):
    person_make("late@example.com")
    req = DataRequest.objects.create(kind="access", subject_email="late@example.com")
    sent = timezone.now()
    export_link_send(req, by="owner@a.test", now=sent)
    first = link_in(smtp_server.wait(1)[0][1]).rstrip("/").rsplit("/", 1)[1]
    assert export_link_check(first, now=sent + datetime.timedelta(days=6, hours=23)).pk == req.pk
    with pytest.raises(ExportLinkInvalid) as expired:
        export_link_consume(first, now=sent + datetime.timedelta(days=7, seconds=1))
    assert expired.value.reason == "expired"

    export_link_send(req, by="owner@a.test")
    second = link_in(smtp_server.wait(2)[1][1]).rstrip("/").rsplit("/", 1)[1]
    with pytest.raises(ExportLinkInvalid):
        export_link_check(first)  # replaced
    with pytest.raises(ExportLinkInvalid):
        export_link_check(second[:-2] + "xx")  # tampered signature
    html, pk = export_link_consume(second)
    assert pk == req.pk and "late@example.com" in html


def test_it_sends_exports_of_access_requests_only(in_site_a):
    from conversations.privacy.privacy import PrivacyError

    erasure = DataRequest.objects.create(kind="erasure", subject_email="e@example.com")
    with pytest.raises(PrivacyError, match="only an access request"):
        export_link_send(erasure, by="owner")
    no_address = DataRequest.objects.create(
        kind="access", subject_visitor_id="6f1d7c52-4a0e-4b8e-9b59-2f2d3c1e0a11"
    )
    with pytest.raises(PrivacyError, match="no e-mail address"):
        export_link_send(no_address, by="owner")
