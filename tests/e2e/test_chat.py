"""Chatting in a real Chromium: streamed cited answers, citations, resuming, e-mail, delete,
offline queueing. The answer model is the default offline provider (no network)."""

import json
import re
import threading
import time
import uuid

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from tests.e2e.conftest import ask, chat_frame, demo_url

pytestmark = pytest.mark.e2e

ANSWERED = "[data-cloop='message'][data-role='assistant']:not([aria-busy])"
STREAMING = "[data-cloop='message'][data-role='assistant'][aria-busy]"

# Counts the chat window's sockets in the window itself (an init script runs in every frame,
# whatever its CSP): `made` when one is created, `closed` once its close event has been
# dispatched, to the window's own handler too (one event's listeners run in one task).
SOCKET_COUNTER = """(() => {
  const Native = window.WebSocket;
  const count = (window.__cwSockets = { made: 0, closed: 0 });
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      count.made++;
      this.addEventListener("close", () => count.closed++);
    }
  };
})();"""


def wait_answers(frame, n: int, timeout: float = 45000):
    # Polled through locators: the window's CSP forbids the eval behind wait_for_function.
    expect(frame.locator(ANSWERED).nth(n - 1)).to_be_attached(timeout=timeout)


def socket_frames(page) -> list[dict]:
    """Every JSON frame the server sent to the chat window, in order."""
    frames: list[dict] = []

    def on_socket(ws):
        ws.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", on_socket)
    return frames


def sockets_count(page) -> None:
    page.add_init_script(SOCKET_COUNTER)


def sockets(frame) -> dict:
    """{"made": n, "closed": n}: the chat window's sockets so far (see SOCKET_COUNTER)."""
    return frame.evaluate("window.__cwSockets")


