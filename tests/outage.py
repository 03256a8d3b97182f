"""PostgreSQL going down under a running ASGI server, for real (tests/widget/test_consumer_outage.py,
tests/e2e/test_outage.py).

The server is uvicorn in a child process whose DATABASE_URL points at a TCP relay to the test
database; stopping the relay drops every connection and refuses new ones, as a database
that went down does. Starting it again is the database coming back.

One child server serves every test of a module (`outage_server`): starting it (Django,
Channels, litellm) takes seconds, longer than the tests it serves. Each test (`outage`) gets
it with the database up and sees only its own part of the server's log.
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
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]


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
        self.log_start = 0
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
        """The log since `log_mark()` (the current test's part)."""
        with self.log_path.open("rb") as fh:
            fh.seek(self.log_start)
            return fh.read().decode(errors="replace")

    def log_mark(self) -> None:
        self.log_start = self.log_path.stat().st_size

    def stop(self):
        self.proc.terminate()
        self.proc.wait(15)
        self.log.close()


@pytest.fixture(scope="module")
def outage_server(django_db_setup, tmp_path_factory):
    """The relay to the test database and the child server behind it, for a whole module."""
    conf = connection.settings_dict
    host = conf["HOST"] or conf["OPTIONS"].get("host") or "localhost"
    relay = DatabaseRelay(host, int(conf["PORT"] or 5432))
    relay.start()
    user = conf["USER"] or "postgres"
    password = f":{conf['PASSWORD']}" if conf["PASSWORD"] else ""
    url = f"postgres://{user}{password}@127.0.0.1:{relay.port}/{conf['NAME']}"
    server = ChildServer(url, tmp_path_factory.mktemp("outage"))
    try:
        server.wait_started()
        yield server, relay
    finally:
        server.stop()
        relay.close()


@pytest.fixture
def outage(outage_server, live_db, site_a):
    """The module's child server with its database up (a test before may have left it down),
    its log from this test on."""
    server, relay = outage_server
    if not relay.server.is_serving():
        relay.start()
    server.log_mark()
    return server, relay, site_a
