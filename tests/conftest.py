"""Shared fixtures.

Two sites, `site_a` and `site_b`, are created once per test session (cloned from the
template schema, so it is cheap) and used by every test that needs a tenant.

- Tests that only need the database use pytest-django's `db` (rolled back after each test);
  enter a site's schema with `with tenant_context(site_a):` or the `in_site_a` fixture.
- Tests that talk to a real server (ASGI, Celery worker) need committed data: use `live_db`,
  which commits for real and empties both sites' tables afterwards. Keep those tests few.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time

import pytest
from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

# Fixtures of their own module, shared by test modules in different folders.
pytest_plugins = ["tests.outage"]

SITE_A = {"site_id": "site-a", "name": "Site A Oy", "url": "http://site-a.test/"}
SITE_B = {"site_id": "site-b", "name": "Site B Ab", "url": "http://site-b.test/"}
SESSION_SITE_IDS = (SITE_A["site_id"], SITE_B["site_id"])


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Extend pytest-django's setup: the template schema and the two session sites."""
    from tenants.services import base_schema_ensure, site_create

    # pytest-django creates the test database only if a collected test uses db,
    # transactional_db, live_server or the django_db mark. A run of `live_db` tests alone
    # would otherwise work on (and live_db_reset would empty) the development database.
    own_setup = None
    if connection.settings_dict["NAME"] != connection.settings_dict["TEST"]["NAME"]:
        from django.test.utils import setup_databases

        with django_db_blocker.unblock():
            own_setup = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    with django_db_blocker.unblock():
        base_schema_ensure()
        for spec in (SITE_A, SITE_B):
            site_create(
                spec["site_id"],
                name=spec["name"],
                url=spec["url"],
                contact_email=f"privacy@{spec['site_id']}.test",
            )
        connection.set_schema_to_public()
    yield
    # Server threads (ASGI, Celery) may still hold connections to the test database; end them
    # so pytest-django can drop it.
    with django_db_blocker.unblock():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        # Back to the pool, which Django closes before dropping the database (a connection
        # still lent out would keep the database in use).
        connection.close()
    if own_setup is not None:
        from django.test.utils import teardown_databases

        with django_db_blocker.unblock():
            teardown_databases(own_setup, verbosity=0)


def _session_site(site_id, django_db_blocker):
    from tenants.models import Site

    with django_db_blocker.unblock():
        return Site.objects.get(site_id=site_id)


@pytest.fixture(scope="session")
def site_a(django_db_setup, django_db_blocker):
    return _session_site(SITE_A["site_id"], django_db_blocker)


@pytest.fixture(scope="session")
def site_b(django_db_setup, django_db_blocker):
    return _session_site(SITE_B["site_id"], django_db_blocker)


@pytest.fixture(autouse=True)
def _back_to_public():
    """Whatever a test did to the connection, the next one starts on the public schema."""
    yield
    # The connection may have been closed by the test; that is fine.
    with contextlib.suppress(Exception):
        connection.set_schema_to_public()


@pytest.fixture
def in_site_a(db, site_a):
    with tenant_context(site_a):
        yield site_a


@pytest.fixture
def in_site_b(db, site_b):
    with tenant_context(site_b):
        yield site_b


@pytest.fixture
def owner_a(in_site_a, site_a):
    """A test client logged in to site-a's admin as its owner (a superuser of that schema)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.create_superuser("owner@a.test", "owner@a.test", "pw-123456")
    client = Client(HTTP_HOST=site_a.host)
    client.force_login(user)
    client.user = user
    return client


# Left as the migrations wrote them: emptying them would break content types and permissions.
KEPT_TABLES = ("django_migrations", "django_content_type", "auth_permission")


def _used_tables(schemas: list[str]) -> list[str]:
    """The qualified names of the schemas' tables that hold a row, in one round trip.

    TRUNCATE costs about as much for an empty table as for a full one (new files, fsync):
    emptying every table of both sites took over a second per test, most tests touch a few."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT format('%%I.%%I', schemaname, tablename) FROM pg_tables "
            "WHERE schemaname = ANY(%s) AND tablename <> ALL(%s)",
            [schemas, list(KEPT_TABLES)],
        )
        tables = [row[0] for row in cur.fetchall()]
        if not tables:
            return []
        cur.execute(
            " UNION ALL ".join(
                f"SELECT {i} WHERE EXISTS (SELECT FROM {name})" for i, name in enumerate(tables)
            )
        )
        return [tables[row[0]] for row in cur.fetchall()]


