"""A production-shaped Cloop on one machine: shared by bench/cluster.py and tests/cloop/test_cluster.py.

- ASGI processes: `uvicorn cloop.asgi:application` exactly as the README's production commands
  (websockets-sansio, no per-message deflate, no access log), each on a port of its own;
- HAProxy in front (WebSocket-aware: `balance roundrobin`, health check on /healthz, `timeout
  tunnel`; a connection refused by a dead server is redispatched to a live one), naming the
  server that took each connection in an `X-Cloop-Backend` response header;
- Celery workers (prefork, task events on) and beat.

Every process gets the environment given to `Cluster` (DATABASE_URL, REDIS_URL, ...) and
writes its output to a log file in the cluster's work directory. HAProxy must be installed
(Debian: `apt-get install haproxy`).

`visitor_resume_across_kill` is the scenario both the bench and the suite run: a visitor's
web process is SIGKILLed while it streams an answer, the visitor reconnects through the
balancer to the other process and resends the unanswered message (same visitor id, same
`client_message_id`), as widget/static/widget/frame.js does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BACKEND_HEADER = "X-Cloop-Backend"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None
    )
    if not found:
        raise RuntimeError("HAProxy is not installed (Debian: apt-get install haproxy)")
    return found


def haproxy_config(port: int, servers: dict[str, int], stats_socket: Path) -> str:
    """HAProxy in front of the ASGI processes `servers` (name → port) on loopback."""
    lines = [
        "global",
        "    maxconn 4096",
        f"    stats socket {stats_socket} mode 600 level admin",
        "defaults",
        "    mode http",
        "    timeout connect 2s",
        "    timeout client 60s",
        # Also how long a WebSocket handshake may wait for the process's 101.
        "    timeout server 120s",
        # A WebSocket is a tunnel once upgraded: idle up to the consumer's own idle close.
        "    timeout tunnel 15m",
        "    timeout client-fin 5s",
        # A server that refuses the connection (killed, not yet marked down) is skipped: the
        # retry goes to another server, so a reconnect never lands on the dead process.
        "    retries 3",
        "    option redispatch 1",
        "frontend cloop",
        f"    bind 127.0.0.1:{port}",
        "    default_backend web",
        "backend web",
        "    balance roundrobin",
        "    option httpchk",
        "    http-check send meth GET uri /healthz",
        "    http-check expect status 200",
        # A check waits up to 5 s: /healthz on a CPU-starved process can take seconds, and a
        # 1 s check timeout (HAProxy's default, `inter`) then marks a live server down and
        # sends everything to the other one.
        "    timeout check 5s",
        "    default-server inter 1s fall 3 rise 1",
        f"    http-response set-header {BACKEND_HEADER} %[srv_name]",
    ]
    lines += [f"    server {name} 127.0.0.1:{p} check" for name, p in servers.items()]
    return "\n".join(lines) + "\n"


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path
    port: int | None = None
    stopped: bool = False  # on purpose (killed or stopped): not a failure

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Cluster:
    """Processes of one production-shaped Cloop, started on demand, stopped together."""

    workdir: Path
    env: dict
    procs: dict[str, Proc] = field(default_factory=dict)
    balancer_port: int | None = None

    def _start(self, name: str, argv: list[str], env: dict | None = None, port=None) -> Proc:
        log = self.workdir / f"{name}.log"
        popen = subprocess.Popen(  # noqa: S603
            argv,
            cwd=ROOT,
            env={**os.environ, **self.env, **(env or {})},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a stop ends Celery's pool too
        )
        proc = Proc(name, popen, log, port)
        self.procs[name] = proc
        return proc

    def web_start(self, name: str, port: int | None = None) -> Proc:
        """One ASGI process as the README runs it in production (on `port`: a restart)."""
        port = port or free_port()
        argv = [PY, "-m", "uvicorn", "cloop.asgi:application", "--host", "127.0.0.1"]
        argv += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
        argv += ["--ws", "websockets-sansio", "--ws-per-message-deflate", "false"]
        return self._start(name, argv, {"CLOOP_PROCESS": "cloop-web"}, port)

    def balancer_start(self, web_names: list[str]) -> Proc:
        self.balancer_port = free_port()
        config = self.workdir / "haproxy.cfg"
        servers = {n: self.procs[n].port for n in web_names}
        config.write_text(haproxy_config(self.balancer_port, servers, self.stats_socket))
        # -db: stay in the foreground, so the process we started is HAProxy itself.
        argv = [haproxy_binary(), "-db", "-f", str(config)]
        return self._start("haproxy", argv, port=self.balancer_port)

    def worker_start(self, name: str, concurrency: int = 2, extra: list[str] | None = None):
        argv = [PY, "-m", "celery", "-A", "cloop", "worker", "--loglevel", "WARNING"]
        argv += ["--concurrency", str(concurrency), "--hostname", f"{name}@%h", "-E"]
        argv += ["--without-gossip", "--without-mingle", *(extra or [])]
        return self._start(name, argv, {"CLOOP_PROCESS": "cloop-worker"})

    def beat_start(self, name: str = "beat", env: dict | None = None) -> Proc:
        argv = [PY, "-m", "celery", "-A", "cloop", "beat", "--loglevel", "WARNING"]
        argv += ["--scheduler", "tenant_schemas_celery.scheduler.TenantAwarePersistentScheduler"]
        argv += ["--schedule", str(self.workdir / f"{name}-schedule")]
        return self._start(name, argv, {"CLOOP_PROCESS": "cloop-beat", **(env or {})})

    @property
    def stats_socket(self) -> Path:
        return self.workdir / "haproxy.sock"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.balancer_port}"

    def haproxy_command(self, command: str) -> str:
        """One command on HAProxy's runtime API (e.g. `set server web/web2 state maint`)."""
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(self.stats_socket))
            s.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def servers_up(self) -> dict[str, str]:
        """The balancer's view: server name → status (UP, DOWN, MAINT, ...)."""
        try:
            rows = self.haproxy_command("show stat").splitlines()
        except OSError:  # HAProxy is still starting (no stats socket yet)
            return {}
        header = rows[0].lstrip("# ").split(",")
        result = {}
        for row in rows[1:]:
            values = dict(zip(header, row.split(","), strict=False))
            if values.get("pxname") == "web" and values.get("svname") not in (
                "FRONTEND",
                "BACKEND",
            ):
                result[values["svname"]] = values["status"]
        return result

    def wait_until(self, check, what: str, timeout: float = 120) -> None:
        """Poll `check()` until true; fail at once if a started process has exited."""
        deadline = time.monotonic() + timeout
        while not check():
            for proc in self.procs.values():
                if not proc.alive() and not proc.stopped:
                    raise RuntimeError(
                        f"{proc.name} exited while waiting for {what}:\n{proc.output()[-3000:]}"
                    )
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}")
            time.sleep(0.1)

    def wait_web_healthy(self, names: list[str], timeout: float = 120) -> None:
        import httpx

        def healthy() -> bool:
            for name in names:
                try:
                    r = httpx.get(f"http://127.0.0.1:{self.procs[name].port}/healthz", timeout=5)
                except httpx.HTTPError:
                    return False
                if r.status_code != 200:
                    return False
            return True

        self.wait_until(healthy, f"{', '.join(names)} healthy", timeout)

    def wait_balanced(self, names: list[str], timeout: float = 30) -> None:
        self.wait_until(
            lambda: all(self.servers_up().get(n) == "UP" for n in names),
            "the balancer to see every server UP",
            timeout,
        )

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        proc.stopped = True
        os.kill(proc.popen.pid, sig)
        proc.popen.wait(10)

    def web_restart(self, name: str) -> None:
        """Start a killed ASGI process again on its port; wait until the balancer uses it."""
        self.web_start(name, port=self.procs[name].port)
        self.wait_web_healthy([name])
        self.wait_balanced([name])

    def stop_one(self, name: str) -> None:
        proc = self.procs[name]
        proc.stopped = True
        if proc.alive():
            os.killpg(proc.popen.pid, signal.SIGTERM)
            try:
                proc.popen.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait(5)

    def stop(self) -> None:
        """SIGTERM every process group still running (reverse start order), then SIGKILL."""
        for proc in reversed(list(self.procs.values())):
            if proc.alive():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.popen.pid, signal.SIGTERM)
        for proc in reversed(list(self.procs.values())):
            try:
                proc.popen.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait(5)


