import datetime

from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import tenant_context

from conversations.models import Message, SiteSettings
from tests.conversations.admin_data import conversation_make, person_make, visitor_make


def test_it_shows_a_customer_only_its_own_sites_conversations(site_a, site_b, db):
    with tenant_context(site_b):
        vb = visitor_make()
        conversation_make(vb, start="https://site-b.test/secret-b-page")
    with tenant_context(site_a):
        conversation_make(visitor_make(), start="https://site-a.test/own-a-page")
        get_user_model().objects.create_superuser("own@a.test", "own@a.test", "pw-123456")
    client = Client(HTTP_HOST=site_a.host)
    login = client.post(
        "/admin/login/?next=/admin/", {"username": "own@a.test", "password": "pw-123456"}
    )
    assert login.status_code == 302  # signed in on site A's host
    page = client.get("/admin/conversations/conversation/").content.decode()
    assert "own-a-page" in page and "secret-b-page" not in page
    assert "Cloop — Site A Oy" in page
    # The same session on site B's host is nobody there: sent to B's login page.
    client_b = Client(HTTP_HOST=site_b.host)
    client_b.cookies = client.cookies
    response = client_b.get("/admin/conversations/conversation/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    # And the credentials do not exist in site B's schema.
    refused = Client(HTTP_HOST=site_b.host).post(
        "/admin/login/?next=/admin/", {"username": "own@a.test", "password": "pw-123456"}
    )
    assert refused.status_code == 200 and b"errornote" in refused.content


def test_it_hides_conversation_models_from_the_staff_admin(db):
    from django_tenants.utils import schema_context

    with schema_context("public"):
        get_user_model().objects.create_superuser(
            "staff@cloop.test", "staff@cloop.test", "pw-123456"
        )
    client = Client(HTTP_HOST="localhost")
    with schema_context("public"):
        client.force_login(get_user_model().objects.get(username="staff@cloop.test"))
    page = client.get("/admin/").content.decode()
    assert "Sites" in page and "Data requests" not in page and "Conversations" not in page
    assert "Cloop staff" in page


def test_it_lists_conversations_with_counts_and_filters_by_phase_and_lead(owner_a):
    v, convs, _ = person_make("lead@example.com", messages=4)
    plain = conversation_make(visitor_make(), messages=3, phase="learning")
    page = owner_a.get("/admin/conversations/conversation/").content.decode()
    assert convs[0].start_page_url in page
    with_lead = owner_a.get("/admin/conversations/conversation/?lead=yes").context["cl"]
    assert [c.pk for c in with_lead.result_list] == [convs[0].pk]
    assert with_lead.result_list[0].n_messages == 4
    learning = owner_a.get("/admin/conversations/conversation/?phase__exact=learning").context["cl"]
    assert [c.pk for c in learning.result_list] == [plain.pk]


def test_it_searches_in_message_text(owner_a):
    a = conversation_make(visitor_make(), messages=0)
    Message.objects.create(conversation=a, role="visitor", text="Do you ship to Lapland?")
    conversation_make(visitor_make(), messages=2)
    cl = owner_a.get("/admin/conversations/conversation/?q=lapland").context["cl"]
    assert [c.pk for c in cl.result_list] == [a.pk]


def test_it_shows_a_read_only_transcript_with_sources_and_phase_history(owner_a):
    conv = conversation_make(visitor_make(), messages=2)
    response = owner_a.get(f"/admin/conversations/conversation/{conv.pk}/change/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "visitor message 0" in page and "assistant message 1" in page
    assert 'href="https://site.test/pricing"' in page
    assert "<li>Exploring <small>(" in page  # phase label and a readable time
    assert 'name="_save"' not in page  # read-only


def test_it_draws_the_overview_without_external_scripts(owner_a):
    v, convs, _ = person_make("ov@example.com", messages=4)
    refused = Message.objects.create(
        conversation=convs[0], role="visitor", text="What is your opening time on Mars?"
    )
    Message.objects.create(
        conversation=convs[0], role="assistant", text="Sorry", refused=True, reply_to=refused
    )
    response = owner_a.get("/admin/conversations/conversation/overview/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "opening time on Mars" in page
    assert "https://site.test/pricing" in page  # most cited
    assert "Conversations per day" in page and "Crawl status" in page
    assert '<script src="http' not in page


def test_it_saves_site_settings_including_origins_and_contact(owner_a, site_a):
    url = f"/admin/conversations/sitesettings/{SiteSettings.load().pk}/change/"
    page = owner_a.get(url).content.decode()
    assert 'data-cloop="notice-facts"' in page and "Company name" in page
    response = owner_a.post(
        url,
        {
            "company_name": "Site A Oy",
            "contact_email": "dpo@site-a.test",
            "notice_published_on": "2026-11-01",
            "privacy_notice_url": "",
            "allowed_origins": "https://WWW.site-a.test:443/\nhttps://shop.site-a.test",
            "conversation_retention_days": "90",
            "lead_retention_days": "365",
            "daily_message_quota": "1000",
            "widget_bot_name": "Aino",
            "widget_greeting": "Hei! Ask me anything.",
            "widget_starter_questions": "What does Pro cost?\nDo you ship abroad?",
            "widget_primary_color": "#112233",
            "widget_position": "left",
            "widget_privacy_url": "",
            "widget_consent_text": "Send me news",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    from django.apps import apps

    ws = apps.get_model("widget", "WidgetSettings").load()
    assert ws.bot_name == "Aino" and ws.position == "left" and ws.primary_color == "#112233"
    assert ws.starter_questions == ["What does Pro cost?", "Do you ship abroad?"]
    s = SiteSettings.load()
    assert s.company_name == "Site A Oy" and s.conversation_retention_days == 90
    # A fresh copy: the session-wide site_a object must keep its values for other tests.
    saved = type(site_a).objects.get(pk=site_a.pk)
    assert saved.allowed_origins == ["https://shop.site-a.test", "https://www.site-a.test"]
    assert saved.contact_email == "dpo@site-a.test"
    bad = owner_a.post(
        url,
        {
            "allowed_origins": "ftp://x",
            "conversation_retention_days": "0",
            "widget_primary_color": "red",
            "widget_starter_questions": "\n".join(f"q{i}" for i in range(7)),
        },
    )
    page = bad.content.decode()
    assert bad.status_code == 200 and "invalid origin" in page
    assert "#rrggbb" in page and "At most 6 starter questions" in page
    assert apps.get_model("widget", "WidgetSettings").load().primary_color == "#112233"


def test_it_shows_each_sites_status_in_the_staff_admin(site_a, site_b, db):
    from django_tenants.utils import schema_context

    with tenant_context(site_a):
        conversation_make(visitor_make())
        conversation_make(visitor_make())
        from conversations.models import DataRequest

        DataRequest.objects.create(
            kind="access", subject_email="x@example.com", received_on=datetime.date(2020, 1, 1)
        )
    with schema_context("public"):
        get_user_model().objects.create_superuser("st@cloop.test", "st@cloop.test", "pw-123456")
    client = Client(HTTP_HOST="localhost")
    with schema_context("public"):
        client.force_login(get_user_model().objects.get(username="st@cloop.test"))
    response = client.get("/admin/tenants/site/")
    rows = {r.site_id: r for r in response.context["cl"].result_list}
    admin_obj = response.context["cl"].model_admin
    assert admin_obj.conversations_count(rows["site-a"]) == 2
    assert admin_obj.overdue_requests(rows["site-a"]) == 1
    assert admin_obj.conversations_count(rows["site-b"]) == 0
    page = response.content.decode()
    assert "pages indexed" in page.lower() and "overdue" in page.lower()


def test_it_escapes_visitor_text_in_the_transcript_and_overview(owner_a):
    conv = conversation_make(visitor_make(), messages=0)
    q = Message.objects.create(
        conversation=conv, role="visitor", text="<script>alert('x')</script><img src=x>"
    )
    Message.objects.create(
        conversation=conv,
        role="assistant",
        refused=True,
        reply_to=q,
        text="no",
        sources=[{"url": "javascript:alert(1)", "title": "<b>t</b>"}],
    )
    for url in (
        f"/admin/conversations/conversation/{conv.pk}/change/",
        "/admin/conversations/conversation/overview/",
    ):
        page = owner_a.get(url).content.decode()
        assert "<script>alert('x')</script>" not in page and "<img src=x>" not in page
        assert "&lt;script&gt;" in page
        assert 'href="javascript:' not in page
