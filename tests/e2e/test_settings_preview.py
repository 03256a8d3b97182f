"""The customer's site settings in Chromium: the widget's live preview follows the form
before anything is saved; the colour's contrast is checked; a logo shows in the header."""

import io

import pytest
from django_tenants.utils import tenant_context
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.test_a11y_mobile import screenshot_path

pytestmark = pytest.mark.e2e

PASSWORD = "pw-preview-123456"


def admin_login(page, live_server, site, path: str):
    from django.contrib.auth import get_user_model

    with tenant_context(site):
        get_user_model().objects.create_superuser(
            "owner@site-a.test", "owner@site-a.test", PASSWORD
        )
    page.goto(f"{live_server.site_url(site)}/admin/login/?next={path}")
    # Customers sign in with their e-mail address: the form says so.
    assert page.locator("label[for='id_username']").inner_text().startswith("E-mail")
    page.fill("#id_username", "owner@site-a.test")
    page.fill("#id_password", PASSWORD)
    page.locator("input[type='submit']").click()


def preview_frame(page):
    frame = page.wait_for_selector("[data-cloop='preview-frame']").content_frame()
    frame.wait_for_selector("html[data-cloop-ready]", state="attached")
    return frame


def test_it_previews_unsaved_settings_with_a_contrast_warning(
    page, demo_site, live_server, tmp_path
):
    from widget.models import WidgetSettings

    page.set_viewport_size({"width": 1400, "height": 900})
    admin_login(page, live_server, demo_site, "/admin/conversations/sitesettings/")
    frame = preview_frame(page)
    # One colour scheme: no green "tenant app" captions from django-tenants in the menu.
    caption = page.locator("#nav-sidebar caption").first
    expect(caption).to_have_css("background-color", "rgb(65, 118, 144)")  # admin's #417690
    head = frame.locator(".cw-head")
    expect(head).to_have_css("background-color", "rgb(31, 95, 191)")  # the saved #1f5fbf
    expect(frame.locator(".cw-title")).to_have_text(f"Chat with {demo_site.name}")
    assert page.locator("#id_widget_primary_color").get_attribute("type") == "color"

    page.fill("#id_widget_primary_color", "#ffdd00")
    expect(head).to_have_css("background-color", "rgb(255, 221, 0)")
    expect(head).to_have_css("color", "rgb(0, 0, 0)")  # black text on yellow
    warning = page.locator("[data-cloop='contrast']")
    expect(warning).to_contain_text("Low contrast")
    expect(warning).to_contain_text("1.35:1")
    page.fill("#id_widget_bot_name", "Polly")
    page.fill("#id_widget_greeting", "Ahoy! Ask me about bikes.")
    page.fill("#id_widget_starter_questions", "Do you rent bikes?\nWhere are you?")
    page.select_option("#id_widget_position", "left")
    expect(frame.locator(".cw-title")).to_have_text("Chat with Polly")
    expect(frame.locator(".cw-greeting")).to_have_text("Ahoy! Ask me about bikes.")
    chips = frame.locator(".cw-starter")
    expect(chips).to_have_count(2)
    # Suggested questions and links in the brand colour, darkened to pass AA on white.
    expect(chips.first).to_have_css("color", "rgb(128, 111, 0)")
    expect(frame.locator("[data-cloop='cite']").first).to_have_css("color", "rgb(128, 111, 0)")
    expect(page.locator("#cloop-preview-page")).to_have_class("cloop-preview-page pos-left")

    page.fill("#id_widget_primary_color", "#143d2b")
    expect(warning).to_contain_text("Contrast OK")
    with tenant_context(demo_site):
        assert WidgetSettings.load().primary_color == "#1f5fbf"  # nothing saved yet

    logo = tmp_path / "logo.png"
    img = Image.new("RGB", (300, 300), (255, 183, 3))
    img.paste((255, 255, 255), (90, 60, 210, 240))  # a white bar on orange: visibly a logo
    img.save(logo)
    page.set_input_files("#id_widget_logo", str(logo))
    expect(frame.locator("#cw-logo")).to_be_visible()
    assert frame.locator("#cw-logo").get_attribute("src").startswith("blob:")
    page.locator("#cloop-preview-page").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_path(tmp_path, "settings-preview.png")))

    page.fill("#id_widget_primary_color", "#ffdd00")
    page.locator("input[name='_save']").click()
    # Saved anyway, with the server's warning; the preview now shows the stored logo.
    expect(page.locator(".messagelist .warning")).to_contain_text("1.35:1")
    with tenant_context(demo_site):
        ws = WidgetSettings.load()
        assert ws.primary_color == "#ffdd00" and ws.bot_name == "Polly" and ws.logo_hash
        with Image.open(io.BytesIO(bytes(ws.logo))) as img:
            assert img.format == "PNG" and img.size == (128, 128)
    frame = preview_frame(page)
    expect(frame.locator("#cw-logo")).to_have_attribute(
        "src",
        f"http://localhost:{live_server.port}/widget/logo/{demo_site.site_id}/{ws.logo_hash}.png",
    )
    expect(frame.locator("#cw-logo")).to_have_js_property("naturalWidth", 128)


def test_it_draws_the_overview_with_axes_hover_values_and_table_views(
    page, demo_site, live_server, tmp_path
):
    import datetime

    from django.utils import timezone

    from conversations.models import Lead
    from tests.conversations.admin_data import conversation_make, lead_make, visitor_make

    now = timezone.now()
    with tenant_context(demo_site):
        for day in range(30):
            at = now - datetime.timedelta(days=day, hours=1)
            for i in range((day * 7) % 5 + (2 if day < 10 else 0)):
                v = visitor_make()
                conv = conversation_make(v, start="http://localhost/demo/pricing/", at=at)
                if i == 0 and day % 3 == 0:
                    lead = lead_make(v, conv, email=f"rider{day}@example.com")
                    Lead.objects.filter(pk=lead.pk).update(created_at=at)
    page.set_viewport_size({"width": 1280, "height": 1000})
    admin_login(page, live_server, demo_site, "/admin/conversations/conversation/overview/")
    chart = page.locator("[data-cloop='chart-conversations']")
    expect(chart.locator(".cloop-y span")).to_have_count(3)  # y axis: top, half, 0
    expect(chart.locator(".cloop-x span")).to_have_count(3)  # x axis: first, middle, last day
    column = chart.locator(".cloop-col").last
    today = timezone.localdate(now)
    assert column.get_attribute("data-tip").startswith(f"{today:%b} {today.day}: ")
    column.hover()
    tip = column.evaluate("e => getComputedStyle(e, '::after').content")
    assert tip.strip('"') == column.get_attribute("data-tip")
    # Screen readers: a summary on the chart and a table with a row per day.
    assert "most on" in chart.locator("[role='img']").get_attribute("aria-label")
    page.mouse.move(0, 0)
    page.screenshot(path=str(screenshot_path(tmp_path, "overview.png")))
    chart.locator("summary").click()
    expect(page.locator("[data-cloop='table-conversations'] tbody tr")).to_have_count(30)
