"""The chat WebSocket over a real ASGI server (uvicorn) with a real WebSocket client."""

import asyncio
import re
import uuid

import pytest
from django_tenants.utils import tenant_context
from websockets.exceptions import ConnectionClosed, InvalidStatus

from conversations.models import Conversation, Lead, Message, Visitor
from tests.conversations.conftest import *  # noqa: F403 - the openai_server fixture
from tests.conversations.pages import PAGES_A, PAGES_B, index_pages
from tests.conversations.wsclient import ChatClient
from widget.chat_data import settings_cache_clear
from widget.tenancy import site_cache_clear


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def chat_sites(live_server, site_a, site_b):
    index_pages(site_a, PAGES_A)
    index_pages(site_b, PAGES_B)
    site_cache_clear()
    settings_cache_clear()
    return live_server, site_a, site_b


@pytest.fixture
def site_a_origins(site_a):
    """Sets site A's allowed origins for one test; its own (the session's) come back after,
    however the test ended: the tests that run after it, in this process, expect them."""
    from tenants.models import Site

    saved = Site.objects.get(pk=site_a.pk).allowed_origins

    def set_origins(origins: list[str]) -> None:
        Site.objects.filter(pk=site_a.pk).update(allowed_origins=origins)
        site_cache_clear()
        settings_cache_clear()

    try:
        yield set_origins
    finally:
        set_origins(saved)


def rows(site, model, **filters):
    with tenant_context(site):
        return list(model.objects.filter(**filters))


def test_it_streams_deltas_in_order_then_a_cited_answer(chat_sites):
    server, site_a, _ = chat_sites
    vid = str(uuid.uuid4())

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            ready = await c.hello(vid, page_url="http://site-a.test/pricing?email=a@b.fi#top")
            answer, before = await c.ask("How much does the Pro plan cost?", "m1")
            return ready, answer, before

    ready, answer, before = run(scenario())
    assert ready["visitor_id"] == vid
    assert ready["conversation_id"] is None and ready["history"] == []
    assert ready["phase"] == "exploring"
    assert ready["settings"]["language"] == "en" and "consent_text" in ready["settings"]
    assert before and all(f["type"] == "delta" for f in before)
    assert all(f["client_message_id"] == "m1" for f in before)
    streamed = "".join(f["text"] for f in before)
    # The final text is the streamed text with its citation numbers renumbered.
    assert re.sub(r"\[\d+\]", "[]", streamed) == re.sub(r"\[\d+\]", "[]", answer["text"])
    assert answer["type"] == "answer" and answer["client_message_id"] == "m1"
    assert "99 euros" in answer["text"]
    assert answer["sources"][0] == {
        "url": "http://site-a.test/pricing",
        "title": "Pricing",  # "Pricing - Site A" without the site's name (Site A Oy)
    }
    assert answer["phase"] == "learning" and answer["ask_email"] is False
    # Stored: the question, then the answer that replies to it; start page without query.
    conv = rows(site_a, Conversation)[0]
    assert conv.pk == answer["conversation_id"]
    assert conv.start_page_url == "http://site-a.test/pricing"
    assert conv.phase == "learning"
    assert [p["phase"] for p in conv.phase_history] == ["exploring", "learning"]
    q, a = rows(site_a, Message, conversation=conv)
    assert (q.role, q.text, q.client_message_id) == (
        "visitor",
        "How much does the Pro plan cost?",
        "m1",
    )
    assert (a.role, a.reply_to_id, a.pk) == ("assistant", q.pk, answer["message_id"])
    assert a.sources == answer["sources"] and a.model == "cloop-offline/extractive"
    assert a.first_token_ms is not None and a.total_ms >= a.first_token_ms


