"""The customer's admin reviewed as a demanding customer would: every page reachable from the
index of a site with realistic data answers, and every link on it leads somewhere."""

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from conversations.models import Message
from tests.conversations.admin_site_data import realistic_site_make

SKIP = re.compile(r"/logout/|/delete/|/password/|/act/$|/jsi18n/")


@pytest.fixture
def realistic_a(in_site_a, site_a):
    data = realistic_site_make()
    user = get_user_model().objects.create_superuser("owner@a.test", "owner@a.test", "pw-123456")
    client = Client(HTTP_HOST=site_a.host)
    client.force_login(user)
    data["client"] = client
    return data


def _links(html: str, base: str) -> list[str]:
    out = []
    for href in re.findall(r'href="([^"#]+)', html):
        url = urljoin(base, href.replace("&amp;", "&"))
        parts = urlsplit(url)
        if parts.netloc and parts.netloc not in ("testserver",):
            continue  # outside the admin (the public notice is checked on its own)
        out.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return out


def test_it_answers_every_admin_page_and_link_of_a_realistic_site(realistic_a):
    client = realistic_a["client"]
    seen, broken = set(), []
    queue = deque([("/admin/", "start")])
    while queue and len(seen) < 400:
        url, origin = queue.popleft()
        if url in seen or SKIP.search(url) or not url.startswith("/admin/"):
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code in (301, 302):
            target = response["Location"]
            if "/login/" in target:
                broken.append((url, origin, "redirected to login"))
            continue
        if response.status_code != 200:
            broken.append((url, origin, response.status_code))
            continue
        if response.get("Content-Type", "").startswith("text/html") and not response.streaming:
            html = response.content.decode()
            depth_ok = url.count("?") == 0 or len(seen) < 250
            if depth_ok:
                for link in _links(html, url):
                    if link not in seen:
                        queue.append((link, url))
    assert broken == []
    assert len(seen) > 60


def test_it_sends_view_site_to_the_customers_website_not_a_404(realistic_a, site_a, db):
    client = realistic_a["client"]
    assert client.get("/").status_code == 404  # the site's host serves the admin and API only
    page = client.get("/admin/").content.decode()
    assert f'<a href="{site_a.url}">View site</a>' in page
    assert '<a href="/">View site</a>' not in page


def test_it_counts_objected_leads_and_failed_answers_apart_on_the_overview(realistic_a):
    client = realistic_a["client"]
    response = client.get("/admin/conversations/conversation/overview/")
    totals = response.context["totals"]
    # ann (consent), bob (no consent); obi consented once but objected since.
    assert (totals["leads"], totals["leads_consent"], totals["leads_objected"]) == (2, 1, 1)
    assert totals["failed"] == 1
    assistant = Message.objects.filter(role="assistant").count()
    assert totals["answered"] + totals["refused"] + totals["failed"] == assistant
    answers = {b["label"]: b["value"] for b in response.context["answers"]}
    assert answers["failed (model error)"] == 1
    html = response.content.decode()
    assert "1 more from people who objected: not to be contacted" in html
    assert "Why it failed: DNS lookup failed" in html
    assert "Visitors are answered from the last successful crawl" in html


def test_it_marks_objected_leads_do_not_contact_in_the_lead_list(realistic_a):
    client = realistic_a["client"]
    html = client.get("/admin/conversations/lead/").content.decode()
    row = re.search(r"obi@example\.com.*?</tr>", html, re.S).group(0)
    assert "objected — do not contact" in row and "consented" not in row
    ann = re.search(r"ann@example\.com.*?</tr>", html, re.S).group(0)
    assert "consented" in ann
    objected = client.get("/admin/conversations/lead/?objected=yes").context["cl"]
    assert [lead.email for lead in objected.result_list] == ["obi@example.com"]
    may = client.get("/admin/conversations/lead/?objected=no").context["cl"]
    assert {lead.email for lead in may.result_list} == {"ann@example.com", "bob@example.com"}


def test_it_lists_open_requests_first_by_their_real_deadline(realistic_a):
    client = realistic_a["client"]
    reqs = realistic_a["requests"]
    cl = client.get("/admin/conversations/datarequest/").context["cl"]
    order = [r.pk for r in cl.result_list]
    # Overdue (day 40), objection at day 22 (due in 8 days), new access (30 days), then the
    # extended one (received day 35 but extended by two months), then the handled ones.
    expected = [reqs[k].pk for k in ("overdue", "soon", "open", "extended")]
    assert order[:4] == expected
    assert {r.status for r in cl.result_list[4:]} == {"done"}
    html = client.get("/admin/conversations/datarequest/").content.decode()
    assert html.index("column-status") < html.index("column-received_on")
    change = client.get(f"/admin/conversations/datarequest/{reqs['open'].pk}/change/")
    assert "due (30 days after receipt)" in change.content.decode().lower()


def test_it_labels_the_two_privacy_links_and_retention_so_a_customer_can_tell_them_apart(
    realistic_a,
):
    client = realistic_a["client"]
    response = client.get("/admin/conversations/sitesettings/", follow=True)
    form = response.context["adminform"].form
    labels = {name: str(form[name].label) for name in form.fields}
    assert labels["privacy_notice_url"] == "Your own privacy notice (URL)"
    assert labels["widget_privacy_url"] == "Widget's privacy link (override)"
    assert labels["contact_email"] == "Data-protection contact e-mail"
    assert labels["conversation_retention_days"] == "Keep conversations (days)"
    lowered = [label.lower() for label in labels.values()]
    assert len(lowered) == len(set(lowered))  # no two fields read alike
    assert "Each message is deleted" in form.fields["conversation_retention_days"].help_text


