"""The loader on a host page: size, globals, the one localStorage item, no cookies, origins."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import chat_frame, demo_url, foreign_shop

pytestmark = pytest.mark.e2e

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_it_loads_a_loader_of_at_most_2_kb_gzipped(page, demo_site, live_server):
    with page.expect_response(lambda r: r.url.endswith("/widget.js")) as info:
        page.goto(demo_url(live_server))
    response = info.value
    assert response.header_value("content-encoding") == "gzip"
    assert response.request.sizes()["responseBodySize"] <= 2048
    assert page.get_attribute("script[data-site]", "async") is not None


def test_it_adds_one_launcher_and_only_the_cloop_global(page, demo_site, live_server):
    page.add_init_script("window.__before = Object.getOwnPropertyNames(window);")
    page.goto(demo_url(live_server))
    page.wait_for_selector('[data-cloop="launcher"]')
    added = page.evaluate(
        "Object.getOwnPropertyNames(window).filter(k => !__before.includes(k) && k !== '__before')"
    )
    assert added == ["Cloop"]
    assert page.locator('[data-cloop="launcher"]').count() == 1
    # The window is created lazily, on first open.
    assert page.locator('[data-cloop="frame"]').count() == 0
    assert page.evaluate("localStorage.length") == 0


def test_it_keeps_one_uuid_in_localstorage_and_sets_no_cookie(
    page, browser_context, demo_site, live_server
):
    page.goto(demo_url(live_server))
    frame = chat_frame(page)
    key = f"cloop_visitor_{demo_site.site_id}"
    page.wait_for_function(f"localStorage.getItem('{key}') !== null")
    storage = page.evaluate("Object.assign({}, localStorage)")
    assert list(storage) == [key]
    assert UUID4.match(storage[key])
    assert page.evaluate("sessionStorage.length") == 0
    # The window (Cloop's origin, which also serves the demo here) stores nothing else.
    assert frame.evaluate("document.cookie") == ""
    assert frame.evaluate("sessionStorage.length") == 0
    assert page.evaluate("document.cookie") == ""
    assert browser_context.cookies() == []
    # The same id on the next page view.
    page.reload()
    assert page.evaluate(f"localStorage.getItem('{key}')") == storage[key]


def test_it_opens_and_closes_with_the_keyboard(page, demo_site, live_server):
    page.goto(demo_url(live_server))
    launcher = page.locator('[data-cloop="launcher"]')
    launcher.focus()
    page.keyboard.press("Enter")
    frame = page.wait_for_selector('iframe[data-cloop="frame"]').content_frame()
    frame.wait_for_selector('[data-cloop="input"]')
    page.wait_for_function(
        "document.activeElement && document.activeElement.dataset.cloop === 'frame'"
    )
    expect(frame.locator('[data-cloop="input"]')).to_be_focused()
    assert launcher.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Escape")
    page.wait_for_function(
        "document.activeElement && document.activeElement.dataset.cloop === 'launcher'"
    )
    assert not page.locator('[data-cloop="frame"]').is_visible()
    assert launcher.get_attribute("aria-expanded") == "false"


def test_it_refuses_to_render_the_window_on_a_foreign_origin(
    page, demo_site, live_server, foreign_host
):
    cloop = f"http://localhost:{live_server.port}"
    foreign_host.pages["/loader.html"] = (
        "<!doctype html><title>x</title><h1>Elsewhere</h1>"
        f'<script src="{cloop}/widget.js" data-site="{demo_site.site_id}" async></script>'
    )
    # A page that frames the window directly and claims to be an allowed origin.
    foreign_host.pages["/spoof.html"] = (
        "<!doctype html><title>x</title>"
        f'<iframe id="spoof" src="{cloop}/widget/frame/{demo_site.site_id}/?o={cloop}"></iframe>'
    )
    # The loader asks first and shows no launcher (whose window would be refused).
    with page.expect_console_message(lambda m: m.text.startswith("Cloop:")):
        page.goto(foreign_host.origin + "/loader.html")
    assert page.locator('[data-cloop="launcher"]').count() == 0

    # Chromium reports the refusal on the console.
    with page.expect_console_message(lambda m: "frame-ancestors" in m.text, timeout=30000):
        page.goto(foreign_host.origin + "/spoof.html")
    spoof = page.query_selector("#spoof").content_frame()
    assert spoof.query_selector('[data-cloop="input"]') is None


def test_it_chats_on_an_allowed_foreign_origin_and_stores_nothing_on_cloop(
    page, browser_context, demo_site, live_server, foreign_host
):
    from tests.e2e.test_chat import wait_answers

    cloop = f"http://localhost:{live_server.port}"
    page.goto(foreign_shop(foreign_host, live_server, demo_site))
    frame = chat_frame(page)
    assert frame.url.startswith(f"{cloop}/widget/frame/{demo_site.site_id}/")
    frame.fill('[data-cloop="input"]', "Do you sell gift cards?")
    frame.press('[data-cloop="input"]', "Enter")
    wait_answers(frame, 1)
    key = f"cloop_visitor_{demo_site.site_id}"
    assert list(page.evaluate("Object.assign({}, localStorage)")) == [key]
    # Cloop's origin (the window) keeps nothing at all (where Chromium lets a third-party
    # frame have storage at all).
    assert (
        frame.evaluate(
            "(() => { try { return localStorage.length + sessionStorage.length; }"
            " catch (e) { return 0; } })()"
        )
        == 0
    )
    assert frame.evaluate("document.cookie") == ""
    assert browser_context.cookies() == []
    # The host page cannot reach into the window: it is another origin.
    assert page.evaluate(
        "(() => { try { return document.querySelector('[data-cloop=frame]')"
        ".contentDocument === null; } catch (e) { return true; } })()"
    )


def test_it_takes_side_colour_and_texts_from_the_site_settings(page, demo_site, live_server):
    from django_tenants.utils import tenant_context

    from widget.models import WidgetSettings

    with tenant_context(demo_site):
        ws = WidgetSettings.load()
        ws.position, ws.primary_color, ws.bot_name = "left", "#ffdd00", "Polly"
        ws.greeting, ws.starter_questions = "Moi! Ask away.", ["Do you sell gift cards?"]
        ws.save()
    page.goto(demo_url(live_server))
    launcher = page.locator('[data-cloop="launcher"]')
    launcher.wait_for()
    assert launcher.bounding_box()["x"] < 100
    assert launcher.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 221, 0)"
    assert launcher.evaluate("e => getComputedStyle(e).color") == "rgb(0, 0, 0)"  # contrast
    page.evaluate("Cloop.open()")  # the one global opens the window too
    frame = page.wait_for_selector('iframe[data-cloop="frame"]').content_frame()
    frame.wait_for_selector("html[data-cloop-ready]", state="attached")
    assert page.locator('[data-cloop="frame"]').bounding_box()["x"] < 100
    assert frame.locator(".cw-title").inner_text() == "Chat with Polly"
    assert frame.locator(".cw-greeting").inner_text() == "Moi! Ask away."
    assert frame.locator(".cw-starter").all_inner_texts() == ["Do you sell gift cards?"]
    assert frame.locator(".cw-head").evaluate("e => getComputedStyle(e).backgroundColor") == (
        "rgb(255, 221, 0)"
    )
    page.evaluate("Cloop.close()")
    assert not page.locator('[data-cloop="frame"]').is_visible()