@pytest.mark.parametrize("token_delay", [0.08, 0.004])
def test_it_streams_model_tokens_in_order(chat_sites, openai_server, token_delay):
    """Slow or fast, every piece arrives once and in order (how pieces share frames is
    DeltaBatcher's, tested with an injected clock in tests/conversations/chat/test_streaming.py)."""
    server, site_a, _ = chat_sites
    openai_server.token_delay = token_delay
    openai_server.reply = " ".join(f"t{i}" for i in range(40)) + " [1]"

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(str(uuid.uuid4()))
            return await c.ask("How much does the Pro plan cost?", "m1")

    answer, deltas = run(scenario())
    assert [d["type"] for d in deltas] == ["delta"] * len(deltas)
    assert "".join(d["text"] for d in deltas) == openai_server.reply
    assert deltas[0]["text"] == "t0 "  # the first piece goes out alone, at once
    assert answer["text"] == openai_server.reply


def test_it_resumes_the_conversation_on_a_new_connection_of_the_same_site(chat_sites):
    server, site_a, site_b = chat_sites
    vid = str(uuid.uuid4())

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(vid)
            first, _ = await c.ask("How much does the Pro plan cost?", "m1")
        async with ChatClient.connect(server, site_a.site_id) as c:
            again = await c.hello(vid, page_url="http://site-a.test/services")
        async with ChatClient.connect(server, site_b.site_id) as c:
            elsewhere = await c.hello(vid)
        return first, again, elsewhere

    first, again, elsewhere = run(scenario())
    assert again["conversation_id"] == first["conversation_id"]
    assert again["phase"] == "learning"
    assert [(m["role"], m["client_message_id"]) for m in again["history"]] == [
        ("visitor", "m1"),
        ("assistant", None),
    ]
    assert again["history"][1]["text"] == first["text"]
    assert again["history"][1]["sources"] == first["sources"]
    # The same visitor id on another site starts fresh: nothing is shared across sites.
    assert elsewhere["conversation_id"] is None and elsewhere["history"] == []
    assert rows(site_b, Visitor) == []


def test_it_does_not_store_or_answer_a_resent_message_twice(chat_sites):
    server, site_a, _ = chat_sites

    async def scenario():
        vid = str(uuid.uuid4())
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(vid)
            first, _ = await c.ask("How much does the Pro plan cost?", "m1")
            again_same, deltas_same = await c.ask("How much does the Pro plan cost?", "m1")
        async with ChatClient.connect(server, site_a.site_id) as c:  # e.g. after a reconnect
            await c.hello(vid)
            again, deltas = await c.ask("How much does the Pro plan cost?", "m1")
        return first, again_same, deltas_same, again, deltas

    first, again_same, deltas_same, again, deltas = run(scenario())
    for resent, resent_deltas in ((again_same, deltas_same), (again, deltas)):
        assert resent["duplicate"] is True
        assert resent["message_id"] == first["message_id"]
        assert resent["text"] == first["text"] and resent["sources"] == first["sources"]
        assert resent_deltas == []
    assert len(rows(site_a, Message, role="visitor")) == 1
    assert len(rows(site_a, Message, role="assistant")) == 1


def test_it_keeps_the_message_when_the_model_fails_and_answers_on_retry(chat_sites, openai_server):
    server, site_a, _ = chat_sites
    vid = str(uuid.uuid4())
    openai_server.mode = "error"

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(vid)
            failed, _ = await c.ask("How much does the Pro plan cost?", "m1")
            openai_server.mode = "normal"
            retried, deltas = await c.ask("How much does the Pro plan cost?", "m1")
        async with ChatClient.connect(server, site_a.site_id) as c:
            ready = await c.hello(vid)
        return failed, retried, deltas, ready

    failed, retried, deltas, ready = run(scenario())
    assert failed["type"] == "error" and failed["code"] == "model_error"
    assert failed["retryable"] is True and failed["client_message_id"] == "m1"
    assert retried["type"] == "answer" and "duplicate" not in retried
    assert "".join(d["text"] for d in deltas) == openai_server.reply
    assert len(rows(site_a, Message, role="visitor")) == 1
    assistant = rows(site_a, Message, role="assistant")
    assert sorted(m.error for m in assistant) == ["", "model_error"]
    # History shows the question and the good answer only.
    assert [m["role"] for m in ready["history"]] == ["visitor", "assistant"]
    assert ready["history"][1]["message_id"] == retried["message_id"]