def _sequences_restart(schemas: list[str]) -> None:
    """The id sequences of the schemas' emptied tables that handed out a value start at 1
    again, as TRUNCATE's RESTART IDENTITY did: ids restart after each reset, whichever tables
    the test used (a row inserted and deleted again advanced its sequence too). The kept
    tables' sequences go on: their rows stay."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT setval(dep.objid, 1, false) FROM pg_sequences s "
            "JOIN pg_depend dep ON dep.classid = 'pg_class'::regclass "
            "AND dep.objid = format('%%I.%%I', s.schemaname, s.sequencename)::regclass "
            "AND dep.deptype IN ('a', 'i') "
            "JOIN pg_class tab ON tab.oid = dep.refobjid "
            "WHERE s.schemaname = ANY(%s) AND s.last_value IS NOT NULL "
            "AND tab.relname <> ALL(%s)",
            [schemas, list(KEPT_TABLES)],
        )


def live_db_reset() -> None:
    """Empty the session sites' tables and delete any other site a test created."""
    from tenants.models import Site
    from tenants.services import site_delete

    with schema_context(get_public_schema_name()):
        for site in Site.objects.exclude(site_id__in=SESSION_SITE_IDS).exclude(
            schema_name=get_public_schema_name()
        ):
            site_delete(site.site_id)
        schemas = list(
            Site.objects.filter(site_id__in=SESSION_SITE_IDS).values_list("schema_name", flat=True)
        )
        used = _used_tables(schemas)
        if used:
            # DELETE, not TRUNCATE: a few rows go in milliseconds where TRUNCATE (with the
            # tables it cascades to) takes a tenth of a second or more. The foreign keys are
            # deferred (Django declares them so), checked at commit, when every row is gone.
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("; ".join(f"DELETE FROM {name}" for name in used))
        _sequences_restart(schemas)
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def live_db(django_db_setup, django_db_blocker, site_a, site_b):
    """Real commits, visible to servers on other threads; cleaned up afterwards."""
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        yield
        connection.set_schema_to_public()
        live_db_reset()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveASGIServer:
    """The real ASGI application under uvicorn, in a thread of the test process.

    Running in-process means it uses the test database that pytest-django set up.
    """

    def __init__(self, host: str = "127.0.0.1"):
        import uvicorn

        self.host = host
        self.port = free_port()
        config = uvicorn.Config(
            "cloop.asgi:application",
            host=host,
            port=self.port,
            log_level="warning",
            lifespan="off",
            ws="websockets-sansio",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, daemon=True, name="live-asgi")

    def _run(self):
        asyncio.run(self.server.serve())

    def start(self):
        # Import the application here, outside the start deadline: on a loaded machine its
        # first import (litellm and friends) alone can take longer than the deadline.
        import cloop.asgi  # noqa: F401

        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the ASGI server did not start")
            time.sleep(0.02)
        return self

    def stop(self):
        self.server.should_exit = True
        self.thread.join(10)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def site_url(self, site) -> str:
        """The site's own host (admin, API): `<site_id>.localhost` resolves to loopback."""
        return f"http://{site.site_id}.localhost:{self.port}"


@pytest.fixture(autouse=True)
def _live_server_helper():
    """Replaces pytest-django's helper of the same name: it expects its own live_server (and
    would add transactional_db, whose flush empties the public tables); ours needs neither."""
    yield


