"""CLOOP_PUBLIC_URL is the one source of Cloop's public URL; staff commands in another shell
print the port `make run` serves on (cloop/public_url.py)."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import connection

from cloop.public_url import public_url_record, public_url_resolve

ROOT = Path(__file__).resolve().parents[2]


def resolve(environ, tmp_path, *, debug=True):
    return public_url_resolve(
        environ.get("CLOOP_PUBLIC_URL", ""),
        port=environ.get("PORT", ""),
        base_domain="localhost",
        data_dir=tmp_path,
        debug=debug,
    )


def test_it_derives_the_public_url_in_order(tmp_path):
    assert resolve({}, tmp_path) == "http://localhost:8000"
    public_url_record(tmp_path, "http://localhost:8612/")
    assert (tmp_path / "public_url").read_text() == "http://localhost:8612\n"
    assert resolve({}, tmp_path) == "http://localhost:8612"  # what `make run` serves on
    assert resolve({"PORT": "9000"}, tmp_path) == "http://localhost:9000"  # this shell's PORT
    explicit = {"CLOOP_PUBLIC_URL": "https://chat.example/", "PORT": "9000"}
    assert resolve(explicit, tmp_path) == "https://chat.example"
    # Production never reads a development file.
    assert resolve({}, tmp_path, debug=False) == "https://localhost"


def test_it_keeps_a_developers_running_platform_out_of_the_suite(settings):
    # tests/session.py fixes the URL: neither `make run`'s recorded URL nor a PORT counts.
    assert settings.CLOOP_PUBLIC_URL == "http://localhost:8000"


def _test_database_url() -> str:
    """DATABASE_URL with the test database's name (the session sites live there)."""
    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def test_it_prints_the_port_make_run_serves_on_from_another_shell(db, site_a, tmp_path):
    """`manage.py snippet` and `create_site --json` in a shell without PORT or
    CLOOP_PUBLIC_URL, beside a platform that recorded port 8612 in its data dir."""
    public_url_record(tmp_path, "http://localhost:8612")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOOP_", "DJANGO_"))}
    env.pop("PORT", None)
    env.update(
        CLOOP_DATA_DIR=str(tmp_path),
        DATABASE_URL=_test_database_url(),
        REDIS_URL=settings.REDIS_URL,
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="cloop.settings",
    )
    done = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "snippet", site_a.site_id, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert '"snippet": "<script src=\\"http://localhost:8612/widget.js\\"' in done.stdout
    assert '"admin_url": "http://site-a.localhost:8612/admin/"' in done.stdout