def test_it_refuses_off_topic_questions_politely(chat_sites, openai_server):
    server, site_a, _ = chat_sites
    # The model's search words for it find nothing on the site either.
    openai_server.replies = ["capital city of France Paris"]

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(str(uuid.uuid4()))
            return await c.ask("What is the capital of France?", "m1")

    answer, deltas = run(scenario())
    assert answer["refused"] is True and answer["sources"] == []
    assert "only answer questions about this website" in answer["text"]
    assert len(openai_server.requests) == 1  # search words only: no answer was asked for
    assert "search words" in openai_server.requests[0]["messages"][0]["content"]
    assert rows(site_a, Message, role="assistant")[0].refused is True


def test_it_shows_the_refusal_when_the_model_finds_no_answer(chat_sites, openai_server):
    from conversations.chat.answer import REFUSAL
    from conversations.chat.prompt import NO_ANSWER

    server, site_a, _ = chat_sites
    openai_server.reply = NO_ANSWER

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(str(uuid.uuid4()))
            return await c.ask("How much does the Pro plan cost?", "m1")

    answer, deltas = run(scenario())
    assert len(openai_server.requests) == 1  # the model was asked and decided
    assert answer["type"] == "answer" and answer["refused"] is True
    assert answer["text"] == REFUSAL["en"] and answer["sources"] == []
    assert "".join(d["text"] for d in deltas) == REFUSAL["en"]  # never the marker
    stored = rows(site_a, Message, role="assistant")[0]
    assert stored.refused is True and stored.text == REFUSAL["en"]
    assert stored.model == "openai/gpt-4o-mini"


def test_it_answers_in_finnish_and_keeps_sites_apart(chat_sites):
    server, site_a, site_b = chat_sites
    vid = str(uuid.uuid4())

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as a:
            await a.hello(vid)
            fi, _ = await a.ask("Paljonko Pro-paketti maksaa kuukaudessa?", "f1")
        async with ChatClient.connect(server, site_b.site_id) as b:
            await b.hello(vid)
            boats, _ = await b.ask("How much is a day of sailing?", "b1")
            pricing, _ = await b.ask("How much does the Pro plan cost?", "b2")
        return fi, boats, pricing

    fi, boats, pricing = run(scenario())
    assert "99 euroa" in fi["text"]
    assert fi["sources"][0]["url"] == "http://site-a.test/fi/hinnasto"
    assert [s["url"] for s in boats["sources"]] == ["http://site-b.test/boats"]
    # Site A's pricing page is not site B's content.
    assert pricing["refused"] is True
    assert "site-a.test" not in str(pricing)
    assert {m.text for m in rows(site_a, Message, role="visitor")} == {
        "Paljonko Pro-paketti maksaa kuukaudessa?"
    }
    assert {m.text for m in rows(site_b, Message, role="visitor")} == {
        "How much is a day of sailing?",
        "How much does the Pro plan cost?",
    }


