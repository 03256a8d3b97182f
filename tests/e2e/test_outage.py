"""The chat window while PostgreSQL is down, in a real Chromium against a real uvicorn process
whose database connection the test cuts and restores (tests/outage.py)."""

import uuid

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from conversations.models import Message
from widget.strings import strings_for

pytestmark = pytest.mark.e2e


def test_it_shows_temporarily_unavailable_and_sends_the_message_once_the_database_is_back(
    _playwright,
    outage,
):
    server, relay, site_a = outage
    origin = f"http://localhost:{server.port}"
    vid = str(uuid.uuid4())
    # The chat window opened on its own (Cloop's origin may embed it): the test plays the
    # loader's part with postMessage, which needs script in the page despite its CSP.
    ctx = _playwright.new_context(bypass_csp=True)
    try:
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{origin}/widget/frame/{site_a.site_id}/?o={origin}")
        page.wait_for_selector("html[data-cloop-ready]", state="attached")
        with page.expect_websocket() as opened:
            page.evaluate(
                "vid => window.postMessage({type: 'cloop:init', visitor_id: vid, "
                "page_url: location.href}, location.origin)",
                vid,
            )
        ws = opened.value
        ws.wait_for_event("framereceived")  # ready

        relay.stop()  # the database goes down
        page.fill('[data-cloop="input"]', "How much does the Pro plan cost?")
        page.press('[data-cloop="input"]', "Enter")
        status = page.locator("#cw-status")
        expect(status).to_have_text(strings_for("en")["unavailable"], timeout=20000)
        relay.start()  # back: the window reconnects on its own and sends the queued message
        answer = page.locator("[data-cloop='message'][data-role='assistant']:not([aria-busy])")
        expect(answer.last).to_be_attached(timeout=60000)
        expect(status).to_have_text("")
        assert errors == []
    finally:
        ctx.close()
    with tenant_context(site_a):
        assert list(Message.objects.filter(role="visitor").values_list("text", flat=True)) == [
            "How much does the Pro plan cost?"
        ]
