"""Soak benchmark: the running platform under mixed traffic for --minutes (default 30).

Usage:
  .venv/bin/python bench/soak.py [--minutes 30] [--scale 1.0] [--port P] [--data-dir D]
  .venv/bin/python bench/soak.py --attach http://localhost:8000   # a platform already running

By default it starts `make run`'s processes itself (`python -m cloop.run`) on a free port with
its own CLOOP_DATA_DIR (its own embedded PostgreSQL and Redis), and stops them at the end.
With --attach it drives a running platform and runs staff commands in this environment
(DATABASE_URL / REDIS_URL, or the embedded servers of CLOOP_DATA_DIR).

Traffic (one client process, asyncio): 1,000 idle widget sockets, 50 chatting visitors,
an admin user walking every admin page, 3 API token clients, /healthz and static files,
`manage.py crawl demo --queue` every 5 minutes, `manage.py gdpr demo export/erase` of a
visitor it created every minute. --scale multiplies the number of clients.

Every 10 s it samples PostgreSQL connections per application_name (or per process),
RSS and open files per process, Redis clients, 5xx, error frames, time to first delta,
messages sent / answered / lost. Writes docs/soak.json and docs/soak.png; exits 1 when a
bound is broken (docs/platform.md, "Soak").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import soak_traffic as traffic  # noqa: E402
from soak_platform import (  # noqa: E402
    ROOT,
    SITE_ID,
    Platform,
    free_port,
    platform_attach,
    platform_start,
    platform_stop,
    proc_stats,
    raise_fd_limit,
)
from soak_report import report_write, verdict  # noqa: E402

SAMPLE_EVERY = 10.0
# Used until the platform has cloop.db.connection_budgets() (--budget overrides either).
BUDGETS_FALLBACK = {"web": 20, "worker": 6, "beat": 2, "manage": 4}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the number of clients")
    ap.add_argument("--admins", type=int, default=1, help="admin users walking the admin")
    ap.add_argument("--attach", metavar="URL", help="drive a platform already running at URL")
    ap.add_argument("--port", type=int, help="port of the platform we start (default: a free one)")
    ap.add_argument("--data-dir", type=Path, default=ROOT / ".cloop" / "soak")
    ap.add_argument("--budget", default="", help="e.g. web=20,worker=6: connection budgets")
    ap.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "soak", help="writes OUT.json, OUT.png"
    )
    return ap.parse_args(argv)


def budgets_resolve(spec: str, from_platform: dict | None) -> tuple[dict, str]:
    budgets, source = (
        (from_platform, "cloop.db.connection_budgets()")
        if from_platform
        else (
            dict(BUDGETS_FALLBACK),
            "fallback defaults",
        )
    )
    for item in filter(None, spec.split(",")):
        name, _, n = item.partition("=")
        budgets[name.strip().removeprefix("cloop-")] = int(n)
        source += " + --budget"
    return budgets, source


async def staff_jobs(p: Platform, stats: traffic.Stats, end: float) -> None:
    """Every minute a GDPR export + erase of a visitor the soak creates; every 5 minutes a
    queued crawl of the demo site."""
    next_crawl = time.monotonic()  # the first at once: its imports belong to the warm-up
    while time.monotonic() < end:
        started = time.monotonic()
        await gdpr_round(p, stats)
        if time.monotonic() >= next_crawl:
            next_crawl += 300
            code, out, err, _ = await p.manage("crawl", SITE_ID, "--queue", "--json")
            if code == 0:
                stats.commands["crawl queued"] += 1
            elif "already" in err:
                stats.commands["crawl busy (skipped)"] += 1
            else:
                stats.commands["crawl failed"] += 1
                stats.note("command", f"crawl --queue: {err.strip()[-400:]}")
        await asyncio.sleep(max(0.0, 60 - (time.monotonic() - started)))


async def gdpr_round(p: Platform, stats: traffic.Stats) -> None:
    visitor = str(uuid.uuid4())
    opened = await traffic.ws_open(p, stats, visitor)
    if opened is None:
        return
    ws, _ = opened
    try:
        cmid = str(uuid.uuid4())
        stats.sent += 1
        stats.pending[cmid] = time.monotonic()
        await traffic.ask(ws, stats, cmid, random.choice(traffic.QUESTIONS))
    except Exception as exc:  # noqa: BLE001 - the socket's failure is counted by ask/ws_open
        stats.note("gdpr", f"visitor chat: {type(exc).__name__} {exc}")
    finally:
        await ws.close()
    for action, extra in (("export", ()), ("erase", ("--yes",))):
        code, out, err, _ = await p.manage(
            "gdpr", SITE_ID, action, "--visitor-id", visitor, "--json", *extra
        )
        ok = code == 0 and (action != "export" or '"messages"' in out)
        stats.commands[f"gdpr {action} {'ok' if ok else 'failed'}"] += 1
        if not ok:
            stats.note("command", f"gdpr {action}: exit {code}: {err.strip()[-400:]}")


def counters(stats: traffic.Stats, t0: float) -> dict:
    """The clients' side of a sample; runs on the event loop (it resets the window)."""
    ttfd = sorted(stats.window_ttfd)
    stats.window_ttfd = []
    stats.lost_check()
    return {
        "t": round(time.monotonic() - t0, 1),
        "requests": sum(stats.requests.values()),
        "http_5xx": sum(stats.status_5xx.values()),
        "http_failures": sum(stats.http_failures.values()),
        "ws_open": stats.ws_open,
        "ws_sessions": stats.ws_sessions,
        "error_frames": dict(stats.error_frames),
        "sent": stats.sent,
        "answered": stats.answered,
        "lost": stats.lost,
        "ttfd_n": len(ttfd),
        "ttfd_p50": _pct(ttfd, 50),
        "ttfd_p95": _pct(ttfd, 95),
    }