def test_it_asks_for_an_email_on_contact_requests_and_validates_it(chat_sites):
    server, site_a, _ = chat_sites
    vid = str(uuid.uuid4())

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            ready = await c.hello(vid)
            contact, _ = await c.ask("Can someone contact me about a quote?", "m1")
            await c.send(type="email", email="not an email", marketing_consent=True)
            bad, _ = await c.until("email_saved")
            await c.send(type="email", email="anna@example.fi", marketing_consent="yes")
            plain, _ = await c.until("email_saved")
            await c.send(type="email", email="ben@example.fi", marketing_consent=True)
            consented, _ = await c.until("email_saved")
            again, _ = await c.ask("Please call me about a demo", "m2")
            return ready, contact, bad, plain, consented, again

    ready, contact, bad, plain, consented, again = run(scenario())
    assert contact["phase"] == "requesting_contact" and contact["ask_email"] is True
    assert bad["type"] == "error" and bad["code"] == "invalid_email"
    assert plain == {"type": "email_saved", "email": "anna@example.fi", "marketing_consent": False}
    assert consented["marketing_consent"] is True
    assert again["ask_email"] is False
    leads = {lead.email: lead for lead in rows(site_a, Lead)}
    assert set(leads) == {"anna@example.fi", "ben@example.fi"}
    assert leads["anna@example.fi"].consent_text == ""
    assert leads["anna@example.fi"].consent_at is None
    assert leads["ben@example.fi"].consent_text == ready["settings"]["consent_text"]
    assert leads["ben@example.fi"].consent_at is not None
    assert leads["ben@example.fi"].source == "widget"
    assert str(leads["ben@example.fi"].visitor_id) == vid
    conv = rows(site_a, Conversation)[0]
    assert conv.phase == "requesting_contact"


def test_it_forgets_the_visitor_on_this_site_only(chat_sites):
    server, site_a, site_b = chat_sites
    vid = str(uuid.uuid4())

    async def scenario():
        async with ChatClient.connect(server, site_b.site_id) as b:
            await b.hello(vid)
            await b.ask("How much is a day of sailing?", "b1")
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(vid)
            await c.ask("How much does the Pro plan cost?", "m1")
            await c.send(type="email", email="anna@example.fi", marketing_consent=True)
            await c.until("email_saved")
            await c.send(type="forget")
            forgotten, _ = await c.until("forgotten")
            # The socket stays usable and a new conversation starts.
            after, _ = await c.ask("How much does the Pro plan cost?", "m2")
        async with ChatClient.connect(server, site_a.site_id) as c:
            ready = await c.hello(vid)
        return forgotten, after, ready

    forgotten, after, ready = run(scenario())
    counts = forgotten["counts"]
    assert (counts["messages"], counts["leads"], counts["conversations"]) == (2, 1, 1)
    assert rows(site_a, Lead) == []
    assert [m.client_message_id for m in rows(site_a, Message, role="visitor")] == ["m2"]
    assert after["conversation_id"] != None  # noqa: E711
    assert [m["client_message_id"] for m in ready["history"] if m["role"] == "visitor"] == ["m2"]
    assert len(rows(site_b, Message)) == 2  # the other site keeps its own conversation


def test_it_starts_a_new_conversation_when_another_tab_forgot_the_old_one(chat_sites):
    server, site_a, _ = chat_sites
    vid = str(uuid.uuid4())

    async def scenario():
        async with (
            ChatClient.connect(server, site_a.site_id) as tab1,
            ChatClient.connect(server, site_a.site_id) as tab2,
        ):
            await tab1.hello(vid)
            first, _ = await tab1.ask("How much does the Pro plan cost?", "m1")
            await tab2.hello(vid)
            await tab2.send(type="forget")
            await tab2.until("forgotten")
            second, _ = await tab1.ask("Is support included?", "m2")
            return first, second

    first, second = run(scenario())
    assert second["type"] == "answer"
    assert second["conversation_id"] != first["conversation_id"]
    assert [m.client_message_id for m in rows(site_a, Message, role="visitor")] == ["m2"]
    conv = rows(site_a, Conversation)[0]
    assert conv.pk == second["conversation_id"] and conv.phase == second["phase"]


def test_it_does_not_store_messages_of_an_objected_visitor(chat_sites):
    server, site_a, _ = chat_sites
    vid = uuid.uuid4()
    with tenant_context(site_a):
        seen = Visitor.objects.create(id=vid, objected=True).last_seen

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(str(vid))
            return await c.ask("How much does the Pro plan cost?", "m1")

    answer, _ = run(scenario())
    assert answer["type"] == "answer" and "99 euros" in answer["text"]
    assert answer["message_id"] is None
    assert rows(site_a, Message) == [] and rows(site_a, Conversation) == []
    assert rows(site_a, Visitor)[0].last_seen == seen  # not even a new "last seen"


