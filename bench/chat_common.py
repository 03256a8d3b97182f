"""Shared set-up for the chat benchmarks: a bench site with a small index, a real uvicorn process.

The benchmarks use the embedded PostgreSQL/Redis of CLOOP_DATA_DIR (or DATABASE_URL/REDIS_URL)
and start `uvicorn cloop.asgi:application` as `make run` does (websockets-sansio, no access
log), in its own process, so client and server do not share a CPU-time budget in one loop.
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloop.settings")
os.environ.setdefault("CLOOP_DEV", "1")

SITE_ID = "bench-chat"
ORIGIN = "http://bench.localhost"


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_site_ensure():
    """A fresh bench site with the test fixture pages indexed and a high quota."""
    import django

    from cloop import embedded

    embedded.start()  # the embedded servers, unless DATABASE_URL / REDIS_URL are set
    django.setup()
    from django.core.management import call_command
    from django_tenants.utils import tenant_context

    from conversations.models import SiteSettings
    from tenants.models import Site
    from tenants.services import site_create
    from tests.conversations.pages import PAGES_A

    call_command("migrate_platform", verbosity=0)
    from tenants.services import site_delete

    if Site.objects.filter(site_id=SITE_ID).exists():
        site_delete(SITE_ID)  # a clean index and no chats left from an earlier run
    site = site_create(SITE_ID, name="Bench Oy", url="http://site-a.test/").site
    from crawler.index import index_html

    with tenant_context(site):
        for url, html in PAGES_A.items():
            index_html(url, html)
        SiteSettings.objects.update_or_create(pk=1, defaults={"daily_message_quota": 10_000_000})
    from django.core.cache import cache

    cache.clear()  # rate-limit windows and quota counters of earlier runs
    return site


def server_start(extra_env: dict | None = None, workers: int = 1) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = dict(os.environ, CLOOP_PUBLIC_URL=ORIGIN, **(extra_env or {}))
    proc = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "uvicorn",
            "cloop.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--ws",
            "websockets-sansio",
            "--log-level",
            "warning",
            *(["--workers", str(workers)] if workers > 1 else []),
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("uvicorn did not start")


def rss_kib(pid: int) -> int:
    """Resident memory of a process (VmRSS), KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))
    return s[k]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children so far (seconds)."""
    import os as _os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return ticks / _os.sysconf("SC_CLK_TCK")
