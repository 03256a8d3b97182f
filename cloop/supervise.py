"""The process supervisor behind `make run`: keeps its children up until asked to stop.

Each child runs in its own process group (its own session), so a stop reaches every process
it forked (Celery's pool processes included) and a Ctrl-C in the terminal reaches only the
supervisor, which then stops the children in order. A child that exits on its own is
restarted after a delay that starts at `min_delay` and doubles up to `max_delay`; the delay
goes back to `min_delay` once a child has stayed up `stable_after` seconds.

On Linux a child is also sent SIGTERM if the supervisor dies without stopping it (SIGKILL).

SIGINT, SIGTERM and SIGHUP all mean "stop": handlers are installed explicitly, because a
background job of a non-interactive shell (`make run &` in a script) starts with SIGINT
ignored, and `make` passes signals on in its own way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def say(msg: str) -> None:
    print(f"[cloop] {msg}", flush=True)


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict | None = None
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    delay: float = 0.0
    restarts: int = 0
    history: list[int] = field(default_factory=list)


class Supervisor:
    """Start children, restart those that die, stop them all on request.

    `clock` is injectable (monotonic seconds) so the backoff can be checked without waiting.
    Call from the main thread when `install_signals` is used (Python delivers signals there).
    """

    def __init__(
        self,
        children: list[Child],
        *,
        cwd=None,
        min_delay: float = 1.0,
        max_delay: float = 30.0,
        stable_after: float = 60.0,
        stop_timeout: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] = say,
    ):
        self.children = children
        self.cwd = cwd
        self.min_delay, self.max_delay, self.stable_after = min_delay, max_delay, stable_after
        self.stop_timeout = stop_timeout
        self.clock = clock
        self.log = log
        self.stopping = threading.Event()
        self.stop_reason = ""
        for child in children:
            child.delay = min_delay

    # --- signals -------------------------------------------------------------------------
    def install_signals(self) -> None:
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, _frame) -> None:
        self.request_stop(signal.Signals(signum).name)

    def request_stop(self, reason: str = "") -> None:
        self.stop_reason = self.stop_reason or reason
        self.stopping.set()

    # --- children ------------------------------------------------------------------------
    def start(self, child: Child) -> None:
        child.proc = subprocess.Popen(  # noqa: S603 - our own fixed commands
            child.argv,
            cwd=self.cwd,
            env=child.env,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
        )
        child.started_at = self.clock()
        child.restart_at = None

    def start_all(self) -> None:
        for child in self.children:
            if not self.stopping.is_set():
                self.start(child)

    def check(self) -> float:
        """Restart what is due, schedule restarts for children that exited; returns how long
        the caller may wait before the next call."""
        now = self.clock()
        wait = 0.5
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    self.start(child)
                else:
                    wait = min(wait, child.restart_at - now)
                continue
            if child.proc is None or child.proc.poll() is None:
                continue
            code = child.proc.returncode
            child.history.append(code)
            if now - child.started_at >= self.stable_after:
                child.delay = self.min_delay  # it had been up a while: a fresh failure
            delay = child.delay
            child.delay = min(self.max_delay, child.delay * 2)
            child.restart_at = now + delay
            _killpg(child.proc.pid, signal.SIGKILL)  # whatever it left in its group
            self.log(f"{child.name} exited with code {code}; restarting in {delay:g} s")
            wait = min(wait, delay)
        return max(0.01, wait)

    def run(self) -> None:
        """Supervise until a stop is requested; the caller then calls `stop_all`."""
        while not self.stopping.is_set():
            self.stopping.wait(self.check())

    def stop_all(self) -> None:
        """SIGTERM every child's process group, wait, SIGKILL what is left."""
        alive = [c for c in self.children if c.proc is not None]
        for child in alive:
            _killpg(child.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for child in alive:
            try:
                child.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.log(f"{child.name} did not stop in {self.stop_timeout:g} s; killing it")
        for child in alive:
            # Pool processes may outlive their parent; the group still names them.
            _killpg(child.proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(5)


if sys.platform == "linux":
    import ctypes

    # Loaded here, not in the forked child: a fork must not import.
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
    PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM it when the supervisor dies, even by SIGKILL (Linux),
    so no orphan keeps holding the public port."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