# --- the visitor who loses their web process -----------------------------------------------


@dataclass
class ResumeResult:
    visitor_id: str
    first_backend: str
    first_answer: dict
    killed_backend: str
    resumed_backend: str
    frames_before_kill: list[dict]
    ready_after: dict
    resent_answer: dict
    reconnect_seconds: float
    answer_seconds: float
    history_roles: list[str] = field(default_factory=list)


async def _ws_connect(url: str, origin: str):
    from websockets.asyncio.client import connect

    ws = await connect(url, origin=origin, proxy=None, max_size=None, open_timeout=10)
    return ws, ws.response.headers.get(BACKEND_HEADER, "")


async def _recv(ws, timeout: float = 30) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def _until(ws, *types: str, on_frame=None, timeout: float = 30) -> dict:
    while True:
        frame = await _recv(ws, timeout)
        if on_frame is not None:
            await on_frame(frame)
        if frame["type"] in types or frame["type"] == "error":
            return frame


async def visitor_resume_across_kill(
    cluster: Cluster,
    site_id: str,
    origin: str,
    questions: tuple[str, str],
    before_second=None,
    after_kill=None,
) -> ResumeResult:
    """Ask one question, then a second one whose answer is cut off by SIGKILL of the web
    process streaming it (on its first `delta`); reconnect through the balancer with the same
    visitor id and resend the second question with the same `client_message_id`.

    `before_second()` (optional) runs before the second question is sent (the test makes its
    model hold the answer after the first piece); `after_kill()` once the process is dead,
    before the reconnect (the test lets its held model go on). Returns what the visitor saw; the caller checks the database.
    """
    from websockets.exceptions import ConnectionClosed

    url = cluster.url.replace("http://", "ws://") + f"/ws/chat/{site_id}/"
    vid = str(uuid.uuid4())
    ws, first_backend = await _ws_connect(url, origin)
    await ws.send(json.dumps({"type": "hello", "visitor_id": vid, "page_url": origin + "/"}))
    assert (await _until(ws, "ready"))["type"] == "ready"
    await ws.send(json.dumps({"type": "message", "text": questions[0], "client_message_id": "m1"}))
    first = await _until(ws, "answer")
    assert first["type"] == "answer", first
    frames: list[dict] = []

    async def kill_on_first_delta(frame):
        frames.append(frame)
        if frame["type"] == "delta" and len(frames) == 1:
            cluster.kill(first_backend)

    if before_second is not None:
        before_second()
    await ws.send(json.dumps({"type": "message", "text": questions[1], "client_message_id": "m2"}))
    killed_at = None
    try:
        await _until(ws, "answer", on_frame=kill_on_first_delta)
        raise AssertionError(f"the answer completed although its process was killed: {frames}")
    except ConnectionClosed:
        killed_at = time.perf_counter()
    if after_kill is not None:
        after_kill()
    # Reconnect as the widget does; the balancer skips the dead server (redispatch).
    ws2, resumed_backend = await _ws_connect(url, origin)
    try:
        await ws2.send(json.dumps({"type": "hello", "visitor_id": vid, "page_url": origin + "/"}))
        ready = await _until(ws2, "ready")
        reconnect_seconds = time.perf_counter() - killed_at
        sent = time.perf_counter()
        await ws2.send(
            json.dumps({"type": "message", "text": questions[1], "client_message_id": "m2"})
        )
        resent = await _until(ws2, "answer", timeout=60)
        answer_seconds = time.perf_counter() - sent
    finally:
        await ws2.close()
    return ResumeResult(
        visitor_id=vid,
        first_backend=first_backend,
        first_answer=first,
        killed_backend=first_backend,
        resumed_backend=resumed_backend,
        frames_before_kill=frames,
        ready_after=ready,
        resent_answer=resent,
        reconnect_seconds=reconnect_seconds,
        answer_seconds=answer_seconds,
        history_roles=[(h["role"], h.get("client_message_id")) for h in ready.get("history", [])],
    )


