"""Abuse limits of the chat socket: rate, one answer at a time, daily quota, flood."""

import asyncio
import json
import uuid

import pytest
from django_tenants.utils import tenant_context

from conversations.models import Message, SiteSettings
from tests.conversations.conftest import *  # noqa: F403 - the openai_server fixture
from tests.conversations.pages import PAGES_A, index_pages
from tests.conversations.wsclient import ChatClient
from widget.chat_data import settings_cache_clear
from widget.tenancy import site_cache_clear

Q = "How much does the Pro plan cost?"


def run(coro):
    return asyncio.run(coro)


@pytest.fixture(autouse=True)
def clock(limits_clock):
    """Every limit here on a clock only the test moves: a slow machine expires no window."""
    return limits_clock


@pytest.fixture
def chat_site(live_server, site_a):
    index_pages(site_a, PAGES_A)
    site_cache_clear()
    settings_cache_clear()
    return live_server, site_a


def visitor_messages(site):
    with tenant_context(site):
        return Message.objects.filter(role="visitor").count()


def test_it_limits_a_connection_to_20_messages_a_minute(chat_site):
    server, site_a = chat_site

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(str(uuid.uuid4()))
            answers = [(await c.ask(Q, f"m{i}"))[0] for i in range(20)]
            limited, _ = await c.ask(Q, "m21")
            return answers, limited

    answers, limited = run(scenario())
    assert all(a["type"] == "answer" for a in answers), answers
    assert limited["type"] == "error" and limited["code"] == "rate_limited"
    assert limited["client_message_id"] == "m21" and 0 < limited["retry_after"] <= 61
    assert visitor_messages(site_a) == 20


def test_it_limits_a_visitor_across_connections(chat_site, clock):
    server, site_a = chat_site
    vid = str(uuid.uuid4())

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(vid)
            for i in range(20):
                await c.ask(Q, f"m{i}")
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(vid)
            limited, _ = await c.ask(Q, "other-tab")
            clock.now += 60  # the next minute: the visitor may ask again
            next_minute, _ = await c.ask(Q, "other-tab-later")
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(str(uuid.uuid4()))
            someone_else, _ = await c.ask(Q, "x")
        return limited, next_minute, someone_else

    limited, next_minute, someone_else = run(scenario())
    assert limited["code"] == "rate_limited"
    assert next_minute["type"] == "answer"
    assert someone_else["type"] == "answer"


def test_it_streams_one_answer_at_a_time_per_connection(chat_site, openai_server):
    server, site_a = chat_site
    openai_server.token_delay = 0.05

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(str(uuid.uuid4()))
            await c.send(type="message", text=Q, client_message_id="first")
            await c.send(type="message", text=Q, client_message_id="second")
            frames = []
            while True:
                frame = await c.recv()
                frames.append(frame)
                if frame["type"] == "answer":
                    return frames

    frames = run(scenario())
    busy = [f for f in frames if f["type"] == "error"]
    assert [(f["code"], f["client_message_id"]) for f in busy] == [("busy", "second")]
    assert frames[-1]["client_message_id"] == "first"
    assert len(openai_server.requests) == 1
    assert visitor_messages(site_a) == 1


def test_it_stops_at_the_sites_daily_quota(chat_site):
    server, site_a = chat_site
    with tenant_context(site_a):
        SiteSettings.objects.update_or_create(pk=1, defaults={"daily_message_quota": 2})

    async def scenario():
        results = []
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(str(uuid.uuid4()))
            for i in range(2):
                results.append((await c.ask(Q, f"m{i}"))[0])
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(str(uuid.uuid4()))
            results.append((await c.ask(Q, "m3"))[0])
        return results

    results = run(scenario())
    assert [r["type"] for r in results] == ["answer", "answer", "error"]
    assert results[2]["code"] == "quota_exceeded"
    assert visitor_messages(site_a) == 2


def test_it_never_lets_a_flood_reach_the_model(chat_site, openai_server):
    server, site_a = chat_site
    openai_server.token_delay = 0.01

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(str(uuid.uuid4()))
            for i in range(1000):
                await c.ws.send(
                    json.dumps({"type": "message", "text": Q, "client_message_id": f"f{i}"})
                )
            codes = {}
            answers = 0
            # Every message gets exactly one last frame (an error or its answer): wait for all.
            while sum(codes.values()) + answers < 1000:
                frame = await c.recv(timeout=60)
                if frame["type"] == "error":
                    codes[frame["code"]] = codes.get(frame["code"], 0) + 1
                elif frame["type"] == "answer":
                    answers += 1
            return codes, answers

    codes, answers = run(scenario())
    assert answers <= 20
    assert len(openai_server.requests) == answers <= 20
    assert visitor_messages(site_a) == answers
    assert answers >= 1


def test_it_limits_hello_frames_per_connection(chat_site):
    server, site_a = chat_site

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            for _ in range(10):
                await c.hello(str(uuid.uuid4()))
            await c.send(type="hello", visitor_id=str(uuid.uuid4()))
            limited = await c.recv()
            answer, _ = await c.ask(Q, "m1")  # the last accepted hello still holds
            return limited, answer

    limited, answer = run(scenario())
    assert limited["type"] == "error" and limited["code"] == "rate_limited"
    assert answer["type"] == "answer"