@pytest.mark.parametrize(
    "origin",
    [
        None,
        "null",
        "http://localhost.evil.com:{port}",
        "http://evil.com",
        "https://localhost:{port}",
        "http://localhost:{other}",
        "https://www.site-a.test.evil.com",
        "http://www.site-a.test",
        "https://www.site-a.test:8443",
    ],
)
def test_it_rejects_handshakes_from_other_origins(chat_sites, site_a_origins, origin):
    server, site_a, _ = chat_sites
    site_a_origins(["https://www.site-a.test"])
    if origin:
        origin = origin.format(port=server.port, other=server.port + 1)

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id, origin=origin):
            pass

    with pytest.raises(InvalidStatus) as err:
        run(scenario())
    assert err.value.response.status_code == 403


def test_it_accepts_cloop_and_the_sites_allowed_origins_only(chat_sites, site_a_origins):
    server, site_a, _ = chat_sites
    site_a_origins(["https://www.site-a.test"])

    async def scenario(site_id, origin):
        async with ChatClient.connect(server, site_id, origin=origin) as c:
            return (await c.hello())["type"]

    assert run(scenario("site-a", "cloop")) == "ready"
    assert run(scenario("site-a", "https://www.site-a.test")) == "ready"
    assert run(scenario("site-a", "https://WWW.site-a.test:443")) == "ready"
    # Site A's origin is not allowed on site B, and unknown sites do not exist.
    for site_id in ("site-b", "no-such-site"):
        with pytest.raises(InvalidStatus):
            run(scenario(site_id, "https://www.site-a.test"))


def test_it_reports_bad_frames_and_stays_usable(chat_sites):
    server, site_a, _ = chat_sites

    async def scenario():
        got = []
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.send(type="message", text="hi", client_message_id="x")
            got.append(await c.recv())
            await c.ws.send("not json")
            got.append(await c.recv())
            await c.ws.send("[1, 2]")
            got.append(await c.recv())
            await c.send(type="dance")
            got.append(await c.recv())
            await c.send(type="hello", visitor_id="not-a-uuid")
            got.append(await c.recv())
            await c.hello(str(uuid.uuid4()))
            await c.send(type="message", text="   ", client_message_id="x")
            got.append(await c.recv())
            await c.send(type="message", text="a" * 4001, client_message_id="x")
            got.append(await c.recv())
            await c.send(type="message", text="hello", client_message_id="x" * 65)
            got.append(await c.recv())
            await c.ws.send(b"\x00\x01")
            got.append(await c.recv())
            answer, _ = await c.ask("How much does the Pro plan cost?", "ok")
            return got, answer

    got, answer = run(scenario())
    assert [g["code"] for g in got] == [
        "hello_required",
        "bad_json",
        "bad_frame",
        "unknown_type",
        "bad_visitor_id",
        "invalid_message",
        "message_too_long",
        "invalid_message",
        "bad_frame",
    ]
    assert all(g["type"] == "error" and g["message"] for g in got)
    assert answer["type"] == "answer"
    assert len(rows(site_a, Message, role="visitor")) == 1


def test_it_closes_on_a_frame_over_8_kib(chat_sites):
    server, site_a, _ = chat_sites

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(str(uuid.uuid4()))
            await c.send(type="message", text="a" * 3000, pad="b" * 6000)
            with pytest.raises(ConnectionClosed) as closed:
                await c.recv()
            return closed.value.rcvd.code

    assert run(scenario()) == 1009
    assert rows(site_a, Message) == []


def test_it_closes_an_idle_socket(chat_sites, settings):
    server, site_a, _ = chat_sites
    settings.CLOOP_WS_IDLE_SECONDS = 0.5

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(str(uuid.uuid4()))
            with pytest.raises(ConnectionClosed) as closed:
                await c.recv(timeout=30)  # the deadline only: the close comes at 0.5 s idle
            return closed.value.rcvd.code

    assert run(scenario()) == 4000
