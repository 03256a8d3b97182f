"""PostgreSQL going down under a running ASGI server, for real: a child uvicorn behind a relay
to the test database that the test stops and starts (tests/outage.py)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from django_tenants.utils import tenant_context
from websockets.exceptions import ConnectionClosed, InvalidStatus

from conversations.models import Message
from tests.conversations.wsclient import ChatClient


def test_it_refuses_the_handshake_with_1013_while_the_database_is_down(outage):
    server, relay, site_a = outage
    relay.stop()

    async def scenario():
        # The refusal comes once the pool gives up waiting (CLOOP_DB_POOL_TIMEOUT): allow a
        # slow machine far more than that for the handshake.
        async with ChatClient.connect(server, site_a.site_id, open_timeout=120) as c:
            with pytest.raises(ConnectionClosed) as closed:
                await c.recv()
            return closed.value.rcvd.code

    assert asyncio.run(scenario()) == 1013
    log = server.output()
    assert "database unavailable" in log
    assert "Traceback" not in log


def test_it_says_a_message_was_not_saved_when_the_database_goes_down(outage):
    server, relay, site_a = outage
    vid = str(uuid.uuid4())

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(vid)
            relay.stop()  # the database goes down under an open chat
            await c.send(type="message", text="How much is the Pro plan?", client_message_id="m1")
            failed = await c.recv()
            with pytest.raises(ConnectionClosed) as closed:
                await c.recv()
        relay.start()  # back: the same message, resent, is stored and answered
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(vid)
            answer, _ = await c.ask("How much is the Pro plan?", "m1")
        return failed, closed.value.rcvd.code, answer

    failed, code, answer = asyncio.run(scenario())
    assert failed["type"] == "error" and failed["code"] == "unavailable"
    assert failed["client_message_id"] == "m1" and failed["retryable"] is True
    assert "not saved" in failed["message"] and "was kept" not in failed["message"]
    assert code == 1013
    assert answer["type"] == "answer"
    with tenant_context(site_a):
        assert list(Message.objects.filter(role="visitor").values_list("text", flat=True)) == [
            "How much is the Pro plan?"
        ]
    assert "Traceback" not in server.output()


def test_it_logs_a_refused_handshake_in_one_line(outage):
    server, relay, site_a = outage

    async def scenario():
        async with ChatClient.connect(server, "no-such-site"):
            pass

    with pytest.raises(InvalidStatus) as err:
        asyncio.run(scenario())
    assert err.value.response.status_code == 403
    log = server.output()
    assert "Traceback" not in log
    refused = [line for line in log.splitlines() if "handshake refused" in line]
    assert len(refused) == 1
    assert refused[0].endswith("chat handshake refused for site no-such-site: unknown site")
