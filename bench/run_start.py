"""Time `make run` to a healthy /healthz: a first start (empty data dir) and later starts.

Also checks that Ctrl-C (SIGINT) leaves no process behind.
Usage: .venv/bin/python bench/run_start.py [--fresh-clone]   (uses a temporary CLOOP_DATA_DIR)
With --fresh-clone it clones the repository into a temporary directory first and times the
first `make run` there, virtualenv creation and package installation included.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def start_once(cwd: Path, data_dir: Path, port: int, cmd: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(CLOOP_DATA_DIR=str(data_dir), PORT=str(port))
    t = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    while True:
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            if r.status_code == 200 and r.json()["database"] == r.json()["broker"] == "ok":
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"make run exited early with {proc.returncode}")
        if time.perf_counter() - t > 600:
            raise SystemExit("not healthy within 600 s")
        time.sleep(0.2)
    elapsed = time.perf_counter() - t
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    proc.wait(60)
    time.sleep(1)
    left = subprocess.run(["pgrep", "-af", str(data_dir)], capture_output=True, text=True).stdout
    left += subprocess.run(
        ["pgrep", "-af", f"--port {port}"], capture_output=True, text=True
    ).stdout
    if left.strip():
        raise SystemExit(f"processes left behind after Ctrl-C:\n{left}")
    return elapsed


def main() -> None:
    fresh = "--fresh-clone" in sys.argv
    with tempfile.TemporaryDirectory(prefix="cloop-bench-") as tmp:
        tmp = Path(tmp)
        cwd = ROOT
        if fresh:
            cwd = tmp / "clone"
            subprocess.run(["git", "clone", "-q", str(ROOT), str(cwd)], check=True)
        data = tmp / "data"
        cmd = ["make", "run"] if fresh else [sys.executable, "-m", "cloop.run"]
        first = start_once(cwd, data, 8931, cmd)
        later = [start_once(cwd, data, 8931, cmd) for _ in range(3)]
        what = "fresh clone, venv + install included" if fresh else "existing venv"
        print(f"first start ({what}): {first:.1f} s to healthy")
        print(f"later starts: {', '.join(f'{x:.1f}' for x in later)} s to healthy")
        print("Ctrl-C left no process behind")


if __name__ == "__main__":
    main()