def stored_messages(site, visitor_id: str) -> list[tuple[str, str | None, str]]:
    """(role, client_message_id — an answer's is its question's —, error) of every stored
    message of the visitor, oldest first. Django, sync, from any schema."""
    from django_tenants.utils import tenant_context

    from conversations.models import Message

    with tenant_context(site):
        rows = (
            Message.objects.filter(conversation__visitor_id=visitor_id)
            .select_related("reply_to")
            .order_by("created_at", "pk")
        )
        return [
            (m.role, m.reply_to.client_message_id if m.reply_to else m.client_message_id, m.error)
            for m in rows
        ]


# --- a small website to crawl ---------------------------------------------------------------

WORDS = [
    "harbour",
    "ferry",
    "ticket",
    "schedule",
    "winter",
    "summer",
    "island",
    "cabin",
    "sauna",
    "lake",
    "forest",
    "trail",
    "map",
    "booking",
    "refund",
    "family",
    "group",
    "guide",
    "route",
    "bicycle",
    "kayak",
    "rental",
    "weather",
    "season",
    "opening",
    "hours",
    "contact",
    "office",
    "price",
    "discount",
    "student",
    "senior",
    "parking",
    "harbour",
    "café",
    "museum",
]


def site_page(n: int, pages: int) -> bytes:
    """Page n of a generated site: three paragraphs and links to pages 2n+1 and 2n+2."""
    words = [WORDS[(n * 7 + i * 13) % len(WORDS)] for i in range(180)]
    paras = "".join(f"<p>{' '.join(words[i : i + 60])}.</p>" for i in range(0, 180, 60))
    links = "".join(f'<a href="/p/{k}">page {k}</a> ' for k in (2 * n + 1, 2 * n + 2) if k < pages)
    return (
        f"<!doctype html><html lang=en><head><title>Page {n}</title></head><body><main>"
        f"<h1>Topic {n}: {words[0]} {words[1]}</h1>{paras}<nav>{links}</nav></main></body></html>"
    ).encode()


