"""The platform under soak: start it (`python -m cloop.run`) or attach to one, staff commands,
and the 10-second probes (PostgreSQL connections, process RSS / open files, Redis clients).

Processes are read from /proc (Linux): the supervisor's pid tree in the default mode, or every
process whose command line looks like Cloop's web / worker / beat in --attach mode.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
SITE_ID = "demo"
SOAK_USER = "soak@demo.example"
APP_NAME = "cloop-soak"  # the probe's own PostgreSQL connection, left out of every count
ROLES = ("web", "worker", "beat", "manage")


def raise_fd_limit() -> tuple[int, int]:
    """Soft RLIMIT_NOFILE up to the hard limit (children inherit it); returns (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Platform:
    """Where the platform answers and how to run its staff commands."""

    def __init__(self, base_url: str, env: dict, supervisor: subprocess.Popen | None = None):
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.host = parts.hostname or "localhost"
        self.origin = self.base_url  # the chat frame's origin: Cloop's own (docs/protocol.md)
        self.ws_url = self.base_url.replace("http", "ws", 1) + f"/ws/chat/{SITE_ID}/"
        # The customer's admin and API live on <site>.<base domain>; we connect to the same
        # address and name the site's host in the Host header.
        self.site_host = f"{SITE_ID}.{parts.netloc}"
        self.env = env
        self.supervisor = supervisor
        self.password = ""
        self.token = ""

    # --- staff commands -----------------------------------------------------------------
    async def manage(self, *args: str, timeout: float = 300) -> tuple[int, str, str, int]:
        """Run `manage.py ARGS` as staff would; returns (exit code, stdout, stderr, pid)."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "manage.py",
            *args,
            cwd=ROOT,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            proc.kill()
            out, err = await proc.communicate()
            return -9, out.decode(), err.decode() + "\n(timeout)", proc.pid
        return proc.returncode, out.decode(), err.decode(), proc.pid

    async def prepare(self, quota: int) -> None:
        """A staff user of the demo site with a fresh password and an API token, and a daily
        message quota the soak cannot use up (the default 5,000 would end it as quota_exceeded)."""
        snippet = f"""
import json, secrets
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token
from conversations.models import SiteSettings
from tenants.models import Site
site = Site.objects.get(site_id={SITE_ID!r})
with tenant_context(site):
    User = get_user_model()
    user = User.objects.filter(username={SOAK_USER!r}).first()
    if user is None:
        user = User.objects.create_superuser(username={SOAK_USER!r}, email={SOAK_USER!r})
    password = secrets.token_urlsafe(16)
    user.set_password(password)
    user.is_active = user.is_staff = user.is_superuser = True
    user.save()
    token, _ = Token.objects.get_or_create(user=user)
    SiteSettings.objects.update_or_create(pk=1, defaults={{"daily_message_quota": {quota}}})
print("SOAK " + json.dumps({{"password": password, "token": token.key}}))
"""
        code, out, err, _ = await self.manage("shell", "-c", snippet)
        if code != 0:
            raise RuntimeError(f"could not prepare the demo site: {err[-2000:]}")
        line = next(x for x in out.splitlines() if x.startswith("SOAK "))
        data = json.loads(line[5:])
        self.password, self.token = data["password"], data["token"]

    # --- processes ----------------------------------------------------------------------
    def processes(self) -> dict[str, int]:
        """Label -> pid of the platform's long-running processes (web, worker, worker-child-N,
        beat): the pid tree of the supervisor (`python -m cloop.run`) we started or found."""
        pids = self._members()
        found: dict[str, list[int]] = {}
        for pid in pids:
            role = _role(_cmdline(pid))
            if role and role != "manage":
                found.setdefault(role, []).append(pid)
        out: dict[str, int] = {}
        workers = sorted(found.get("worker", []))
        parents = [p for p in workers if _ppid(p) not in workers]
        for role in ("web", "beat"):
            for i, pid in enumerate(sorted(found.get(role, []))):
                out[role if i == 0 else f"{role}-{i}"] = pid
        for i, pid in enumerate(parents):
            out["worker" if i == 0 else f"worker-{i}"] = pid
        for i, pid in enumerate(p for p in workers if p not in parents):
            out[f"worker-child-{i + 1}"] = pid
        return out

    def _members(self) -> list[int]:
        if self.supervisor is not None:
            return _descendants(self.supervisor.pid)
        # Attached: the uvicorn serving our port; its supervisor's tree when `make run` started
        # it, else every Cloop process on this machine sharing its database settings.
        web = [
            p
            for p in _all_pids()
            if _role(_cmdline(p)) == "web" and f"--port {self.port}" in _cmdline(p)
        ]
        if not web:
            return []
        parent = _ppid(web[0])
        if "cloop.run" in _cmdline(parent):
            return _descendants(parent)
        key = _db_settings(web[0])
        return [p for p in _all_pids() if _role(_cmdline(p)) and _db_settings(p) == key]


def _db_settings(pid: int) -> tuple[str, str]:
    try:
        env = dict(
            x.split("=", 1)
            for x in Path(f"/proc/{pid}/environ").read_text().split("\0")
            if "=" in x
        )
    except OSError:
        return ("?", str(pid))
    return (env.get("DATABASE_URL", ""), env.get("CLOOP_DATA_DIR", ""))


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid in _all_pids():
        children.setdefault(_ppid(pid), []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _role(cmd: str) -> str | None:
    if "cloop.asgi" in cmd and "uvicorn" in cmd:
        return "web"
    if "celery" in cmd and "-A cloop" in cmd:
        return "worker" if " worker" in cmd else "beat" if " beat" in cmd else None
    if "manage.py" in cmd:
        return "manage"
    return None


def proc_stats(pid: int) -> dict | None:
    """RSS (MiB), open files and the open-files limit of one process; None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        limits = Path(f"/proc/{pid}/limits").read_text()
        nofile = int(re.search(r"Max open files\s+(\d+)", limits).group(1))
    except (OSError, AttributeError):
        return None
    return {"pid": pid, "rss_mib": round(rss, 1), "open_files": fds, "nofile_limit": nofile}


