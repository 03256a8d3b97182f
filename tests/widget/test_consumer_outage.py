"""PostgreSQL going down under a running ASGI server, for real.

The server is uvicorn in a child process whose DATABASE_URL points at a TCP relay to the test
database; stopping the relay drops every connection and refuses new ones, as a database
that went down does. Starting it again is the database coming back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django_tenants.utils import tenant_context
from websockets.exceptions import ConnectionClosed, InvalidStatus

from conversations.models import Message
from tests.conftest import free_port
from tests.conversations.wsclient import ChatClient

ROOT = Path(__file__).resolve().parents[2]


class DatabaseRelay:
    """TCP on 127.0.0.1 → the test PostgreSQL (unix socket or TCP); `stop()` is the outage."""

    def __init__(self, host: str, port: int):
        self.host, self.upstream_port = host, port
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.server = None
        self.writers: set[asyncio.StreamWriter] = set()
        threading.Thread(target=self.loop.run_forever, daemon=True, name="db-relay").start()

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    async def _pipe(self, reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _client(self, reader, writer):
        if self.host.startswith("/"):
            path = f"{self.host}/.s.PGSQL.{self.upstream_port}"
            up_reader, up_writer = await asyncio.open_unix_connection(path)
        else:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.upstream_port)
        self.writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _start(self):
        self.server = await asyncio.start_server(self._client, "127.0.0.1", self.port)

    async def _stop(self):
        self.server.close()
        for w in self.writers:
            w.transport.abort()
        self.writers.clear()
        await self.server.wait_closed()

    def start(self):
        self._call(self._start())

    def stop(self):
        self._call(self._stop())

    def close(self):
        if self.server is not None and self.server.is_serving():
            self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)


class ChildServer:
    """uvicorn running cloop.asgi in a child process; its log is kept for assertions."""

    def __init__(self, database_url: str, log_dir: Path):
        self.port = free_port()
        self.log_path = log_dir / "server.log"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": django_settings.REDIS_URL,
            # As deployed (DEBUG off), with the session's development key (CLOOP_DEV).
            "DEBUG": "0",
            "CLOOP_DEV": "1",
            # Plain HTTP on loopback, no TLS proxy in front: no redirect to https.
            "SECURE_SSL_REDIRECT": "0",
            "CLOOP_PUBLIC_URL": f"http://localhost:{self.port}",
            "PYTHONUNBUFFERED": "1",
            # With the database down, a request waits this long for a pooled connection
            # before failing (production default 10 s): keeps the outage tests short.
            "CLOOP_DB_POOL_TIMEOUT": "2",
        }
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "uvicorn",
                "cloop.asgi:application",
                "--host=127.0.0.1",
                f"--port={self.port}",
                "--lifespan=off",
                "--ws=websockets-sansio",
                "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_started(self):
        # Generous: importing Django, Channels and litellm on a busy 2-core machine is slow.
        deadline = time.monotonic() + 300
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return self
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("the child ASGI server did not start:\n" + self.output())
            time.sleep(0.1)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(15)
        self.log.close()


@pytest.fixture
def outage(live_db, site_a, tmp_path):
    conf = connection.settings_dict
    host = conf["HOST"] or conf["OPTIONS"].get("host") or "localhost"
    relay = DatabaseRelay(host, int(conf["PORT"] or 5432))
    relay.start()
    user = conf["USER"] or "postgres"
    password = f":{conf['PASSWORD']}" if conf["PASSWORD"] else ""
    url = f"postgres://{user}{password}@127.0.0.1:{relay.port}/{conf['NAME']}"
    server = ChildServer(url, tmp_path)
    try:
        server.wait_started()
        yield server, relay, site_a
    finally:
        server.stop()
        relay.close()


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
