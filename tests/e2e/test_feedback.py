"""Thumbs up / down on an answer in a real Chromium: real buttons with labels and
aria-pressed, used from the keyboard, stored on the message, kept across a reload, undone."""

import time
import uuid

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from tests.e2e.conftest import ask, chat_frame, demo_url
from tests.e2e.test_chat import ANSWERED, visitor_id, wait_answers

pytestmark = pytest.mark.e2e


def stored_feedback(site, vid: str, want: str, timeout: float = 30.0) -> str:
    """The feedback on the visitor's answer once it is `want` (or what it is at the timeout)."""
    from conversations.models import Message

    deadline = time.monotonic() + timeout
    while True:
        with tenant_context(site):
            value = (
                Message.objects.filter(conversation__visitor_id=uuid.UUID(vid), role="assistant")
                .values_list("feedback", flat=True)
                .first()
            )
        if value == want or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_it_rates_an_answer_with_the_keyboard_and_keeps_the_rating(page, demo_site, live_server):
    page.goto(demo_url(live_server))
    frame = chat_frame(page)
    ask(frame, "How much does the E-Cruiser cost?")
    wait_answers(frame, 1)
    answer = frame.locator(ANSWERED).last
    group = answer.locator("[data-cloop='feedback']")
    expect(group).to_have_attribute("role", "group")
    expect(group).to_have_attribute("aria-label", "Was this answer helpful?")
    up = group.get_by_role("button", name="Helpful", exact=True)
    down = group.get_by_role("button", name="Not helpful")
    expect(up).to_have_attribute("aria-pressed", "false")
    expect(down).to_have_attribute("aria-pressed", "false")

    # Keyboard only: focus the thumbs-up, Tab to the thumbs-down, press Space.
    up.focus()
    page.keyboard.press("Tab")
    expect(down).to_be_focused()
    page.keyboard.press("Space")
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")
    vid = visitor_id(page, demo_site)
    assert stored_feedback(demo_site, vid, "down") == "down"

    # A reload shows the rating given; changing it is one key press on the other button.
    page.reload()
    frame = chat_frame(page)
    wait_answers(frame, 1)
    group = frame.locator(ANSWERED).last.locator("[data-cloop='feedback']")
    down = group.get_by_role("button", name="Not helpful")
    up = group.get_by_role("button", name="Helpful", exact=True)
    expect(down).to_have_attribute("aria-pressed", "true")
    up.focus()
    page.keyboard.press("Enter")
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(down).to_have_attribute("aria-pressed", "false")
    assert stored_feedback(demo_site, vid, "up") == "up"
    # Pressing the pressed button again takes the rating back.
    page.keyboard.press("Enter")
    expect(up).to_have_attribute("aria-pressed", "false")
    assert stored_feedback(demo_site, vid, "") == ""
    assert page.errors == []
