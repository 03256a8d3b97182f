"""`make run` as a user runs it: real processes on their own embedded PostgreSQL and Redis.

Both tests share one fresh data directory (the first run migrates it and crawls the demo;
the second reuses it) and one port. They watch processes through /proc (Linux).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from widget import demo

ROOT = Path(__file__).resolve().parents[2]
START_DEADLINE = 600  # a fresh data directory: initdb, every migration, the demo crawl
EVENT_DEADLINE = 120


@pytest.fixture(scope="module")
def platform_env():
    # Short: unix socket paths are limited to ~107 bytes.
    data = Path(tempfile.mkdtemp(prefix="cloop-run-", dir="/tmp"))  # noqa: S108
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("CLOOP_", "DJANGO_"))}
    for name in ("DATABASE_URL", "REDIS_URL", "DEBUG", "PORT", "HOST"):
        keep.pop(name, None)
    env = {**keep, "CLOOP_DATA_DIR": str(data), "PORT": str(free_port())}
    yield env
    # Whatever a failed test left running in this data directory.
    subprocess.run(  # noqa: S603
        [sys.executable, "-c", "from cloop import embedded; embedded.stop()"],
        cwd=ROOT,
        env=env,
        check=False,
    )
    shutil.rmtree(data, ignore_errors=True)


class Output:
    """Collects a process's output lines on a thread; waits for a line to appear."""

    def __init__(self, proc: subprocess.Popen):
        self.lines: list[str] = []
        self.closed = False
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc):
        for line in proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def wait_for(self, pattern: str, deadline: float = EVENT_DEADLINE, start: int = 0) -> int:
        """Index of the first line from `start` on that matches `pattern`."""
        rx = re.compile(pattern)
        end = time.monotonic() + deadline
        with self.cond:
            while True:
                for i in range(start, len(self.lines)):
                    if rx.search(self.lines[i]):
                        return i
                start = len(self.lines)
                left = end - time.monotonic()
                if left <= 0 or self.closed:
                    tail = "\n".join(self.lines[-40:])
                    raise AssertionError(f"no line matching {pattern!r}; output ends:\n{tail}")
                self.cond.wait(min(left, 1))

    def text(self) -> str:
        with self.cond:
            return "\n".join(self.lines)


# --- /proc -----------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[0] != "Z"  # a zombie has exited


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def environ(pid: int) -> dict:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    return dict(
        item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item
    )


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None and st[0] != "Z" and int(st[1]) == pid:
                out.append(int(entry))
    return out


def descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for c in children(todo.pop()):
            if c not in found:
                found.add(c)
                todo.append(c)
    return found


def server_pids(data: Path) -> set[int]:
    """The running embedded PostgreSQL postmaster and Redis server of a data directory."""
    pids = set()
    for pidfile in (data / "pg" / "postmaster.pid", data / "redis" / "redis.pid"):
        try:
            pid = int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        if alive(pid):
            pids.add(pid)
    return pids


def embedded_pids(data: Path) -> set[int]:
    """The embedded servers of a data directory, PostgreSQL's backends included."""
    pids = server_pids(data)
    for pid in list(pids):
        pids |= descendants(pid)
    return pids


def listener_of(port: int) -> int | None:
    """The pid of the process listening on 127.0.0.1:`port` (IPv4), if any."""
    want = f"0100007F:{port:04X}"
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        if f[1] == want and f[3] == "0A":
            inode = f[9]
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                if os.readlink(f"/proc/{entry}/fd/{fd}") == target:
                    return int(entry)
        except OSError:
            continue
    return None


def wait_until(predicate, what: str, deadline: float = EVENT_DEADLINE):
    end = time.monotonic() + deadline
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def named_child(run_pid: int, *words: str) -> int | None:
    for pid in children(run_pid):
        if all(w in cmdline(pid) for w in words):
            return pid
    return None


def start(argv, env, **kw) -> tuple[subprocess.Popen, Output]:
    proc = subprocess.Popen(  # noqa: S603
        argv,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kw,
    )
    return proc, Output(proc)


# --- the tests -------------------------------------------------------------------------


