"""The production shape on one machine: 2 ASGI processes behind HAProxy, 2 Celery workers, beat.

Usage: .venv/bin/python bench/cluster.py [--database-url URL] [--redis-url URL]
       [--streams 200] [--tokens 100] [--rounds 2] [--out docs/cluster.json]

Runs against a PostgreSQL and a Redis server (default: the machine's, database
`cloop_cluster` — dropped and created afresh — and Redis db 10, flushed), with DEBUG off and
the README's production commands (bench/cluster_lib.py), and shows:

a) resume: a visitor whose ASGI process is SIGKILLed mid-answer reconnects through the
   balancer to the other process and resends the message (same visitor id, same
   client_message_id); it is stored once and answered once;
b) crawls of 4 sites (loopback websites) run in parallel on the 2 workers (task events);
c) beat's scheduled tasks run once per site per tick (beat runs with every entry due every
   CLOOP_BENCH_BEAT_SECONDS, bench/cluster_settings.py; `--beats 2` starts a second beat);
d) STREAMS simultaneous answer streams of TOKENS tokens at 50 tokens/s from the loopback
   model (bench/chat_llm_server.py) through the balancer with 1 ASGI process (the other in
   maintenance) and with 2: tokens/s delivered, first-delta p50/p95, lost and reordered
   tokens, CPU seconds of each process.

Writes the figures to docs/cluster.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench.cluster_lib import (  # noqa: E402
    Cluster,
    SiteServer,
    TaskEvents,
    free_port,
    stored_messages,
    visitor_resume_across_kill,
)

ORIGIN = "http://cloop.bench"
RATE = 50
CHAT_SITE = "cluster-chat"
CRAWL_SITES = [f"cluster-crawl-{i}" for i in range(1, 5)]
QUESTIONS = ("How much does the Pro plan cost?", "Is support included in every plan?")


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def database_recreate(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def sites_prepare(site_servers: list[SiteServer]):
    from django_tenants.utils import tenant_context

    from conversations.models import SiteSettings
    from crawler.models import CrawlSettings
    from tenants.services import site_create
    from tests.conversations.pages import PAGES_A, index_pages

    chat = site_create(CHAT_SITE, name="Chat Oy", url="http://site-a.test/", origins=[ORIGIN]).site
    index_pages(chat, PAGES_A)
    with tenant_context(chat):
        SiteSettings.objects.update_or_create(pk=1, defaults={"daily_message_quota": 10_000_000})
        # No scheduled crawl of its (unreachable) fixture URL while beat ticks.
        CrawlSettings.objects.update_or_create(pk=1, defaults={"recrawl_interval_hours": 0})
    crawl_sites = [
        site_create(site_id, name=site_id, url=server.url).site
        for site_id, server in zip(CRAWL_SITES, site_servers, strict=True)
    ]
    return chat, crawl_sites


# --- a) resume -------------------------------------------------------------------------------


def resume_check(cluster: Cluster, chat_site) -> dict:
    result = asyncio.run(visitor_resume_across_kill(cluster, CHAT_SITE, ORIGIN, QUESTIONS))
    stored = stored_messages(chat_site, result.visitor_id)
    expected = [
        ("visitor", "m1", ""),
        ("assistant", "m1", ""),
        ("visitor", "m2", ""),
        ("assistant", "m2", ""),
    ]
    answer = result.resent_answer
    return {
        "ok": stored == expected
        and result.resumed_backend != result.killed_backend
        and answer["type"] == "answer"
        and not answer.get("duplicate")
        and result.ready_after["visitor_id"] == result.visitor_id
        and result.ready_after["conversation_id"] == result.first_answer["conversation_id"],
        "killed": result.killed_backend,
        "resumed_on": result.resumed_backend,
        "frames_before_kill": [f["type"] for f in result.frames_before_kill],
        "history_after_reconnect": result.history_roles,
        "resent_answer": {k: answer.get(k) for k in ("type", "client_message_id", "duplicate")},
        "stored": stored,
        "kill_to_ready_seconds": round(result.reconnect_seconds, 3),
        "resend_to_answer_seconds": round(result.answer_seconds, 3),
    }


# --- b) crawls -------------------------------------------------------------------------------


def crawls_check(events: TaskEvents, crawl_sites: list, pages: int) -> dict:
    from django.db import transaction
    from django_tenants.utils import tenant_context

    from crawler.models import CrawlRun
    from crawler.tasks import crawl_request

    started = time.time()
    for site in crawl_sites:
        with tenant_context(site), transaction.atomic():
            crawl_request(site, "manual")

    def crawls():
        return [
            t
            for t in events.tasks().values()
            if t.get("name") == "crawler.crawl_site" and t.get("received", 0) >= started
        ]

    deadline = time.monotonic() + 600
    while sum(1 for t in crawls() if "succeeded" in t or "failed" in t) < len(crawl_sites):
        if time.monotonic() > deadline:
            raise RuntimeError(f"crawls did not finish: {crawls()}")
        time.sleep(0.2)
    tasks = crawls()
    spans = [(t["started"], t.get("succeeded") or t.get("failed")) for t in tasks]
    # Most crawls running at one moment (from the workers' own start/end events).
    most = max(sum(1 for s, e in spans if s <= at < e) for at, _ in spans)
    runs = []
    for site in crawl_sites:
        with tenant_context(site):
            run = CrawlRun.objects.order_by("-pk").first()
            runs.append(
                {"site": site.site_id, "status": run.status, "pages_indexed": run.pages_indexed}
            )
    return {
        "ok": most == len(crawl_sites)
        and all(r["status"] == "succeeded" and r["pages_indexed"] == pages for r in runs),
        "most_at_once": most,
        "workers": sorted(Counter(t["hostname"] for t in tasks).items()),
        "wall_seconds": round(max(e for _, e in spans) - min(s for s, _ in spans), 2),
        "sum_of_task_seconds": round(sum(e - s for s, e in spans), 2),
        "runs": runs,
    }


# --- c) beat ---------------------------------------------------------------------------------


def beat_check(cluster: Cluster, events: TaskEvents, beats: int, interval: float, sites: int):
    from django.conf import settings

    names = sorted(entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values())
    started = time.time()
    for i in range(beats):
        cluster.beat_start(
            f"beat{i + 1}",
            env={
                "DJANGO_SETTINGS_MODULE": "bench.cluster_settings",
                "CLOOP_BENCH_BEAT_SECONDS": str(interval),
            },
        )
    # Beat's first tick comes one interval after it starts; watch that tick and stop before
    # the next one (1.5 intervals after the first).
    deadline = time.monotonic() + 120
    first = None
    while True:
        ran = [
            t
            for t in events.tasks().values()
            if t.get("name") in names and t.get("received", 0) >= started
        ]
        if ran and first is None:
            first = min(t["received"] for t in ran)
        if first is not None and time.time() > first + interval * 0.9:
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    counts = Counter(t["name"] for t in ran if t["received"] < first + interval * 0.9)
    for name in list(cluster.procs):
        if name.startswith("beat"):
            cluster.stop_one(name)
    return {
        "ok": all(counts[n] == sites for n in names),
        "beats_started": beats,
        "interval_seconds": interval,
        "sites": sites,
        "runs_per_task_in_one_tick": dict(sorted(counts.items())),
        "expected_per_task": sites,
    }


# --- d) streams ------------------------------------------------------------------------------


async def one_stream(url: str, expected: list[str], results: list) -> None:
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    try:
        await _one_stream(url, expected, results)
    except InvalidStatus as exc:  # the balancer gave up on the handshake (e.g. 504)
        status = exc.response.status_code
        results.append(_failed({"type": "error", "code": f"handshake_{status}"}))
    except TimeoutError:  # no handshake within open_timeout: the process is starved
        results.append(_failed({"type": "error", "code": "handshake_timeout"}))
    except ConnectionClosed as exc:  # e.g. a keepalive ping unanswered on a starved machine
        results.append(_failed({"type": "error", "code": f"closed_{exc.rcvd and exc.rcvd.code}"}))


def _failed(frame: dict) -> dict:
    # A failed answer (handshake refused, model_timeout): not a frame lost in transit.
    return {
        "exact": False,
        "error": frame,
        "lost": 0,
        "reordered": False,
        "tokens": 0,
        "first": None,
        "done": time.perf_counter(),
    }


async def _one_stream(url: str, expected: list[str], results: list) -> None:
    from websockets.asyncio.client import connect

    async with connect(
        url,
        origin=ORIGIN,
        proxy=None,
        max_size=None,
        open_timeout=300,
        compression=None,
        ping_interval=None,
    ) as ws:
        await ws.send(json.dumps({"type": "hello", "visitor_id": str(uuid.uuid4())}))
        while json.loads(await ws.recv())["type"] != "ready":
            pass
        sent = time.perf_counter()
        await ws.send(
            json.dumps({"type": "message", "text": QUESTIONS[0], "client_message_id": "s"})
        )
        pieces, first = [], None
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 300))
            if frame["type"] == "delta":
                first = first if first is not None else time.perf_counter() - sent
                pieces.append(frame["text"])
            elif frame["type"] == "answer":
                got = "".join(pieces).split(" ")
                results.append(
                    {
                        "exact": got == expected,
                        "lost": sum((Counter(expected) - Counter(got)).values()),
                        "reordered": Counter(got) == Counter(expected) and got != expected,
                        "tokens": len(got) if got != [""] else 0,
                        "first": first,
                        "done": time.perf_counter(),
                    }
                )
                return
            else:
                results.append(_failed(frame))
                return


def streams_run(
    cluster: Cluster, web: list[str], streams: int, expected: list[str], llm_pid: int
) -> dict:
    url = cluster.url.replace("http://", "ws://") + f"/ws/chat/{CHAT_SITE}/"
    results: list = []
    cpu0 = {n: cpu_seconds(cluster.procs[n].popen.pid) for n in web}
    # Everything else this bench runs on the same 2 cores: the clients (this process), the
    # model server, HAProxy.
    pids = {"model_server": llm_pid, "haproxy": cluster.procs["haproxy"].popen.pid}
    other0 = {n: cpu_seconds(pid) for n, pid in pids.items()}
    client0 = time.process_time()
    load0 = os.getloadavg()[0]
    started = time.perf_counter()

    async def run():
        await asyncio.gather(*(one_stream(url, expected, results) for _ in range(streams)))

    asyncio.run(run())
    wall = time.perf_counter() - started
    cpu = {n: round(cpu_seconds(cluster.procs[n].popen.pid) - cpu0[n], 1) for n in web}
    others = {n: round(cpu_seconds(pid) - other0[n], 1) for n, pid in pids.items()}
    others["clients"] = round(time.process_time() - client0, 1)
    firsts = [r["first"] for r in results if r["first"] is not None]
    tokens = sum(r["tokens"] for r in results if not r.get("error"))
    return {
        "processes": len(web),
        "streams": streams,
        "exact": sum(r["exact"] for r in results),
        "failed_answers": dict(Counter(r["error"]["code"] for r in results if r.get("error"))),
        "lost_tokens": sum(r["lost"] for r in results),
        "reordered_streams": sum(r["reordered"] for r in results),
        "tokens_delivered": tokens,
        "wall_seconds": round(wall, 2),
        "tokens_per_second": round(tokens / wall),
        "first_delta_p50_ms": round(pct(firsts, 50) * 1000) if firsts else None,
        "first_delta_p95_ms": round(pct(firsts, 95) * 1000) if firsts else None,
        "web_cpu_seconds": cpu,
        "web_cpu_share_of_wall": {n: round(c / wall, 2) for n, c in cpu.items()},
        # Tokens per CPU-second of the web processes: their efficiency, whatever CPU the
        # machine's other work left them.
        "tokens_per_web_cpu_second": round(tokens / max(0.1, sum(cpu.values()))),
        "other_cpu_seconds": others,
        "load_average_before": round(load0, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
    }


def streams_compare(cluster: Cluster, streams: int, tokens: int, rounds: int, llm_pid: int) -> dict:
    from chat_llm_server import reply_for

    expected = reply_for(tokens).split(" ")
    runs = []
    for _ in range(rounds):
        # Alternate 1 and 2 processes so both see the same background load on average.
        for web in (["web1"], ["web1", "web2"]):
            state = "ready" if len(web) == 2 else "maint"
            cluster.haproxy_command(f"set server web/web2 state {state}")
            cluster.wait_until(
                lambda s=state: (
                    cluster.servers_up().get("web2") == ("UP" if s == "ready" else "MAINT")
                ),
                "web2's state",
            )
            runs.append(streams_run(cluster, web, streams, expected, llm_pid))
            print(f"  {json.dumps(runs[-1])}", flush=True)
    one = [r for r in runs if r["processes"] == 1]
    two = [r for r in runs if r["processes"] == 2]
    best1 = max(r["tokens_per_second"] for r in one)
    best2 = max(r["tokens_per_second"] for r in two)
    return {
        "rate_tokens_per_second_per_stream": RATE,
        "tokens_per_answer": tokens,
        "runs": runs,
        "best_tokens_per_second": {"1": best1, "2": best2},
        "scaling_best": round(best2 / best1, 2),
        "scaling_median": round(
            sorted(r["tokens_per_second"] for r in two)[len(two) // 2]
            / sorted(r["tokens_per_second"] for r in one)[len(one) // 2],
            2,
        ),
        "lost_tokens": sum(r["lost_tokens"] for r in runs),
        "reordered_streams": sum(r["reordered_streams"] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/cloop_cluster"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--tokens", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--beats", type=int, default=1)
    parser.add_argument("--beat-seconds", type=float, default=20)
    parser.add_argument("--crawl-pages", type=int, default=40)
    parser.add_argument("--out", default=str(ROOT / "docs" / "cluster.json"))
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: a,b,c,d")
    args = parser.parse_args()
    skip = set(args.skip.split(","))

    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    database_recreate(args.database_url)
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    llm_port = free_port()
    env = {
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-" + "k" * 50,
        # No TLS proxy in front in this bench: HAProxy speaks plain HTTP to the processes.
        "SECURE_SSL_REDIRECT": "0",
        "CLOOP_PUBLIC_URL": ORIGIN,
        "CLOOP_CRAWL_ALLOW_PRIVATE": "1",
        "CLOOP_LLM_MODEL": "openai/gpt-4o-mini",
        "OPENAI_API_BASE": f"http://127.0.0.1:{llm_port}/v1",
        "OPENAI_API_KEY": "sk-bench",
        "DJANGO_SETTINGS_MODULE": "cloop.settings",
    }
    os.environ.update(env)
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "migrate_platform", "-v", "0"], cwd=ROOT, check=True
    )
    import django

    django.setup()
    from cloop.celery import app

    site_servers = [SiteServer(pages=args.crawl_pages) for _ in CRAWL_SITES]
    chat_site, crawl_sites = sites_prepare(site_servers)
    llm = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            str(ROOT / "bench" / "chat_llm_server.py"),
            str(llm_port),
            str(args.tokens),
            str(1 / RATE),
        ],
        cwd=ROOT,
    )
    report: dict = {
        "machine": {"cores": os.cpu_count(), "load_average_at_start": os.getloadavg()},
        "topology": "2 x uvicorn (README production flags) behind HAProxy "
        "(roundrobin, /healthz checks, timeout tunnel), 2 Celery workers (--concurrency 2), beat",
    }
    out = Path(args.out)
    with tempfile.TemporaryDirectory(prefix="cloop-cluster-") as tmp:
        cluster = Cluster(Path(tmp), env)
        try:
            t = time.perf_counter()
            for name in ("web1", "web2"):
                cluster.web_start(name)
            for name in ("worker1", "worker2"):
                cluster.worker_start(name, concurrency=2)
            cluster.wait_web_healthy(["web1", "web2"])
            cluster.balancer_start(["web1", "web2"])
            cluster.wait_balanced(["web1", "web2"])
            report["start_seconds"] = round(time.perf_counter() - t, 1)
            with TaskEvents(app) as events:
                if "a" not in skip:
                    print("a) resume across a killed ASGI process ...", flush=True)
                    report["resume"] = resume_check(cluster, chat_site)
                    print(f"  {json.dumps(report['resume'])}", flush=True)
                    killed = report["resume"]["killed"]
                    cluster.web_restart(killed)  # back for the stream comparison
                if "b" not in skip:
                    print("b) 4 crawls on 2 workers ...", flush=True)
                    report["crawls"] = crawls_check(events, crawl_sites, args.crawl_pages)
                    print(f"  {json.dumps(report['crawls'])}", flush=True)
                if "c" not in skip:
                    print("c) beat's scheduled tasks ...", flush=True)
                    report["beat"] = beat_check(
                        cluster, events, args.beats, args.beat_seconds, 1 + len(crawl_sites)
                    )
                    print(f"  {json.dumps(report['beat'])}", flush=True)
            if "d" not in skip:
                print(f"d) {args.streams} streams, 1 vs 2 ASGI processes ...", flush=True)
                report["streams"] = streams_compare(
                    cluster, args.streams, args.tokens, args.rounds, llm.pid
                )
            report["tracebacks"] = {
                name: proc.output().count("Traceback") for name, proc in cluster.procs.items()
            }
        finally:
            cluster.stop()
            llm.terminate()
            llm.wait()
            for server in site_servers:
                server.stop()
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "streams"}, indent=1))
    if "streams" in report:
        s = report["streams"]
        print(json.dumps({k: v for k, v in s.items() if k != "runs"}, indent=1))


if __name__ == "__main__":
    main()
