"""The web process stays within its PostgreSQL connection budget under mixed traffic.

The ASGI server runs as a real `uvicorn` process against the test database, named by
CLOOP_PROCESS so its connections can be counted in pg_stat_activity, with a small pool
(CLOOP_DB_POOL_MAX). Traffic comes from loopback clients: /healthz, static files, the
customer admin (signed in), the REST API with tokens of two sites, and chat WebSockets.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token

from tests.conftest import free_port
from tests.conversations.admin_data import conversation_make, visitor_make
from tests.conversations.wsclient import ChatClient

ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1/conversations/"


def _database_url() -> str:
    """DATABASE_URL of the test database (the settings' server, the test database's name)."""
    from django.conf import settings

    url = urlsplit(settings.DATABASE_URL)
    return urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))


class WebProcess:
    """`uvicorn cloop.asgi:application` in a child process, as production runs it."""

    def __init__(self, tmp_path: Path, pool_max: int):
        from django.conf import settings

        self.port = free_port()
        self.name = f"cloop-web-test-{uuid.uuid4().hex[:8]}"
        self.pool_max = pool_max
        self.log = tmp_path / "web.log"
        env = dict(os.environ)
        env.update(
            DATABASE_URL=_database_url(),
            REDIS_URL=settings.REDIS_URL,
            CLOOP_PROCESS=self.name,
            CLOOP_DB_POOL_MAX=str(pool_max),
            # A request waits for a free connection rather than failing on a slow machine.
            CLOOP_DB_POOL_TIMEOUT="300",
            CLOOP_PUBLIC_URL=f"http://localhost:{self.port}",
            DEBUG="1",
        )
        command = [sys.executable, "-m", "uvicorn", "cloop.asgi:application"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"]
        command += ["--ws", "websockets-sansio", "--ws-per-message-deflate", "false"]
        self.proc = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=5) as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"uvicorn exited:\n{self.log.read_text()}")
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"uvicorn not healthy:\n{self.log.read_text()}")
                threading.Event().wait(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class ConnectionSampler:
    """Counts the web process's server connections in pg_stat_activity until stopped."""

    def __init__(self, application_name: str):
        self.name = application_name
        self.counts: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        with psycopg.connect(_database_url(), autocommit=True) as conn:
            while not self._stop.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                    [self.name],
                ).fetchone()
                self.counts.append(row[0])
                self._stop.wait(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)


@pytest.fixture
def web(live_db, tmp_path, request):
    process = WebProcess(tmp_path, pool_max=getattr(request, "param", 3))
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def _user_and_token(site, email: str) -> str:
    with tenant_context(site):
        user = get_user_model().objects.create_user(email, email, "pw-123456", is_staff=True)
        user.is_superuser = True
        user.save()
        return Token.objects.create(user=user).key


def _site_data(site_a, site_b):
    """Site A has two conversations, site B none; tokens and an admin login for both."""
    with tenant_context(site_a):
        v = visitor_make()
        for _ in range(2):
            conversation_make(v, messages=4)
    return _user_and_token(site_a, "owner@a.test"), _user_and_token(site_b, "owner@b.test")


def _site_client(web: WebProcess, site_id: str, **kwargs) -> httpx.AsyncClient:
    """A client for the site's own host (`<site_id>.localhost`), connecting to loopback."""
    return httpx.AsyncClient(
        base_url=web.url, headers={"Host": f"{site_id}.localhost:{web.port}"}, **kwargs
    )


async def _admin_login(client: httpx.AsyncClient, email: str) -> None:
    page = await client.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    done = await client.post(
        "/admin/login/?next=/admin/",
        data={"csrfmiddlewaretoken": token, "username": email, "password": "pw-123456"},
    )
    assert done.status_code == 302, done.text[:500]