# --- starting and stopping ----------------------------------------------------------------
def platform_start(port: int, data_dir: Path, log_path: Path) -> Platform:
    """`make run`'s processes on PORT with their own data directory (own PostgreSQL and
    Redis), so the soak collides with no other platform on the machine."""
    data_dir = data_dir.resolve()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    base = f"http://localhost:{port}"
    env.update(
        PORT=str(port),
        CLOOP_DATA_DIR=str(data_dir),
        CLOOP_PUBLIC_URL=base,
        # The worker's queued crawls of the demo reach Cloop itself on loopback.
        CLOOP_CRAWL_ALLOW_PRIVATE="1",
        DJANGO_SETTINGS_MODULE="cloop.settings",
        PYTHONUNBUFFERED="1",
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    # A second platform on the same data directory would share (and, on exit, stop) our
    # embedded servers.
    for pid in _all_pids():
        if _role(_cmdline(pid)) in ("web", "worker", "beat") and _db_settings(pid)[1] == str(
            data_dir
        ):
            raise RuntimeError(f"pid {pid} already runs on {data_dir}; pick another --data-dir")
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "cloop.run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"`python -m cloop.run` exited; see {log_path}")
        if "ready in" in log_path.read_text(errors="replace"):
            return Platform(base, env, supervisor=proc)
        time.sleep(0.5)
    platform_stop(proc)
    raise RuntimeError(f"the platform did not get ready; see {log_path}")


def platform_stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the supervisor (it handles it as Ctrl-C: stops its children and the embedded
    servers). Not SIGINT: a bench started in the background inherits SIGINT ignored."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def platform_attach(url: str) -> Platform:
    """A platform already running at URL; staff commands use this environment (DATABASE_URL,
    REDIS_URL, or the embedded servers of CLOOP_DATA_DIR)."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="cloop.settings", PYTHONUNBUFFERED="1")
    env.setdefault("CLOOP_PUBLIC_URL", url.rstrip("/"))
    import httpx

    deadline = time.monotonic() + 300
    while True:  # a platform still starting (migrations, the demo crawl) is not attached to yet
        try:
            if httpx.get(url.rstrip("/") + "/healthz", timeout=5).status_code == 200:
                return Platform(url, env)
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url}/healthz did not answer 200 within 300 s")
        time.sleep(1)
