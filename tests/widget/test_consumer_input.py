"""Hostile text on the chat socket: NUL characters, unpaired surrogates, deep nesting."""

import asyncio
import logging
import uuid

import pytest
from django_tenants.utils import tenant_context

from conversations.models import Conversation, Lead, Message
from tests.conversations.wsclient import ChatClient
from tests.widget.test_consumer import chat_sites  # noqa: F401 - the fixture

NUL = "\\u0000"  # JSON escapes, sent as raw frame text
SURROGATE = "\\ud800"


def run(coro):
    return asyncio.run(coro)


def rows(site, model, **filters):
    with tenant_context(site):
        return list(model.objects.filter(**filters))


@pytest.mark.parametrize("bad", [NUL, SURROGATE, f"a{NUL}b", f"x{SURROGATE}y"])
def test_it_refuses_text_postgresql_cannot_store_with_a_clear_error(chat_sites, bad):  # noqa: F811
    server, site_a, _ = chat_sites
    vid = str(uuid.uuid4())

    async def scenario():
        got = []
        async with ChatClient.connect(server, site_a.site_id) as c:
            frames = [
                f'{{"type":"hello","visitor_id":"{vid}","page_url":"http://site-a.test/{bad}"}}',
                f'{{"type":"hello","visitor_id":"{vid}{bad}"}}',
                f'{{"type":"hello","visitor_id":"{vid}","language":"{bad}"}}',
            ]
            for raw in frames:
                await c.ws.send(raw)
                got.append(await c.recv())
            await c.hello(vid)
            frames = [
                f'{{"type":"message","text":"Pro plan {bad} price?","client_message_id":"m1"}}',
                f'{{"type":"message","text":"Pro plan price?","client_message_id":"m{bad}"}}',
                f'{{"type":"email","email":"anna{bad}@example.fi"}}',
                f'{{"type":"summary","email":"anna@example.fi{bad}"}}',
                f'{{"type":"message","text":"hi","x":[{{"{bad}":1}}],"client_message_id":"m3"}}',
            ]
            for raw in frames:
                await c.ws.send(raw)
                got.append(await c.recv())
            answer, _ = await c.ask("How much does the Pro plan cost?", "ok")
        return got, answer

    got, answer = run(scenario())
    assert [g["code"] for g in got] == ["invalid_text"] * 8
    assert all(g["type"] == "error" and "kept" not in g["message"] for g in got)
    assert "page_url" in got[0]["message"] and "text" in got[3]["message"]
    # The error names the message when its id is valid text, so the widget can match it.
    assert got[3]["client_message_id"] == "m1" and "client_message_id" not in got[4]
    # Nothing of the refused frames was stored; the socket stays usable.
    assert answer["type"] == "answer"
    assert [m.client_message_id for m in rows(site_a, Message, role="visitor")] == ["ok"]
    assert rows(site_a, Lead) == []
    assert rows(site_a, Conversation)[0].start_page_url == "http://site-a.test/"


def test_it_answers_deeply_nested_json_with_bad_json_and_stays_usable(chat_sites, caplog):  # noqa: F811
    server, site_a, _ = chat_sites
    nested = "[" * 1000 + "]" * 1000  # 2 KB
    in_object = '{"type":"message","text":' + nested + "}"

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            got = []
            for raw in (nested, in_object, "[" * 4000):
                await c.ws.send(raw)
                got.append(await c.recv())
            await c.hello(str(uuid.uuid4()))
            await c.send(type="ping")
            got.append(await c.recv())
            return got

    with caplog.at_level(logging.WARNING):
        got = run(scenario())
    assert [g.get("code", g["type"]) for g in got] == ["bad_json", "bad_json", "bad_json", "pong"]
    assert not [r for r in caplog.records if r.exc_info]