def resources(p: Platform, probe) -> dict:
    """The platform's side of a sample (blocking reads: run it in a thread)."""
    procs = {}
    for label, pid in p.processes().items():
        st = proc_stats(pid)
        if st:
            procs[label] = st
    try:
        pg = probe.pg()
    except Exception as exc:  # noqa: BLE001 - recorded; the probe's connection may have dropped
        pg = {"error": f"{type(exc).__name__}: {exc}"}
    return {"pg": pg, "redis_clients": probe.redis_clients(), "processes": procs}


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    return round(values[max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))], 3)


async def soak(p: Platform, probe, args, budgets: dict) -> tuple[list, traffic.Stats, float]:
    stats = traffic.Stats()
    t0 = time.monotonic()
    end = t0 + args.minutes * 60

    def n(count: int) -> int:
        return max(1, round(count * args.scale))

    gate = asyncio.Semaphore(50)  # sockets opening at once
    tasks = [asyncio.create_task(traffic.idle_socket(p, stats, gate, end)) for _ in range(n(1000))]
    tasks += [asyncio.create_task(traffic.chat_visitor(p, stats, end)) for _ in range(n(50))]
    tasks += [asyncio.create_task(traffic.admin_walker(p, stats, end)) for _ in range(args.admins)]
    tasks += [asyncio.create_task(traffic.api_client(p, stats, end)) for _ in range(n(3))]
    tasks.append(asyncio.create_task(traffic.poller(p, stats, end, "healthz", ["/healthz"], 2)))
    static = [
        "/widget.js",
        "/static/admin/css/base.css",
        f"/widget/config/{SITE_ID}/",
        "/demo/",
        "/demo/pricing/",
    ]
    tasks.append(asyncio.create_task(traffic.poller(p, stats, end, "static", static, 1)))
    tasks.append(asyncio.create_task(staff_jobs(p, stats, end)))
    samples = []
    while time.monotonic() < end:
        await asyncio.sleep(min(SAMPLE_EVERY, max(0.0, end - time.monotonic())))
        s = counters(stats, t0) | await asyncio.to_thread(resources, p, probe)
        samples.append(s)
        _progress(s, budgets)
    # Let the questions in flight finish (or become lost) before the last count.
    deadline = time.monotonic() + traffic.LOST_AFTER + 5
    while stats.pending and time.monotonic() < deadline:
        await asyncio.sleep(1)
        stats.lost_check()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    stats.lost_check()
    stats.lost += len(stats.pending)  # cancelled with no answer after the grace period
    return samples, stats, time.monotonic() - t0


def _progress(s: dict, budgets: dict) -> None:
    pg = s["pg"].get("by_role", s["pg"])
    rss = " ".join(f"{k}={v['rss_mib']:.0f}" for k, v in s["processes"].items() if "child" not in k)
    print(
        f"[soak] t={s['t']:6.0f}s pg={s['pg'].get('total', '?')} {pg} "
        f"redis={s['redis_clients']} ws_open={s['ws_open']} req={s['requests']} "
        f"5xx={s['http_5xx']} fail={s['http_failures']} sent={s['sent']} ans={s['answered']} "
        f"lost={s['lost']} ttfd95={s['ttfd_p95']} rss(MiB) {rss}",
        flush=True,
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    soft, hard = raise_fd_limit()
    need = round(1000 * args.scale) + 200
    if soft < need:
        print(f"[soak] warning: open-files limit {soft} < {need} needed", flush=True)
    if args.attach:
        p = platform_attach(args.attach)
    else:
        port = args.port or free_port()
        log = args.data_dir.with_suffix(".log")
        print(
            f"[soak] starting the platform on port {port} (data {args.data_dir}, log {log}) ...",
            flush=True,
        )
        p = platform_start(port, args.data_dir, log)
    try:
        return asyncio.run(run(p, args))
    finally:
        if p.supervisor is not None:
            print("[soak] stopping the platform ...", flush=True)
            platform_stop(p.supervisor)


async def run(p: Platform, args) -> int:
    from soak_probe import Probe

    probe = await asyncio.to_thread(Probe, p.env)
    await p.prepare(quota=10_000_000)
    budgets, source = budgets_resolve(args.budget, await asyncio.to_thread(_budgets_platform, p))
    print(
        f"[soak] {p.base_url}: {args.minutes} min, scale {args.scale}; budgets {budgets} ({source})",
        flush=True,
    )
    samples, stats, seconds = await soak(p, probe, args, budgets)
    probe.close()
    meta = {
        "base_url": p.base_url,
        "minutes": args.minutes,
        "scale": args.scale,
        "seconds": round(seconds, 1),
        "budgets": budgets,
        "budget_source": source,
        "max_connections": probe.max_connections,
        "attached": bool(args.attach),
    }
    failures = verdict(samples, stats, meta)
    report_write(args.out, samples, stats, meta, failures)
    return 1 if failures else 0


def _budgets_platform(p: Platform):
    """cloop.db.connection_budgets() read in a child with the platform's environment (pool
    sizes come from CLOOP_DB_POOL_MAX); None when the platform has no such function."""
    import subprocess

    code = "import json\nfrom cloop.db import connection_budgets\nprint(json.dumps(connection_budgets()))"
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=p.env, capture_output=True, text=True
    )
    if r.returncode != 0:
        return None
    return {
        k.removeprefix("cloop-"): int(v) for k, v in json.loads(r.stdout.splitlines()[-1]).items()
    }


if __name__ == "__main__":
    sys.exit(main())