def poll(page, check, what: str, timeout: float = 30.0):
    """Until `check()` is true, letting Playwright deliver its events meanwhile."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        page.wait_for_timeout(50)


def visitor_id(page, site) -> str:
    return page.evaluate(f"localStorage.getItem('cloop_visitor_{site.site_id}')")


def stored_messages(site, vid: str) -> list[tuple[str, str]]:
    from conversations.models import Message

    with tenant_context(site):
        return list(
            Message.objects.filter(conversation__visitor_id=uuid.UUID(vid))
            .order_by("created_at", "id")
            .values_list("role", "text")
        )


def test_it_streams_a_cited_answer_and_the_citation_opens_the_section(
    page, demo_site, live_server, loopback_model
):
    # A model that streams at a visible pace (the consumer batches deltas every 40 ms) and
    # holds the rest of its answer until the window has shown the first piece: how many
    # frames the rest takes depends on the machine's speed, that the window streams does not.
    loopback_model.reply = (
        "The E-Cruiser costs **2,490 euros** [1]. It has a quiet mid-drive motor and a "
        "500 Wh battery [2]."
    )
    loopback_model.token_delay = 0.06
    loopback_model.hold = threading.Event()
    frames = socket_frames(page)
    page.goto(demo_url(live_server))
    frame = chat_frame(page)
    ask(frame, "What is the price of the E-Cruiser?")
    expect(frame.locator(STREAMING)).to_contain_text("The", timeout=30000)
    loopback_model.hold.set()
    wait_answers(frame, 1)

    types = [f["type"] for f in frames]
    assert types[0] == "ready"
    assert types.count("delta") >= 2, [f for f in frames if f["type"] != "ready"]
    assert types.index("delta") < types.index("answer")
    visitor = frame.locator("[data-cloop='message'][data-role='visitor']")
    assert visitor.last.inner_text().endswith("What is the price of the E-Cruiser?")
    answer = frame.locator(ANSWERED).last
    assert "2,490" in answer.inner_text()
    assert answer.locator("strong").inner_text() == "2,490 euros"

    source = answer.locator("[data-cloop='source']").first
    href = source.get_attribute("href")
    assert href.startswith(f"http://localhost:{live_server.port}/demo/")
    path, _, anchor = href.partition("#")
    assert anchor, href
    source.click()
    page.wait_for_url(href)
    assert page.evaluate("location.pathname") == path.split(str(live_server.port), 1)[1]
    assert page.locator(f"[id='{anchor}']").count() == 1
    assert page.errors == []


def test_it_keeps_the_conversation_across_reload_and_navigation(page, demo_site, live_server):
    page.goto(demo_url(live_server))
    frame = chat_frame(page)
    ask(frame, "Can I ride in winter?")
    wait_answers(frame, 1)
    vid = visitor_id(page, demo_site)

    page.reload()
    frame = chat_frame(page)
    wait_answers(frame, 1)
    texts = frame.locator("[data-cloop='message'][data-role='visitor']").all_inner_texts()
    assert any(t.endswith("Can I ride in winter?") for t in texts)

    page.goto(demo_url(live_server, "stores"))
    frame = chat_frame(page)
    wait_answers(frame, 1)
    ask(frame, "Where is the Helsinki store?")
    wait_answers(frame, 2)
    assert visitor_id(page, demo_site) == vid
    roles = [r for r, _ in stored_messages(demo_site, vid)]
    assert roles == ["visitor", "assistant", "visitor", "assistant"]


def test_it_asks_for_an_email_with_a_separate_unticked_consent(page, demo_site, live_server):
    from conversations.models import Lead

    frames = socket_frames(page)
    page.goto(demo_url(live_server))
    frame = chat_frame(page)
    ask(frame, "Please contact me with a quote for a Cargo Hauler for our company")
    wait_answers(frame, 1)
    form = frame.locator("[data-cloop='email-form']")
    form.wait_for(state="visible")
    assert any(f["type"] == "answer" and f.get("ask_email") for f in frames)
    consent = form.locator("input[type='checkbox']")
    assert not consent.is_checked()
    assert form.locator("label[for='cw-consent']").inner_text().strip()

    form.locator("input[type='email']").fill("not-an-email")
    form.locator("button[type='submit']").click()
    assert "valid" in form.locator("#cw-email-error").inner_text()

    form.locator("input[type='email']").fill("rider@example.com")
    form.locator("button[type='submit']").click()
    form.wait_for(state="hidden")
    frame.wait_for_selector("text=Thanks, your e-mail was saved.")
    with tenant_context(demo_site):
        lead = Lead.objects.get(email="rider@example.com")
        assert lead.marketing_consent is False
        assert str(lead.visitor_id) == visitor_id(page, demo_site)


def test_it_sends_a_summary_after_asking_for_the_email(page, demo_site, live_server):
    from conversations.models import Lead

    frames = socket_frames(page)
    page.goto(demo_url(live_server))
    frame = chat_frame(page)
    ask(frame, "What does the warranty cover?")
    wait_answers(frame, 1)
    frame.click("#cw-menu-btn")
    frame.click("text=E-mail me a summary")
    form = frame.locator("[data-cloop='email-form']")
    form.wait_for(state="visible")
    form.locator("input[type='email']").fill("summary@example.com")
    form.locator("input[type='checkbox']").check()
    form.locator("button[type='submit']").click()
    frame.wait_for_selector("text=A summary is on its way to your e-mail.")
    assert [f["type"] for f in frames if f["type"] in ("email_saved", "summary_sent")] == [
        "email_saved",
        "summary_sent",
    ]
    with tenant_context(demo_site):
        assert Lead.objects.get(email="summary@example.com").marketing_consent is True


def test_it_deletes_the_conversation_and_the_local_id(page, demo_site, live_server):
    from conversations.models import Visitor

    page.goto(demo_url(live_server))
    frame = chat_frame(page)
    ask(frame, "What are your opening hours in Turku?")
    wait_answers(frame, 1)
    vid = visitor_id(page, demo_site)
    with tenant_context(demo_site):
        assert Visitor.objects.filter(pk=vid).exists()

    frame.click("#cw-menu-btn")
    frame.click("text=Delete my conversation")
    dialog = frame.locator("#cw-confirm")
    dialog.wait_for(state="visible")
    frame.click("#cw-confirm-no")  # cancelling keeps everything
    assert visitor_id(page, demo_site) == vid
    frame.click("#cw-menu-btn")
    frame.click("text=Delete my conversation")
    frame.click("#cw-confirm-yes")
    frame.wait_for_selector("text=Your conversation was deleted.")
    page.wait_for_function(f"localStorage.getItem('cloop_visitor_{demo_site.site_id}') === null")
    assert frame.locator("[data-cloop='message']").count() == 0
    with tenant_context(demo_site):
        assert not Visitor.objects.filter(pk=vid).exists()

    # Chatting again starts afresh under a new id.
    ask(frame, "Do you sell gift cards?")
    wait_answers(frame, 1)
    new_vid = visitor_id(page, demo_site)
    assert new_vid and new_vid != vid


def test_it_queues_messages_typed_offline_and_sends_each_once(
    page, browser_context, demo_site, live_server
):
    frames = socket_frames(page)
    sockets_count(page)
    page.goto(demo_url(live_server))
    frame = chat_frame(page)
    ask(frame, "Do you ship to Sweden?")
    wait_answers(frame, 1)
    vid = visitor_id(page, demo_site)

    made_online = sockets(frame)["made"]
    browser_context.set_offline(True)
    frame.wait_for_selector("#cw-status.on")
    ask(frame, "How long does delivery take?")
    ask(frame, "Can I return a bike?")
    queued = frame.locator(".cw-queued")
    assert queued.count() == 2
    assert queued.first.locator(".cw-q").inner_text().strip() == "(Waiting to send)"
    # The queue outlives a reconnect attempt that fails while offline: wait for one to end.
    poll(page, lambda: sockets(frame)["closed"] > made_online, "a failed reconnect attempt")
    assert queued.count() == 2
    browser_context.set_offline(False)
    wait_answers(frame, 3)
    assert frame.locator("#cw-status.on").count() == 0
    assert frame.locator(".cw-queued, .cw-q").count() == 0

    texts = [t for r, t in stored_messages(demo_site, vid) if r == "visitor"]
    assert texts == [
        "Do you ship to Sweden?",
        "How long does delivery take?",
        "Can I return a bike?",
    ]
    sent = [f for f in frames if f["type"] == "answer"]
    assert len(sent) == 3
    assert re.search(r"deliver|days", frame.locator(ANSWERED).nth(1).inner_text(), re.I)


def test_it_shows_a_model_error_and_retries_the_same_message(
    page, demo_site, live_server, loopback_model
):
    loopback_model.mode = "error"
    page.goto(demo_url(live_server))
    frame = chat_frame(page)
    ask(frame, "What is the price of the E-Cruiser?")
    error = frame.locator("#cw-error[role='alert']")
    error.wait_for()
    assert frame.locator("#cw-typing").is_hidden()
    loopback_model.mode = "normal"
    loopback_model.reply = "The E-Cruiser costs 2,490 euros [1]."
    error.get_by_role("button", name="Try again").click()
    wait_answers(frame, 1)
    assert "2,490" in frame.locator(ANSWERED).last.inner_text()
    assert frame.locator("#cw-error").count() == 0
    visitor_texts = [
        t for r, t in stored_messages(demo_site, visitor_id(page, demo_site)) if r == "visitor"
    ]
    assert visitor_texts == ["What is the price of the E-Cruiser?"]  # stored once


def test_it_resends_a_message_cut_off_mid_answer_once(
    page, browser_context, demo_site, live_server, loopback_model
):
    loopback_model.reply = "The E-Cruiser costs 2,490 euros and it is a very fine bike [1]."
    # The answer stops after its first piece until the connection has been cut.
    loopback_model.hold = threading.Event()
    frames = socket_frames(page)
    page.goto(demo_url(live_server))
    frame = chat_frame(page)
    ask(frame, "What is the price of the E-Cruiser?")
    expect(frame.locator(STREAMING)).to_be_attached(timeout=30000)  # the first piece is in
    assert any(f["type"] == "delta" for f in frames)
    browser_context.set_offline(True)
    frame.wait_for_selector("#cw-status.on")
    loopback_model.hold.set()
    browser_context.set_offline(False)
    wait_answers(frame, 1)
    assert frame.locator("[data-cloop='message'][data-role='visitor']").count() == 1
    assert frame.locator("[data-cloop='message'][data-role='assistant']").count() == 1
    roles = [r for r, _ in stored_messages(demo_site, visitor_id(page, demo_site))]
    assert roles.count("visitor") == 1 and roles.count("assistant") == 1


def test_it_stays_quiet_after_an_idle_close_and_reconnects_on_use(
    page, settings, demo_site, live_server
):
    settings.CLOOP_WS_IDLE_SECONDS = 1
    sockets_count(page)
    # The window's timers on a clock the test can run ahead (it runs in real time until then).
    page.clock.install()
    page.goto(demo_url(live_server))
    frame = chat_frame(page)
    poll(page, lambda: sockets(frame)["closed"] == 1, "the idle close", timeout=60)
    # Every timer the window has set runs now, up to a minute ahead: a reconnect (a backoff
    # waits at most 37.5 s) would have opened a socket by then.
    page.clock.run_for(60_000)
    assert sockets(frame) == {"made": 1, "closed": 1}  # no reconnect while nobody chats
    assert frame.locator("#cw-status.on").count() == 0
    ask(frame, "Do you sell gift cards?")
    wait_answers(frame, 1)
    assert sockets(frame)["made"] == 2