def test_it_restarts_a_killed_worker_and_stops_cleanly_on_sigterm(platform_env):
    port = int(platform_env["PORT"])
    data = Path(platform_env["CLOOP_DATA_DIR"])
    proc, out = start([sys.executable, "-m", "cloop.run"], platform_env)
    try:
        # The first process to listen on the public port is the real ASGI server: a
        # client that sees /healthz answer can trust it (the demo is crawled elsewhere).
        end = time.monotonic() + START_DEADLINE
        owner = None
        while owner is None:
            assert proc.poll() is None, out.text()
            assert time.monotonic() < end, out.text()
            owner = listener_of(port)
            if owner is None:
                time.sleep(0.02)
        assert "uvicorn" in cmdline(owner), cmdline(owner)
        assert owner in children(proc.pid)
        out.wait_for(r"^\[cloop\] ready in", START_DEADLINE)
        # ... and the demo was crawled all the same, before it.
        assert f"demo crawl succeeded: {len(demo.PAGES)} pages indexed" in out.text(), out.text()
        assert healthy(port)
        assert f"demo website with the chat widget:  http://localhost:{port}/demo/" in out.text()

        # A staff command in another shell (PORT not exported there) prints this port.
        shell = {k: v for k, v in platform_env.items() if k != "PORT"}
        printed = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "snippet", "demo"],
            cwd=ROOT,
            env=shell,
            capture_output=True,
            text=True,
            timeout=EVENT_DEADLINE,
        )
        assert printed.stdout.strip() == (
            f'<script src="http://localhost:{port}/widget.js" data-site="demo" async></script>'
        ), printed.stdout + printed.stderr

        # Each child knows who it is (its database connections are named after it).
        web = named_child(proc.pid, "uvicorn")
        # One worker per queue: crawls never hold up summary e-mails (cloop/queues.py).
        worker = named_child(proc.pid, "celery", "worker", "-Q crawl")
        short = named_child(proc.pid, "celery", "worker", "-Q default")
        beat = named_child(proc.pid, "celery", "beat", "cloop.beat:LockedScheduler")
        assert environ(web)["CLOOP_PROCESS"] == "cloop-web"
        assert environ(worker)["CLOOP_PROCESS"] == "cloop-worker-crawl"
        assert environ(short)["CLOOP_PROCESS"] == "cloop-worker-default"
        assert environ(beat)["CLOOP_PROCESS"] == "cloop-beat"

        os.kill(worker, signal.SIGKILL)
        out.wait_for(r"^\[cloop\] worker-crawl exited with code -9; restarting in 1 s$")
        new_worker = wait_until(
            lambda: (
                named_child(proc.pid, "celery", "worker", "-Q crawl") not in (None, worker)
                and named_child(proc.pid, "celery", "worker", "-Q crawl")
            ),
            "a new worker",
        )
        assert environ(new_worker)["CLOOP_PROCESS"] == "cloop-worker-crawl"
        assert alive(web) and alive(short) and alive(beat)  # the others were left alone
        assert healthy(port)

        everything = descendants(proc.pid) | embedded_pids(data)
        assert everything
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(EVENT_DEADLINE) == 0, out.text()
    finally:
        if proc.poll() is None:
            proc.kill()
    out.thread.join(EVENT_DEADLINE)
    assert "stopped." in out.text()
    assert "Traceback" not in out.text().split("SIGTERM: stopping")[-1]
    assert not [p for p in everything if alive(p)], [cmdline(p) for p in everything if alive(p)]


def test_it_stops_cleanly_on_sigint_when_make_run_was_started_with_sigint_ignored(platform_env):
    """`make run &` from a script starts with SIGINT ignored; a SIGINT to its process group
    (a CI runner cancelling, a terminal) still stops everything, and make exits 0."""
    port = int(platform_env["PORT"])
    data = Path(platform_env["CLOOP_DATA_DIR"])
    proc, out = start(
        ["make", "run"],
        platform_env,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        out.wait_for(r"^\[cloop\] ready in", START_DEADLINE)
        assert healthy(port)
        everything = descendants(proc.pid) | embedded_pids(data)
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(EVENT_DEADLINE) == 0, out.text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    out.thread.join(EVENT_DEADLINE)
    assert "SIGINT: stopping" in out.text()
    assert "stopped." in out.text()
    assert not re.search(r"\*\*\* .*(Error \d+|Terminated|Interrupt)", out.text()), out.text()
    assert not [p for p in everything if alive(p)], [cmdline(p) for p in everything if alive(p)]


def test_it_stops_the_embedded_servers_make_test_started_and_only_those(platform_env):
    data = Path(platform_env["CLOOP_DATA_DIR"])
    env = {k: v for k, v in platform_env.items() if not k.startswith("PYTEST_")}
    # A quick suite that needs no database; the test session starts the servers anyway. Without
    # coverage: a part of the suite is under the floor, and its coverage run would erase the
    # data files this run's subprocesses left for the outer `make test` to combine. In one
    # process (XDIST_ARGS=): workers would only add their start-up to so small a part.
    make_test = [
        "make",
        "-o",
        "lint",
        "test",
        "COV_ARGS=",
        "XDIST_ARGS=",
        "PYTEST_ARGS=tests/cloop/test_supervise.py -q",
    ]
    assert not embedded_pids(data)

    done = subprocess.run(make_test, cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\d+ passed", done.stdout), done.stdout
    assert not embedded_pids(data)

    failing = [*make_test[:-1], "PYTEST_ARGS=tests/cloop/test_supervise.py -q -k no_such_test"]
    done = subprocess.run(failing, cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603
    assert done.returncode == 2  # make's own status for a failed recipe: pytest's was kept
    assert "Error 5" in done.stderr  # pytest's "no tests collected"

    # Servers already running (`make run`, a manage.py command) are left running.
    start = "from cloop import embedded; embedded.postgres_uri(); embedded.redis_url()"
    subprocess.run([sys.executable, "-c", start], cwd=ROOT, env=env, check=True)  # noqa: S603
    before = server_pids(data)
    assert len(before) == 2
    done = subprocess.run(make_test, cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603
    assert done.returncode == 0, done.stdout + done.stderr
    assert all(alive(p) for p in before)
