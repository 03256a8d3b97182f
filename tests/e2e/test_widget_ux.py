"""The widget as a visitor meets it: the log ends on the newest answer with its sources,
[n] links, section labels, the launcher's open/close state, no console warnings."""

import pytest

from tests.e2e.conftest import ask, chat_frame, demo_url, foreign_shop
from tests.e2e.test_chat import ANSWERED, wait_answers

pytestmark = pytest.mark.e2e

LONG = "\n\n".join(
    f"Point {i}: the Helsinki store on Fredrikinkatu is open on weekdays and weekends too."
    for i in range(1, 13)
)


def box(locator) -> dict:
    b = locator.bounding_box()
    return {**b, "bottom": b["y"] + b["height"]}


def test_it_scrolls_to_the_end_of_a_long_answer_with_its_sources_above_the_email_form(
    page, demo_site, live_server, loopback_model
):
    loopback_model.reply = f"{LONG}\n\nAsk the store for a quote [1]. Prices are online [2]."
    page.goto(demo_url(live_server))
    frame = chat_frame(page)
    # A request for a quote makes the server ask for an e-mail address (ask_email).
    ask(frame, "Please contact me with a quote for a Cargo Hauler for our company")
    wait_answers(frame, 1)
    form = frame.locator("[data-cloop='email-form']")
    form.wait_for(state="visible")
    log = box(frame.locator("#cw-log"))
    last_source = frame.locator(ANSWERED).last.locator("[data-cloop='source']").last
    src = box(last_source)
    # The newest answer's last source is inside the log's visible part, not under the form.
    assert log["y"] <= src["y"] and src["bottom"] <= log["bottom"] + 1, (log, src)
    assert box(form)["y"] >= log["bottom"] - 1
    assert box(frame.locator(ANSWERED).last.locator("p").first)["y"] < log["y"]  # it scrolled


def test_it_links_citation_markers_to_their_sources_labelled_by_section(
    page, demo_site, live_server, loopback_model
):
    loopback_model.reply = (
        "The Helsinki store is on Fredrikinkatu [1]. Stores close on holidays [2]."
    )
    page.goto(demo_url(live_server))
    frame = chat_frame(page)
    ask(frame, "Where is the Helsinki store and when is it open?")
    wait_answers(frame, 1)
    answer = frame.locator(ANSWERED).last
    sources = answer.locator("[data-cloop='source']")
    cites = answer.locator("[data-cloop='cite']")
    assert cites.count() == 2 and sources.count() == 2
    for n in (1, 2):
        cite = cites.nth(n - 1)
        assert cite.inner_text() == f"[{n}]"
        assert cite.get_attribute("href") == sources.nth(n - 1).get_attribute("href")
        label = sources.nth(n - 1).inner_text()
        assert cite.get_attribute("aria-label") == f"Source {n}: {label}"
    labels = {s.get_attribute("href").rpartition("/")[2]: s.inner_text() for s in sources.all()}
    # The section's own heading, not "Our stores | Northwind Bikes › helsinki".
    assert labels.get("#helsinki") == "Our stores \u203a Helsinki", labels
    assert all("|" not in label for label in labels.values())


def test_it_shows_a_close_launcher_while_open_and_posts_no_message_too_early(
    page, demo_site, live_server, foreign_host
):
    console = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.goto(foreign_shop(foreign_host, live_server, demo_site))
    launcher = page.locator('[data-cloop="launcher"]')
    assert launcher.get_attribute("aria-label") == "Open chat"
    frame = chat_frame(page)
    assert launcher.get_attribute("aria-label") == "Close chat"
    assert launcher.get_attribute("title") == "Close chat"
    assert launcher.get_attribute("aria-expanded") == "true"
    assert launcher.locator("path").get_attribute("d").startswith("M6 6l12 12")  # an X
    ask(frame, "Do you sell gift cards?")
    wait_answers(frame, 1)
    launcher.click()
    assert launcher.get_attribute("aria-label") == "Open chat"
    assert launcher.get_attribute("aria-expanded") == "false"
    launcher.click()  # once more: the window is ready now and gets `cloop:open`
    assert launcher.get_attribute("aria-label") == "Close chat"
    page.reload()  # the open state is not remembered: only the visitor id is stored
    assert page.locator('[data-cloop="launcher"]').get_attribute("aria-label") == "Open chat"
    key = f"cloop_visitor_{demo_site.site_id}"
    assert list(page.evaluate("Object.assign({}, localStorage)")) == [key]
    assert not [m for m in console if "postMessage" in m], console
