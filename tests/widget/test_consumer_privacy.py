"""No client address is stored anywhere; summary e-mails go through a worker over SMTP."""

import asyncio
import contextlib
import uuid

import redis
from django.conf import settings
from django.db import connection

from conversations.models import Lead
from tests.conversations.conftest import *  # noqa: F403 - the smtp_server fixture
from tests.conversations.pages import PAGES_A, index_pages
from tests.conversations.wsclient import ChatClient
from widget.chat_data import settings_cache_clear
from widget.tenancy import site_cache_clear

CLIENT_IP = "127.0.0.1"  # the test client's address as the server sees it


def run(coro):
    return asyncio.run(coro)


def tables_containing(schema: str, needle: str) -> list[str]:
    """Every (table.column) of `schema` with a text-like value containing `needle`."""
    found = []
    with connection.cursor() as cur:
        cur.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND data_type IN "
            "('text', 'character varying', 'character', 'json', 'jsonb', 'inet', 'cidr')",
            [schema],
        )
        for table, column in cur.fetchall():
            cur.execute(
                f'SELECT count(*) FROM "{schema}"."{table}" WHERE "{column}"::text LIKE %s',  # noqa: S608
                [f"%{needle}%"],
            )
            if cur.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


def test_it_stores_no_client_ip_anywhere_after_a_chat(live_server, site_a, site_b):
    index_pages(site_a, PAGES_A)
    site_cache_clear()
    settings_cache_clear()
    vid = str(uuid.uuid4())

    async def scenario():
        async with ChatClient.connect(live_server, site_a.site_id) as c:
            await c.hello(vid, page_url="http://site-a.test/pricing")
            await c.ask("How much does the Pro plan cost?", "m1")
            await c.ask("Can someone contact me about a quote?", "m2")
            await c.send(type="email", email="anna@example.fi", marketing_consent=True)
            await c.until("email_saved")
            await c.ask("What is the capital of France?", "m3")
        async with ChatClient.connect(live_server, site_a.site_id) as c:
            await c.hello(vid)

    run(scenario())
    with connection.cursor() as cur:
        cur.execute(f'SELECT count(*) FROM "{site_a.schema_name}".conversations_message')  # noqa: S608
        assert cur.fetchone()[0] == 6  # the chat was stored...
    # ...but no column of any table of the site's schema, or of public, holds the address.
    assert tables_containing(site_a.schema_name, CLIENT_IP) == []
    assert tables_containing("public", CLIENT_IP) == []
    # Nor any Redis key or string value (rate-limit and quota keys included).
    r = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(r.scan_iter(count=1000))
    assert any(b"cloop:rl:visitor" in k for k in keys)  # the limiter did write its keys
    for key in keys:
        assert CLIENT_IP.encode() not in key
        if r.type(key) == b"string":
            assert CLIENT_IP.encode() not in (r.get(key) or b"")


def test_it_sends_a_summary_email_when_asked(live_server, site_a, celery_tasks, smtp_server):
    index_pages(site_a, PAGES_A)
    site_cache_clear()
    settings_cache_clear()

    async def scenario():
        async with ChatClient.connect(live_server, site_a.site_id) as c:
            await c.hello(str(uuid.uuid4()))
            await c.send(type="summary")
            too_early, _ = await c.until("summary_sent")
            answer, _ = await c.ask("How much does the Pro plan cost?", "m1")
            await c.send(type="summary")
            no_email, _ = await c.until("summary_sent")
            await c.send(type="summary", email="bad@")
            bad, _ = await c.until("summary_sent")
            await c.send(type="summary", email="anna@example.fi")
            sent, _ = await c.until("summary_sent")
            more = []
            for _ in range(3):  # a mail cannon is stopped after 3 summaries per 10 minutes
                await c.send(type="summary", email="ben@example.fi")
                more.append((await c.until("summary_sent"))[0])
            return too_early, answer, no_email, bad, sent, more

    too_early, answer, no_email, bad, sent, more = run(scenario())
    assert too_early["code"] == "no_conversation"
    assert no_email["code"] == "email_required"
    assert bad["code"] == "invalid_email"
    assert sent == {"type": "summary_sent", "email": "anna@example.fi"}
    assert [m["type"] for m in more] == ["summary_sent", "summary_sent", "error"]
    assert more[2]["code"] == "rate_limited" and more[2]["retry_after"] > 0
    # Every task the chat published has run: 3 summaries, and a notice for each new lead.
    assert len(celery_tasks.idle()) == 5
    messages = smtp_server.messages
    assert len(messages) == 3
    rcpt, msg = next(m for m in messages if m[0] == ["anna@example.fi"])
    body = msg.get_body(preferencelist=("plain",)).get_content()
    assert "How much does the Pro plan cost?" in body
    assert answer["text"] in body
    from django_tenants.utils import tenant_context

    with tenant_context(site_a):
        leads = {lead.email: lead for lead in Lead.objects.all()}
    assert set(leads) == {"anna@example.fi", "ben@example.fi"}
    assert (leads["anna@example.fi"].source, leads["anna@example.fi"].marketing_consent) == (
        "summary",
        False,
    )