@pytest.fixture
def live_server(live_db, settings):
    """A real ASGI server (HTTP + WebSocket) on a free loopback port."""
    server = LiveASGIServer().start()
    settings.CLOOP_PUBLIC_URL = f"http://localhost:{server.port}"
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def restored_root_logger():
    """The root logger's handlers and level as they were, whatever the block set up."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture
def celery_worker_live(live_db):
    """A real Celery worker (threads in this process) consuming from the real broker."""
    from celery.contrib.testing.worker import start_worker

    from cloop import queues
    from cloop.celery import app

    # Tests without a worker (API "start crawl", admin buttons) leave messages in the broker;
    # with ids restarting after each live_db reset, a stale one could act on this test's rows.
    app.control.purge()
    # The worker sets up Celery's logging: the root logger's handlers (writing to the stream
    # pytest captured for this test) and level would outlive it and log into later tests.
    with (
        restored_root_logger(),
        start_worker(
            app,
            # Every queue, explicitly: a worker started earlier in this process with one queue
            # (tests/cloop/test_queues.py) narrows the app's shared selection.
            queues=list(queues.QUEUES),
            pool="threads",
            concurrency=2,
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=10,
        ),
    ):
        yield app


class FakeClock:
    """A clock only the test moves (call it for the time; add to `now` to move it)."""

    def __init__(self, now: float = 1_700_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def limits_clock(monkeypatch):
    """conversations.chat.limits' wall and monotonic clocks, frozen until the test moves them."""
    from conversations.chat import limits

    fake = FakeClock()
    monkeypatch.setattr(limits, "clock", fake)
    monkeypatch.setattr(limits, "monotonic", fake)
    return fake


@pytest.fixture
def database_down(django_db_setup, django_db_blocker, tmp_path):
    """A real outage for this process: the settings point at a directory with no server in
    it (new connections fail as when PostgreSQL is down). The pool is rebuilt from those
    settings and restored afterwards. Database access is unblocked inside."""
    from django.db import connections

    conn = connections["default"]
    saved = dict(conn.settings_dict)
    with django_db_blocker.unblock():
        conn.close()
        conn.close_pool()  # the pool was built from the old settings: a new one from these
        conn.settings_dict["HOST"] = str(tmp_path)
        conn.settings_dict["PORT"] = ""
        try:
            yield
        finally:
            conn.close()
            conn.close_pool()
            conn.settings_dict.clear()
            conn.settings_dict.update(saved)


class TaskLog:
    """The Celery messages this process published and the task runs its in-process worker
    finished, from Celery's own signals. A test that must show a task did *nothing* waits
    for `idle()` (every message published so far has run) instead of sleeping: whatever a
    task would have done is done by then, on any machine speed."""

    def __init__(self):
        self.published: list[str] = []
        self.finished: list[str] = []
        self._changed = threading.Condition()

    def _on_publish(self, headers=None, **_):
        with self._changed:
            self.published.append((headers or {}).get("id"))
            self._changed.notify_all()

    def _on_postrun(self, task_id=None, **_):
        with self._changed:
            self.finished.append(task_id)
            self._changed.notify_all()

    def idle(self, timeout: float = 30.0) -> list[str]:
        """Wait until each published message (a redelivered id counts each time) has run;
        returns the ids of the runs, in the order they ended."""
        from collections import Counter

        def done():
            return not Counter(self.published) - Counter(self.finished)

        with self._changed:
            if not self._changed.wait_for(done, timeout):
                left = Counter(self.published) - Counter(self.finished)
                raise AssertionError(f"tasks still unfinished after {timeout} s: {dict(left)}")
            return list(self.finished)


@pytest.fixture
def celery_tasks(celery_worker_live):
    """A TaskLog of this test's Celery messages, with the live worker running them."""
    from celery import signals

    log = TaskLog()
    signals.after_task_publish.connect(log._on_publish, weak=False)
    signals.task_postrun.connect(log._on_postrun, weak=False)
    try:
        yield log
    finally:
        signals.after_task_publish.disconnect(log._on_publish)
        signals.task_postrun.disconnect(log._on_postrun)