def test_it_shows_phase_names_times_and_the_email_given_in_a_transcript(realistic_a):
    client = realistic_a["client"]
    conv = realistic_a["conversations"][0]
    html = client.get(f"/admin/conversations/conversation/{conv.pk}/change/").content.decode()
    assert re.search(r"<li>Exploring <small>\(\d{4}-\d\d-\d\d \d\d:\d\d\)</small></li>", html)
    assert "ann@example.com" in html and "(marketing consent)" in html
    obi_conv = realistic_a["objector_conversation"]
    html = client.get(f"/admin/conversations/conversation/{obi_conv.pk}/change/").content.decode()
    assert "obi@example.com" in html and "objected — do not contact" in html


def test_it_keeps_a_handled_request_as_a_record_and_reads_its_audit_in_words(realistic_a):
    client = realistic_a["client"]
    done = realistic_a["requests"]["done"]
    url = f"/admin/conversations/datarequest/{done.pk}/change/"
    response = client.get(url)
    form = response.context["adminform"].form
    assert set(form.fields) == {"status", "notes"}
    html = response.content.decode()
    assert re.search(
        r"\d{4}-\d\d-\d\d \d\d:\d\d · erased 1 visitor, 1 conversation, 4 messages, 1 lead", html
    )
    # Trying to rewrite what was asked changes nothing but the notes.
    client.post(
        url,
        {"kind": "access", "received_on": "2020-01-01", "status": "done", "notes": "Called back."},
    )
    done.refresh_from_db()
    assert (done.kind, done.notes) == ("erasure", "Called back.")
    assert done.received_on.year != 2020
    audits = client.get("/admin/conversations/erasureaudit/").content.decode()
    assert "1 visitor, 1 conversation, 4 messages, 1 lead" in audits
    # An open request stays fully editable.
    open_req = realistic_a["requests"]["open"]
    form = (
        client.get(f"/admin/conversations/datarequest/{open_req.pk}/change/")
        .context["adminform"]
        .form
    )
    assert {"kind", "subject_email", "received_on", "extended_until"} <= set(form.fields)


def test_it_writes_times_in_the_readable_export_as_people_read_them(realistic_a):
    client = realistic_a["client"]
    req = realistic_a["requests"]["open"]  # ann: her conversation has a failed answer
    html = client.get(f"/admin/conversations/datarequest/{req.pk}/export.html").content.decode()
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", html)  # no raw ISO times
    assert re.search(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d UTC\.", html)
    assert "(no text: the answer failed and was not given)" in html
    data = client.get(f"/admin/conversations/datarequest/{req.pk}/export.json").json()
    assert "T" in data["generated_at"]  # the machine-readable copy keeps ISO 8601


def test_it_explains_the_request_form_to_someone_who_never_saw_a_visitor_id(realistic_a):
    client = realistic_a["client"]
    form = client.get("/admin/conversations/datarequest/add/").context["adminform"].form
    assert str(form["subject_email"].label) == "Subject's e-mail"
    assert "localStorage key cloop_visitor_" in form.fields["subject_visitor_id"].help_text
    assert "Objection: stop storing their chats" in form.fields["kind"].help_text
    assert "30 days count from here" in form.fields["received_on"].help_text


def test_it_links_a_visitor_to_their_conversations(realistic_a):
    client = realistic_a["client"]
    conv = realistic_a["conversations"][0]
    html = client.get("/admin/conversations/visitor/").content.decode()
    link = f"/admin/conversations/conversation/?visitor__exact={conv.visitor_id}"
    assert f'href="{link}"' in html
    cl = client.get(link).context["cl"]
    assert [c.pk for c in cl.result_list] == [conv.pk]
    detail = client.get(f"/admin/conversations/visitor/{conv.visitor_id}/change/")
    assert link in detail.content.decode()


def test_it_confirms_a_conversation_delete_without_showing_its_messages(realistic_a):
    client = realistic_a["client"]
    conv = realistic_a["conversations"][0]
    texts = list(conv.messages.exclude(text="").values_list("text", flat=True))
    html = client.get(f"/admin/conversations/conversation/{conv.pk}/delete/").content.decode()
    assert f"Conversation {conv.pk} (3 messages, started" in html
    assert texts and not any(t[:20] in html for t in texts)
    bulk = client.post(
        "/admin/conversations/conversation/",
        {"action": "delete_selected", "_selected_action": [conv.pk]},
    ).content.decode()
    assert "3 messages" in bulk and not any(t[:20] in bulk for t in texts)
    client.post(f"/admin/conversations/conversation/{conv.pk}/delete/", {"post": "yes"})
    assert not type(conv).objects.filter(pk=conv.pk).exists()


def test_it_confirms_a_visitor_delete_without_showing_messages(realistic_a):
    client = realistic_a["client"]
    conv = realistic_a["conversations"][0]
    html = client.get(f"/admin/conversations/visitor/{conv.visitor_id}/delete/").content.decode()
    assert f"Visitor {conv.visitor_id} (1 conversation, 1 e-mail left)" in html
    assert "How much is the Pro plan" not in html
