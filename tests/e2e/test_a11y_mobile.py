"""Accessibility (axe-core, vendored in tests/e2e/vendor, works offline), mobile full-screen,
and the README's screenshots (written to $CLOOP_SCREENSHOTS_DIR when set, e.g. docs/)."""

import pytest

from tests.e2e.conftest import VENDOR, ask, chat_frame, demo_url, screenshot_path
from tests.e2e.test_chat import wait_answers

pytestmark = pytest.mark.e2e

# Resolves once every finite animation has ended and the next two frames have run (the
# first draws the current DOM, the second starts after it was painted).
PAINTED = """Promise.all(document.getAnimations()
    .filter((a) => a.effect.getTiming().iterations !== Infinity).map((a) => a.finished))
  .then(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))))"""

AXE_OPTIONS = "{runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}}"


def axe_serious(target, context: str = "document") -> list[dict]:
    target.add_script_tag(path=str(VENDOR / "axe.min.js"))
    result = target.evaluate(f"axe.run({context}, {AXE_OPTIONS})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_it_has_no_serious_accessibility_violations(_playwright, demo_site, live_server):
    # The window's CSP rightly refuses injected scripts; this test's profile lets axe in.
    ctx = _playwright.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    try:
        page = ctx.new_page()
        page.goto(demo_url(live_server))
        # The loader inserts the launcher after the page's load: axe must find it first.
        page.wait_for_selector('[data-cloop="launcher"]')
        assert axe_serious(page, "{include: [['[data-cloop=\"launcher\"]']]}") == []
        frame = chat_frame(page)
        ask(frame, "Please contact me with a quote for a Cargo Hauler for our company")
        wait_answers(frame, 1)
        frame.locator("[data-cloop='email-form']").wait_for(state="visible")
        frame.click("#cw-menu-btn")  # the open menu is scanned too
        assert axe_serious(frame) == []
        frame.press("#cw-menu", "Escape")
        frame.click("#cw-menu-btn")
        frame.click("#cw-forget")
        frame.locator("#cw-confirm").wait_for(state="visible")
        assert frame.evaluate("document.activeElement.id") == "cw-confirm-no"
        assert axe_serious(frame) == []
    finally:
        ctx.close()


def test_it_streams_into_a_live_region_with_labelled_controls(page, demo_site, live_server):
    page.goto(demo_url(live_server))
    frame = chat_frame(page)
    log = frame.locator("#cw-log")
    assert log.get_attribute("role") == "log"
    assert log.get_attribute("aria-live") == "polite"
    assert frame.locator("label[for='cw-input']").count() == 1
    assert (
        frame.locator("[data-cloop='disclosure']")
        .inner_text()
        .startswith("This chat is powered by AI.")
    )
    privacy = frame.locator("[data-cloop='disclosure'] a")
    assert privacy.get_attribute("href") == (
        f"http://localhost:{live_server.port}/privacy/{demo_site.site_id}/"
    )
    # Keyboard only: Tab walks from the input to Send, starters and the header buttons.
    frame.focus("[data-cloop='input']")
    page.keyboard.type("Do you sell gift cards?")
    page.keyboard.press("Enter")
    wait_answers(frame, 1)
    assert frame.evaluate("document.activeElement.dataset.cloop") == "input"


def test_it_goes_full_screen_on_a_phone_and_saves_screenshots(
    _playwright, demo_site, live_server, tmp_path
):
    from widget.management.commands.setup_demo import demo_settings_ensure

    demo_settings_ensure(demo_site)  # the demo's look: name, colour, starter questions
    shots = {}
    for name, options in {
        "desktop": {"viewport": {"width": 1280, "height": 800}},
        "mobile": {
            "viewport": {"width": 390, "height": 844},
            "device_scale_factor": 2,
            "is_mobile": True,
            "has_touch": True,
        },
    }.items():
        ctx = _playwright.new_context(**options)
        try:
            page = ctx.new_page()
            page.goto(demo_url(live_server))
            frame = chat_frame(page)
            assert frame.locator(".cw-starter").count() == 3
            assert frame.locator(".cw-title").inner_text() == "Chat with Northwind helper"
            frame.locator(".cw-starter").first.click()  # a starter question asks itself
            wait_answers(frame, 1)
            frame.evaluate(PAINTED)  # the answer is on screen, not only in the DOM
            box = page.locator("[data-cloop='frame']").bounding_box()
            if name == "mobile":
                assert box == {"x": 0, "y": 0, "width": 390, "height": 844}
                assert not page.locator("[data-cloop='launcher']").is_visible()
            else:
                assert box["width"] == 380 and box["x"] > 800
            shots[name] = screenshot_path(tmp_path, f"widget-{name}.png")
            page.screenshot(path=str(shots[name]))
        finally:
            ctx.close()
    assert all(p.stat().st_size > 10_000 for p in shots.values())
