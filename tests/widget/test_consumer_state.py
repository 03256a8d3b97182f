"""The chat's stored state under concurrency: many sockets of one visitor, forget mid-answer."""

import asyncio
import json
import threading
import time
import uuid

import pytest
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from conversations.models import Conversation, Message, Visitor
from tests.conversations.conftest import *  # noqa: F403 - the openai_server fixture
from tests.conversations.pages import PAGES_A, index_pages
from tests.conversations.wsclient import ChatClient
from widget.chat_data import settings_cache_clear
from widget.tenancy import site_cache_clear

Q = "How much does the Pro plan cost?"
SOCKETS = 20


@pytest.fixture
def chat_site(live_server, site_a, limits_clock):
    index_pages(site_a, PAGES_A)
    site_cache_clear()
    settings_cache_clear()
    return live_server, site_a


def stored(site):
    with tenant_context(site):
        return {
            "visitors": Visitor.objects.count(),
            "conversations": Conversation.objects.count(),
            "questions": Message.objects.filter(role="visitor").count(),
            "answers": Message.objects.filter(role="assistant", error="").count(),
        }


async def same_message_on_many_sockets(server, site, vid: str, cmid: str):
    """Open SOCKETS sockets for one visitor, then send one message on all of them at once."""
    clients = []
    try:
        for _ in range(SOCKETS):
            c = await ChatClient.connect(server, site.site_id).__aenter__()
            clients.append(c)
        for c in clients:
            await c.hello(vid)
        frame = json.dumps({"type": "message", "text": Q, "client_message_id": cmid})
        await asyncio.gather(*(c.ws.send(frame) for c in clients))
        finals = await asyncio.gather(*(c.until("answer", timeout=60) for c in clients))
        return [final for final, _ in finals]
    finally:
        for c in clients:
            await c.ws.close()


def check_one_answer(finals):
    answers = [f for f in finals if f["type"] == "answer"]
    others = [f for f in finals if f["type"] != "answer"]
    assert answers, finals
    # Every socket that got an answer got the same, stored one.
    assert len({a["message_id"] for a in answers}) == 1
    assert len({a["text"] for a in answers}) == 1
    # The rest were told, truthfully, that another window is answering it.
    assert all(f["code"] == "in_progress" and f["retryable"] for f in others), others
    return answers


def test_it_stores_one_question_and_answer_for_a_first_message_sent_on_20_sockets(chat_site):
    server, site_a = chat_site
    vid = str(uuid.uuid4())  # never seen: no visitor row, no conversation yet

    finals = asyncio.run(same_message_on_many_sockets(server, site_a, vid, "m1"))

    check_one_answer(finals)
    assert stored(site_a) == {"visitors": 1, "conversations": 1, "questions": 1, "answers": 1}


def test_it_stores_one_answer_for_a_later_message_sent_on_20_sockets(chat_site, limits_clock):
    server, site_a = chat_site
    vid = str(uuid.uuid4())

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(vid)
            first, _ = await c.ask(Q, "m1")
        limits_clock.now += 60  # a new minute: the visitor's message budget is whole again
        return first, await same_message_on_many_sockets(server, site_a, vid, "m2")

    first, finals = asyncio.run(scenario())

    answers = check_one_answer(finals)
    assert all(a["conversation_id"] == first["conversation_id"] for a in answers)
    assert stored(site_a) == {"visitors": 1, "conversations": 1, "questions": 2, "answers": 2}


# --- forget while the answer is being stored ----------------------------------------------


class RowLock(threading.Thread):
    """Holds a conversation row FOR UPDATE in its own transaction until `release` is set."""

    def __init__(self, site, conversation_id: int):
        super().__init__(daemon=True)
        self.site, self.conversation_id = site, conversation_id
        self.locked, self.release = threading.Event(), threading.Event()

    def run(self):
        try:
            with tenant_context(self.site), transaction.atomic():
                list(Conversation.objects.select_for_update().filter(pk=self.conversation_id))
                self.locked.set()
                self.release.wait(60)
        finally:
            connection.close()


def lock_waiters_reach(count: int, timeout: float = 30) -> None:
    """Wait until `count` sessions of this test database are blocked on a lock (an event, not
    a delay). Sessions of other databases on the server (another test worker's) never count."""
    deadline = time.monotonic() + timeout
    while True:
        with connection.cursor() as cur:
            # A row lock is waited for on the holder's transaction id, whose pg_locks row names
            # no database: the waiter's session (pg_stat_activity) does.
            cur.execute(
                "SELECT count(DISTINCT l.pid) FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE NOT l.granted AND a.datname = current_database()"
            )
            if cur.fetchone()[0] >= count:
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"fewer than {count} sessions ever waited on a lock")
        time.sleep(0.02)


def test_it_forgets_an_answer_that_was_being_stored(chat_site, openai_server):
    server, site_a = chat_site
    openai_server.hold = threading.Event()
    vid = str(uuid.uuid4())
    loop = asyncio.new_event_loop()
    client_cm = ChatClient.connect(server, site_a.site_id)
    try:
        c = loop.run_until_complete(client_cm.__aenter__())

        async def start():
            await c.hello(vid)
            await c.send(type="message", text=Q, client_message_id="m1")
            return await c.until("delta")  # the question is stored, the model is streaming

        loop.run_until_complete(start())
        with tenant_context(site_a):
            conv_id = Conversation.objects.get(visitor_id=vid).pk
        lock = RowLock(site_a, conv_id)
        lock.start()
        assert lock.locked.wait(10)
        openai_server.hold.set()  # the answer completes; storing it waits on the row lock
        lock_waiters_reach(1)
        loop.run_until_complete(c.send(type="forget"))
        lock_waiters_reach(2)  # the erasure waits on the same row
        lock.release.set()
        lock.join(10)
        forgotten, _ = loop.run_until_complete(c.until("forgotten"))
        loop.run_until_complete(c.send(type="ping"))
        pong, _ = loop.run_until_complete(c.until("pong"))
    finally:
        loop.run_until_complete(client_cm.__aexit__(None, None, None))
        loop.close()

    assert forgotten["type"] == "forgotten", forgotten
    assert forgotten["counts"]["conversations"] == 1
    assert pong["type"] == "pong"
    assert stored(site_a) == {"visitors": 0, "conversations": 0, "questions": 0, "answers": 0}
    with tenant_context(site_a):
        assert not Message.objects.exists()  # nor a failed answer
