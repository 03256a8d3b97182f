"""The customer's admin as a product: menu, login wording, texts that say what the code does,
the settings page's preview and upload, and charts with axes and table views."""

import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from conversations.admin.views import axis_top, day_chart
from conversations.models import SiteSettings
from tests.conversations.admin_data import person_make


def settings_url() -> str:
    return f"/admin/conversations/sitesettings/{SiteSettings.load().pk}/change/"


def test_it_keeps_groups_and_api_tokens_out_of_the_menu_until_used(owner_a):
    from rest_framework.authtoken.models import Token

    index = owner_a.get("/admin/").content.decode()
    assert 'class="model-group"' not in index and 'class="model-tokenproxy"' not in index
    assert 'class="model-user"' in index
    # Still reachable: linked under "For developers", and served.
    assert "/admin/authtoken/tokenproxy/" in index and "/admin/auth/group/" in index
    assert owner_a.get("/admin/authtoken/tokenproxy/").status_code == 200
    Token.objects.create(user=get_user_model().objects.get(username="owner@a.test"))
    assert 'class="model-tokenproxy"' in owner_a.get("/admin/").content.decode()


def test_it_shows_groups_in_the_staff_admin(db):
    get_user_model().objects.create_superuser("staff", "staff@cloop.test", "pw-123456")
    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username="staff"))
    assert 'class="model-group"' in client.get("/admin/").content.decode()


def test_it_asks_customers_for_their_email_to_sign_in(site_a, db):
    page = Client(HTTP_HOST=site_a.host).get("/admin/login/").content.decode()
    assert '<label for="id_username" class="required">E-mail:</label>' in page
    assert 'autocomplete="email"' in page
    staff = Client(HTTP_HOST="localhost").get("/admin/login/").content.decode()
    assert '<label for="id_username" class="required">Username:</label>' in staff


def test_it_says_what_the_quota_of_0_and_the_visitor_key_really_are(owner_a, site_a):
    page = owner_a.get(settings_url()).content.decode()
    assert "0 answers none: the chat is switched off" in page
    form = owner_a.get("/admin/conversations/datarequest/add/").content.decode()
    assert "localStorage key cloop_visitor_site-a on your website" in form


def test_it_names_the_crawl_trigger_and_what_its_duration_covers(owner_a):
    from crawler.models import CrawlRun

    now = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)
    run = CrawlRun.objects.create(status=CrawlRun.Status.SUCCEEDED, trigger="admin")
    CrawlRun.objects.filter(pk=run.pk).update(
        created_at=now,
        started_at=now + datetime.timedelta(seconds=4),
        finished_at=now + datetime.timedelta(seconds=10),
    )
    listing = owner_a.get("/admin/crawler/crawlrun/").content.decode()
    assert "Crawl now (admin)" in listing and "Crawl time (s, excl. queue)" in listing
    detail = owner_a.get(f"/admin/crawler/crawlrun/{run.pk}/change/").content.decode()
    assert "Waited in the queue (s)" in detail
    assert (
        '<div class="readonly">4.0</div>' in detail and '<div class="readonly">6.0</div>' in detail
    )


def test_it_puts_the_live_preview_and_a_colour_picker_on_the_settings_page(owner_a):
    page = owner_a.get(settings_url()).content.decode()
    assert 'type="color" name="widget_primary_color"' in page
    assert 'data-cloop="preview-frame" src="/admin/widget-preview/"' in page
    preview = owner_a.get("/admin/widget-preview/")
    assert preview.status_code == 200
    assert "frame-ancestors 'self'" in preview["Content-Security-Policy"]
    assert '"preview": {"question"' in preview.content.decode()
    anonymous = Client(HTTP_HOST=owner_a.defaults["HTTP_HOST"]).get("/admin/widget-preview/")
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]


def png(size=(256, 256)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (255, 183, 3)).save(out, format="PNG")
    return out.getvalue()


def post_settings(client, **extra):
    data = {
        "conversation_retention_days": "90",
        "lead_retention_days": "365",
        "daily_message_quota": "1000",
        "widget_primary_color": "#143d2b",
        "widget_position": "right",
        **extra,
    }
    return client.post(settings_url(), data, follow=True)


def test_it_stores_an_uploaded_logo_and_refuses_an_svg(owner_a):
    from widget.models import WidgetSettings

    svg = SimpleUploadedFile("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    refused = post_settings(owner_a, widget_logo=svg)
    assert "The logo must be a PNG, JPEG, GIF or WebP image." in refused.content.decode()
    assert not WidgetSettings.load().logo_hash
    post_settings(owner_a, widget_logo=SimpleUploadedFile("logo.png", png()))
    ws = WidgetSettings.load()
    assert ws.logo_hash and Image.open(io.BytesIO(bytes(ws.logo))).size == (128, 128)
    post_settings(owner_a, widget_logo_remove="on")
    assert not WidgetSettings.load().logo_hash


def test_it_saves_a_light_colour_with_a_contrast_warning(owner_a):
    from widget.models import WidgetSettings

    page = post_settings(owner_a, widget_primary_color="#ffdd00").content.decode()
    assert WidgetSettings.load().primary_color == "#ffdd00"
    assert 'class="warning"' in page and "1.35:1 (WCAG AA needs 4.5:1)" in page
    page = post_settings(owner_a, widget_primary_color="#143d2b").content.decode()
    assert "WCAG AA needs" not in page


@pytest.mark.parametrize(
    ("value", "top"), [(0, 2), (1, 2), (2, 2), (3, 5), (7, 10), (23, 50), (100, 100)]
)
def test_it_rounds_the_y_axis_up_to_a_readable_top(value, top):
    assert axis_top(value) == top


def test_it_draws_day_charts_with_axes_hover_values_and_a_table_view(owner_a):
    bars = [
        {"label": f"2026-11-{d:02d}", "value": v, "pct": 0} for d, v in ((1, 0), (2, 3), (3, 7))
    ]
    chart = day_chart(bars)
    assert chart["ticks"] == [10, 5, 0] and chart["total"] == 10
    assert [c["pct"] for c in chart["columns"]] == [0, 30, 70]
    assert chart["x_labels"] == ["Nov 1", "Nov 2", "Nov 3"]
    person_make("chart@example.com", messages=2)
    page = owner_a.get("/admin/conversations/conversation/overview/").content.decode()
    today = datetime.date.today()
    assert 'data-cloop="table-conversations"' in page and 'data-cloop="table-leads"' in page
    assert f'<th scope="row">{today.isoformat()}</th><td>1</td>' in page
    assert f'data-tip="{today:%b} {today.day}: 1"' in page
    assert "Conversations per day, last 30 days: 1 conversations in 30 days" in page
    assert page.count("<summary>Table view</summary>") >= 4