async def _admin_pages(client: httpx.AsyncClient) -> list[str]:
    """Every list page linked from the admin index, and the first detail page of each."""
    index = await client.get("/admin/")
    lists = sorted(set(re.findall(r'href="(/admin/[a-z_]+/[a-z_]+/)"', index.text)))
    pages = list(lists)
    for url in lists:
        body = (await client.get(url)).text
        detail = re.search(rf'href="({re.escape(url)}\d+/change/)', body)
        if detail:
            pages.append(detail.group(1))
    return pages


def test_it_keeps_the_web_process_within_its_connection_budget(web, site_a, site_b):
    token_a, token_b = _site_data(site_a, site_b)
    statuses: list[int] = []
    ws_results: list[str] = []

    async def traffic():
        limits = httpx.Limits(max_connections=32)
        async with (
            httpx.AsyncClient(base_url=web.url, timeout=30, limits=limits) as anon,
            _site_client(web, "site-a", timeout=30, limits=limits) as admin,
            _site_client(web, "site-a", timeout=30, limits=limits) as api_a,
            _site_client(web, "site-b", timeout=30, limits=limits) as api_b,
        ):
            await _admin_login(admin, "owner@a.test")
            admin_pages = await _admin_pages(admin)
            assert len(admin_pages) >= 6, admin_pages
            requests = []
            for i in range(2000):
                kind = i % 5
                if kind == 0:
                    requests.append((anon, "/healthz", {}))
                elif kind == 1:
                    requests.append((anon, ("/static/admin/css/base.css", "/widget.js")[i % 2], {}))
                elif kind == 2:
                    requests.append((admin, admin_pages[i % len(admin_pages)], {}))
                elif i % 2:
                    requests.append((api_a, API, {"Authorization": f"Token {token_a}"}))
                else:
                    requests.append((api_b, API, {"Authorization": f"Token {token_b}"}))
            gate = asyncio.Semaphore(24)

            async def one(client, url, headers):
                async with gate:
                    response = await client.get(url, headers=headers)
                statuses.append(response.status_code)
                if url == API:
                    # Each site sees its own conversations only, whichever pooled connection
                    # (and whichever schema it last served) answered.
                    expected = 2 if client is api_a else 0
                    assert response.json()["count"] == expected

            async def chat(i: int):
                async with gate, ChatClient.connect(web, "site-a") as client:
                    ready = await client.hello(page_url=f"http://site-a.test/p{i}")
                    assert ready["type"] == "ready"
                    if i % 10 == 0:
                        answer, _ = await client.ask("What do you offer?", cmid=f"c{i}")
                        ws_results.append(answer["type"])
                    else:
                        ws_results.append(ready["type"])

            await asyncio.gather(*(one(*r) for r in requests), *(chat(i) for i in range(300)))

    with ConnectionSampler(web.name) as sampler:
        asyncio.run(traffic())
    assert len(statuses) == 2000
    assert not [s for s in statuses if s >= 500]
    assert set(statuses) <= {200, 302, 304}, sorted(set(statuses))
    assert ws_results.count("error") == 0 and len(ws_results) == 300
    assert max(sampler.counts) <= web.pool_max, max(sampler.counts)
    assert "Traceback" not in web.log.read_text()


@pytest.mark.parametrize("web", [1], indirect=True)
def test_it_never_lets_a_pooled_connection_carry_one_sites_schema_to_another(web, site_a, site_b):
    token_a, token_b = _site_data(site_a, site_b)

    async def alternate():
        async with (
            _site_client(web, "site-a", timeout=30) as on_a,
            _site_client(web, "site-b", timeout=30) as on_b,
        ):
            for i in range(60):
                client, token, other, expected = (
                    (on_a, token_a, token_b, 2),
                    (on_b, token_b, token_a, 0),
                )[i % 2]
                response = await client.get(API, headers={"Authorization": f"Token {token}"})
                assert response.status_code == 200
                assert response.json()["count"] == expected, i
                # The other site's token is refused here: users live in each site's schema.
                response = await client.get(API, headers={"Authorization": f"Token {other}"})
                assert response.status_code == 401

    with ConnectionSampler(web.name) as sampler:
        asyncio.run(alternate())
    # One physical connection served both sites in turn.
    assert max(sampler.counts) == 1