class SiteServer:
    """A loopback website of `pages` generated pages, each served after `delay` seconds."""

    def __init__(self, pages: int = 40, delay: float = 0.05):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server's naming
                time.sleep(owner.delay)  # a real site's latency, so crawls take a while
                if self.path in ("/", "/p/0"):
                    body = site_page(0, owner.pages)
                elif self.path.startswith("/p/") and self.path[3:].isdigit():
                    n = int(self.path[3:])
                    body = site_page(n, owner.pages) if n < owner.pages else None
                else:
                    body = None
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

        self.pages, self.delay = pages, delay
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --- Celery task events ---------------------------------------------------------------------


class TaskEvents:
    """Collects the workers' task events (`-E`) from the broker in a thread until stopped."""

    def __init__(self, app):
        self.app = app
        self.events: list[dict] = []
        self.receiver = None
        self.ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        with self.app.connection() as conn:
            self.receiver = self.app.events.Receiver(
                conn, handlers={"*": self.events.append}, node_id=f"bench-{uuid.uuid4().hex[:6]}"
            )
            self.ready.set()
            # Runs until __exit__ sets should_stop (checked about once a second).
            self.receiver.capture(limit=None, timeout=None, wakeup=False)

    def __enter__(self):
        self._thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *exc):
        self.receiver.should_stop = True
        self._thread.join(5)

    def tasks(self) -> dict[str, dict]:
        """uuid → {name, hostname, received, started, succeeded/failed, runtime}."""
        out: dict[str, dict] = {}
        for e in list(self.events):
            if not e.get("type", "").startswith("task-") or "uuid" not in e:
                continue
            t = out.setdefault(e["uuid"], {})
            kind = e["type"].removeprefix("task-")
            if kind == "received":
                t["name"] = e.get("name")
            t[kind] = e.get("timestamp")
            t["hostname"] = e.get("hostname", t.get("hostname"))
            if "runtime" in e:
                t["runtime"] = e["runtime"]
        return out