def test_it_logs_no_client_ip_under_the_production_logging_setup(live_server, site_a, settings):
    import logging
    import logging.config

    import uvicorn.config

    index_pages(site_a, PAGES_A)
    site_cache_clear()
    settings_cache_clear()
    # What `uvicorn cloop.asgi:application` sets up (log level info), then what
    # django.setup() applies on top when the application is imported.
    logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)
    logging.config.dictConfig(settings.LOGGING)
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(f"{record.name} {record.levelname} {record.getMessage()}")

    keep = Keep(level=logging.DEBUG)
    watched = [logging.getLogger(n) for n in ("", "uvicorn", "uvicorn.error", "uvicorn.access")]
    for logger in watched:
        logger.addHandler(keep)
    try:

        async def scenario():
            async with ChatClient.connect(live_server, site_a.site_id) as c:
                await c.hello(str(uuid.uuid4()))
                await c.ask("How much does the Pro plan cost?", "m1")
                await c.send(type="nonsense")
                await c.recv()
            with contextlib.suppress(Exception):
                async with ChatClient.connect(
                    live_server, site_a.site_id, origin="http://evil.com"
                ):
                    pass

        run(scenario())
        logging.getLogger("widget.consumers").warning("probe: the handler sees app records")
    finally:
        for logger in watched:
            logger.removeHandler(keep)
        logging.config.dictConfig(settings.LOGGING)
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            logging.getLogger(name).setLevel(logging.WARNING)
    assert any("probe" in line for line in lines)
    assert [line for line in lines if CLIENT_IP in line] == []


def test_it_stores_no_client_address_given_in_the_asgi_scope(live_db, site_a, settings):
    """The whole ASGI application, driven with a distinctive client address in its scope."""
    import json

    from asgiref.testing import ApplicationCommunicator

    from cloop.asgi import application

    distinctive = "203.0.113.77"
    settings.CLOOP_PUBLIC_URL = "http://cloop.test"
    index_pages(site_a, PAGES_A)
    site_cache_clear()
    settings_cache_clear()
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": f"/ws/chat/{site_a.site_id}/",
        "raw_path": f"/ws/chat/{site_a.site_id}/".encode(),
        "query_string": b"",
        "headers": [(b"host", b"cloop.test"), (b"origin", b"http://cloop.test")],
        "subprotocols": [],
        "client": (distinctive, 40404),
        "server": ("127.0.0.1", 8000),
    }

    async def scenario():
        comm = ApplicationCommunicator(application, scope)
        await comm.send_input({"type": "websocket.connect"})
        assert (await comm.receive_output(10))["type"] == "websocket.accept"
        frames = []
        for frame in (
            {"type": "hello", "visitor_id": str(uuid.uuid4()), "page_url": "http://site-a.test/"},
            {
                "type": "message",
                "text": "How much does the Pro plan cost?",
                "client_message_id": "m1",
            },
            {"type": "email", "email": "anna@example.fi", "marketing_consent": True},
        ):
            await comm.send_input({"type": "websocket.receive", "text": json.dumps(frame)})
            while True:
                got = json.loads((await comm.receive_output(20))["text"])
                frames.append(got)
                if got["type"] in ("ready", "answer", "email_saved", "error"):
                    break
        await comm.send_input({"type": "websocket.disconnect", "code": 1000})
        await comm.wait(5)
        return [f["type"] for f in frames]

    types = run(scenario())
    assert types[0] == "ready" and types[-2:] == ["answer", "email_saved"]
    assert tables_containing(site_a.schema_name, "anna@example.fi")  # the scan does find data
    assert tables_containing(site_a.schema_name, distinctive) == []
    assert tables_containing("public", distinctive) == []
    r = redis.Redis.from_url(settings.REDIS_URL)
    for key in r.scan_iter(count=1000):
        assert distinctive.encode() not in key
        if r.type(key) == b"string":
            assert distinctive.encode() not in (r.get(key) or b"")
