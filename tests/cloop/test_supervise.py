"""The supervisor behind `make run`, with real child processes and an injected clock."""

import signal
import sys
import time

from cloop.supervise import Child, Supervisor


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
FAILER = [sys.executable, "-c", "raise SystemExit(3)"]


def supervisor(*children, clock):
    lines = []
    sup = Supervisor(list(children), clock=clock, log=lines.append, stop_timeout=10)
    return sup, lines


def test_it_restarts_a_killed_child_and_says_so():
    clock = Clock()
    child = Child("worker", SLEEPER)
    sup, lines = supervisor(child, clock=clock)
    sup.start_all()
    try:
        first = child.proc
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        sup.check()
        assert lines == ["worker exited with code -9; restarting in 1 s"]
        clock.now += 1
        sup.check()
        assert child.proc is not first and child.proc.poll() is None
    finally:
        sup.stop_all()
    assert child.proc.poll() is not None


def test_it_doubles_the_delay_up_to_30_s_and_resets_it_after_a_stable_run():
    clock = Clock()
    child = Child("beat", FAILER)
    sup, lines = supervisor(child, clock=clock)
    sup.start_all()
    try:
        for _ in range(7):
            child.proc.wait(30)
            sup.check()  # notices the exit, schedules the restart
            clock.now = child.restart_at
            sup.check()  # restarts
        delays = [line.rsplit(" in ", 1)[1] for line in lines]
        assert delays == ["1 s", "2 s", "4 s", "8 s", "16 s", "30 s", "30 s"]
        assert all(line.startswith("beat exited with code 3;") for line in lines)

        # Up for a minute, then killed: a fresh failure, back to the shortest delay.
        child.proc.wait(30)
        child.argv = SLEEPER
        sup.check()
        clock.now = child.restart_at
        sup.check()
        clock.now += 60
        child.proc.send_signal(signal.SIGKILL)
        child.proc.wait(30)
        sup.check()
        assert lines[-1] == "beat exited with code -9; restarting in 1 s"
    finally:
        sup.stop_all()


def test_it_stops_every_process_of_a_child_group(tmp_path):
    """A child's own children (Celery's pool) are stopped with it."""
    pidfile = tmp_path / "grandchild.pid"
    code = (
        "import pathlib, subprocess, sys, time; "
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
        f"pathlib.Path({str(pidfile)!r}).write_text(str(p.pid)); time.sleep(600)"
    )
    child = Child("web", [sys.executable, "-c", code])
    sup, _ = supervisor(child, clock=Clock())
    sup.start_all()
    try:
        while not pidfile.exists() or not pidfile.read_text():
            assert child.proc.poll() is None
            time.sleep(0.02)
        grandchild = int(pidfile.read_text())
        assert _alive(grandchild)
    finally:
        sup.stop_all()
    assert child.proc.poll() is not None
    # The group got SIGKILL; the kernel finishes the grandchild asynchronously: wait for it
    # (a survivor fails after a deadline no machine needs).
    deadline = time.monotonic() + 30
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_it_takes_its_children_along_when_it_is_killed(tmp_path):
    """SIGKILL leaves the supervisor no chance to clean up; its children go all the same."""
    import subprocess

    pidfile = tmp_path / "child.pid"
    code = (
        "import pathlib, sys, time\n"
        "from cloop.supervise import Child, Supervisor\n"
        f"sup = Supervisor([Child('web', {SLEEPER!r})])\n"
        "sup.start_all()\n"
        f"pathlib.Path({str(pidfile)!r}).write_text(str(sup.children[0].proc.pid))\n"
        "time.sleep(600)\n"
    )
    supervisor_proc = subprocess.Popen([sys.executable, "-c", code])  # noqa: S603
    try:
        while not pidfile.exists() or not pidfile.read_text():
            assert supervisor_proc.poll() is None
            time.sleep(0.02)
        child = int(pidfile.read_text())
        assert _alive(child)
    finally:
        supervisor_proc.kill()
        supervisor_proc.wait(30)
    deadline = time.monotonic() + 60
    while _alive(child):
        assert time.monotonic() < deadline, "the child outlived its supervisor"
        time.sleep(0.05)
