"""Small things of the platform: one log line per 404, robots.txt and favicon.ico answered,
static files served under ASGI without a warning, development mail readable as files."""

import asyncio
import io
import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from django.test import AsyncClient, Client

ROOT = Path(__file__).resolve().parents[2]


def test_it_logs_a_404_once(db, settings):
    """Every stream handler a django.request record can reach writes into one buffer: the
    404 must appear there once (it was printed by Django's DEBUG handler and the root's)."""
    settings.DEBUG = True  # Django's own console handler only speaks in DEBUG
    buffer = io.StringIO()
    swapped = []
    logger = logging.getLogger("django.request")
    while logger is not None:
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler:  # not pytest's capture handlers
                swapped.append((handler, handler.setStream(buffer)))
        logger = logger.parent if logger.propagate else None
    try:
        Client(HTTP_HOST="localhost").get("/no-such-file.txt")
    finally:
        for handler, stream in swapped:
            handler.setStream(stream)
    lines = [ln for ln in buffer.getvalue().splitlines() if "/no-such-file.txt" in ln]
    assert len(lines) == 1, lines
    assert "WARNING django.request Not Found: /no-such-file.txt" in lines[0]


def test_it_answers_robots_txt_and_favicon_on_cloop_and_on_site_hosts(db, site_a):
    public = Client(HTTP_HOST="localhost")
    robots = public.get("/robots.txt")
    assert robots.status_code == 200 and "Disallow: /admin/" in robots.content.decode()
    icon = public.get("/favicon.ico")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO header
    site = Client(HTTP_HOST=site_a.host)
    assert site.get("/robots.txt").content.decode() == "User-agent: *\nDisallow: /\n"
    assert site.get("/favicon.ico").status_code == 200


@pytest.mark.asyncio
async def test_it_serves_static_files_under_asgi_without_the_sync_iterator_warning():
    client = AsyncClient(HTTP_HOST="localhost")
    response = await client.get("/static/admin/css/base.css")
    assert response.status_code == 200
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the warning would fail the test
        body = b"".join([part async for part in response])
    from django.contrib.staticfiles import finders

    assert body == Path(finders.find("admin/css/base.css")).read_bytes()


async def asgi_get(app, path: str, headers: list[tuple[bytes, bytes]]) -> list[dict]:
    """The messages Django's own ASGI handler `app` sends for a GET (the test client would
    strip a 304's body itself, hiding what a real server gets)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), *headers],
        "server": ("localhost", 80),
    }
    sent: list[dict] = []
    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive():
        if requests:
            return requests.pop()
        await asyncio.Event().wait()  # no disconnect: the handler stops listening when done

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent


@pytest.mark.asyncio
async def test_it_answers_a_cached_static_file_under_asgi_without_the_sync_iterator_warning():
    # A browser reloading a page asks again with the file's ETag: WhiteNoise answers 304 with
    # an empty body that is not the file, and Django warned about that iterator on every one.
    from django.core.handlers.asgi import ASGIHandler

    app = ASGIHandler()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = await asgi_get(app, "/static/admin/css/base.css", [])
        etag = {k.lower(): v for k, v in first[0]["headers"]}[b"etag"]
        again = await asgi_get(app, "/static/admin/css/base.css", [(b"if-none-match", etag)])
    assert first[0]["status"] == 200 and again[0]["status"] == 304
    assert b"".join(m.get("body", b"") for m in again[1:]) == b""


def test_it_writes_development_mail_to_files_in_the_data_dir(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOOP_", "EMAIL_"))}
    env.update(
        DEBUG="1",
        CLOOP_DATA_DIR=str(tmp_path),
        DATABASE_URL="postgres://cloop@db.invalid:5432/cloop",  # never connected
        REDIS_URL="redis://redis.invalid:6379/0",
        DJANGO_SETTINGS_MODULE="cloop.settings",
    )
    env.pop("PYTEST_CURRENT_TEST", None)
    code = (
        "import django; django.setup();"
        "from django.core.mail import send_mail;"
        "send_mail('Your conversation', \"I'd like a quote\", 'a@cloop.test', ['b@example.fi'])"
    )
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    files = list((tmp_path / "mail").iterdir())
    assert len(files) == 1
    assert "I'd like a quote" in files[0].read_text()
