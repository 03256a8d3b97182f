"""The summary menu item uses `ready.has_email`: the form first for a new visitor, none after."""

from tests.e2e.conftest import ask, chat_frame, demo_url
from tests.e2e.test_chat import socket_frames, wait_answers


def test_it_asks_for_the_email_only_when_the_site_has_none(page, demo_site, live_server):
    frames = socket_frames(page)
    page.goto(demo_url(live_server))
    frame = chat_frame(page)
    ask(frame, "What does the warranty cover?")
    wait_answers(frame, 1)
    assert [f["has_email"] for f in frames if f["type"] == "ready"] == [False]
    frame.click("#cw-menu-btn")
    frame.click("text=E-mail me a summary")
    form = frame.locator("[data-cloop='email-form']")
    form.wait_for(state="visible")
    # The form came from `ready`, not from a refused summary.
    assert not any(f["type"] == "error" for f in frames)
    form.locator("input[type='email']").fill("known@example.com")
    form.locator("button[type='submit']").click()
    frame.wait_for_selector("text=A summary is on its way to your e-mail.")

    frames.clear()
    page.reload()
    frame = chat_frame(page)
    wait_answers(frame, 1)
    frame.click("#cw-menu-btn")
    frame.click("text=E-mail me a summary")
    frame.wait_for_selector("text=A summary is on its way to your e-mail.")
    assert frame.locator("[data-cloop='email-form']").is_hidden()
    assert [f["has_email"] for f in frames if f["type"] == "ready"] == [True]
    assert "summary_sent" in [f["type"] for f in frames]
    assert "email_saved" not in [f["type"] for f in frames]
