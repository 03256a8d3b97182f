"""The production shape in small: 2 ASGI processes behind HAProxy and a Celery worker.

The web processes are real `uvicorn` children on the test database (as in
test_connections.py); HAProxy balances them (round robin, /healthz checks, WebSocket
tunnels); the worker is the suite's in-process one. The scenario (bench/cluster_lib.py, shared
with bench/cluster.py): a visitor's web process is SIGKILLed while it streams an answer; the
visitor reconnects through the balancer to the other process and resends the message.
"""

from __future__ import annotations

import asyncio
import json
import threading
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection
from websockets.asyncio.client import connect

from bench.cluster_lib import Cluster, stored_messages, visitor_resume_across_kill
from tests.conversations.conftest import openai_server, smtp_server  # noqa: F401 - fixtures
from tests.conversations.pages import PAGES_A, index_pages

ORIGIN = "http://cloop.test"
QUESTIONS = ("How much does the Pro plan cost?", "Is support included in every plan?")


def _database_url() -> str:
    from django.conf import settings

    url = urlsplit(settings.DATABASE_URL)
    return urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))


@pytest.fixture
def cluster(live_db, site_a, tmp_path, openai_server):  # noqa: F811 - the imported fixture
    from django.conf import settings

    index_pages(site_a, PAGES_A)
    env = {
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CLOOP_PUBLIC_URL": ORIGIN,
        # Development settings, as the test session's: plain-HTTP pages and the dev key.
        "DEBUG": "1",
        "CLOOP_LLM_MODEL": "openai/gpt-4o-mini",
        "OPENAI_API_BASE": openai_server.base_url,
        "OPENAI_API_KEY": "sk-test-loopback",
    }
    cluster = Cluster(tmp_path, env)
    try:
        cluster.web_start("web1")
        cluster.web_start("web2")
        cluster.wait_web_healthy(["web1", "web2"])
        cluster.balancer_start(["web1", "web2"])
        cluster.wait_balanced(["web1", "web2"])
        yield cluster
    finally:
        cluster.stop()
        if openai_server.hold is not None:
            openai_server.hold.set()  # a handler still held by the killed process's request


async def _summary(cluster, site_id: str, visitor_id: str, email: str) -> dict:
    url = cluster.url.replace("http://", "ws://") + f"/ws/chat/{site_id}/"
    async with connect(url, origin=ORIGIN, proxy=None) as ws:
        await ws.send(json.dumps({"type": "hello", "visitor_id": visitor_id}))
        while json.loads(await ws.recv())["type"] != "ready":
            pass
        await ws.send(json.dumps({"type": "summary", "email": email}))
        return json.loads(await asyncio.wait_for(ws.recv(), 30))


def test_it_resumes_a_visitor_on_the_other_process_when_theirs_is_killed(
    cluster,
    site_a,
    openai_server,  # noqa: F811
    smtp_server,  # noqa: F811
    celery_worker_live,
):
    def hold_second_answer():
        openai_server.hold = threading.Event()

    def let_model_go_on():
        held, openai_server.hold = openai_server.hold, None
        held.set()

    result = asyncio.run(
        visitor_resume_across_kill(
            cluster,
            site_a.site_id,
            ORIGIN,
            QUESTIONS,
            before_second=hold_second_answer,
            after_kill=let_model_go_on,
        )
    )

    # The stream was cut after its first piece; the visitor reconnected to the other process.
    assert [f["type"] for f in result.frames_before_kill] == ["delta"]
    assert {result.killed_backend, result.resumed_backend} == {"web1", "web2"}
    assert cluster.procs["web1" if result.resumed_backend == "web2" else "web2"].alive() is False
    # Same visitor, same conversation; the history has the unanswered question.
    ready = result.ready_after
    assert ready["visitor_id"] == result.visitor_id
    assert ready["conversation_id"] == result.first_answer["conversation_id"]
    assert result.history_roles == [("visitor", "m1"), ("assistant", None), ("visitor", "m2")]
    # The resend is answered now (not `in_progress` until the dead process's claim expires),
    # by a fresh answer, not a stored one.
    answer = result.resent_answer
    assert answer["type"] == "answer", answer
    assert answer["client_message_id"] == "m2" and not answer.get("duplicate")
    assert answer["conversation_id"] == result.first_answer["conversation_id"]
    # Stored once each: two questions, two answers, nothing failed or doubled.
    assert stored_messages(site_a, result.visitor_id) == [
        ("visitor", "m1", ""),
        ("assistant", "m1", ""),
        ("visitor", "m2", ""),
        ("assistant", "m2", ""),
    ]
    assert len(openai_server.requests) == 3  # m1, m2 cut off, m2 again

    # A worker e-mails the whole conversation: both questions, both answers.
    sent = asyncio.run(_summary(cluster, site_a.site_id, result.visitor_id, "v@example.test"))
    assert sent["type"] == "summary_sent", sent
    (_, mail), *_ = smtp_server.wait(1)
    body = mail.get_body(preferencelist=("plain",)).get_content()
    for question in QUESTIONS:
        assert body.count(question) == 1, body
