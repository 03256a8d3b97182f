"""Memory of the ASGI process under WebSocket handshakes to random site ids.

Usage: .venv/bin/python bench/site_cache_memory.py [IDS] [--warmup N] [--same]
       (defaults: 100,000 ids after a warm-up of 10,000 handshakes)

Starts uvicorn as `make run` does (its own process), opens one socket to a real site, then
WARMUP handshakes to random ids, then IDS handshakes to random, unknown site ids (each
refused with 403 after a database look-up, which the site cache remembers) and reads the
server's resident memory (VmRSS) before and after, and after each tenth (the slope). Caches
keyed by client input must stay bounded: the growth must not depend on IDS. At most 100
handshakes are in flight at once; loopback only; DEBUG off (production).

Why a warm-up of 10,000: from a cold process, RSS climbs by ~45 MiB over the first few
thousand handshakes and then stays flat, whatever the cache size (the same climb with a
cache of 16 entries). Measured inside the server (glibc mallinfo2, Python's obmalloc stats):
Python's object arenas stay flat; it is the C heap rising to the high-water mark of 100
handshakes in flight (buffers of the sockets, psycopg, asyncio), which glibc keeps mapped.
That working set depends on concurrency, not on how many distinct ids were seen.

--same is the control: the same number of handshakes, all to the real site with a foreign
Origin (refused 403 from the cache, no new cache entry), so the difference between the two
runs is what distinct ids cost.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import string
import time
from pathlib import Path

from chat_common import ORIGIN, SITE_ID, bench_site_ensure, raise_fd_limit, rss_kib, server_start

ALPHABET = string.ascii_lowercase + string.digits


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def random_site_id() -> str:
    # Matches the route's pattern, so each one reaches the consumer (and the site cache).
    return "r" + "".join(secrets.choice(ALPHABET) for _ in range(20))


async def handshakes(port: int, n: int, same: bool = False) -> dict[int | str, int]:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    gate = asyncio.Semaphore(100)
    outcomes: dict[int | str, int] = {}

    async def one(site_id: str) -> None:
        async with gate:
            try:
                async with connect(
                    f"ws://127.0.0.1:{port}/ws/chat/{site_id}/",
                    origin="https://elsewhere.example" if same else ORIGIN,
                    proxy=None,
                    open_timeout=60,
                ):
                    key: int | str = 101
            except InvalidStatus as exc:
                key = exc.response.status_code
            except Exception as exc:  # noqa: BLE001 - counted and shown, the run goes on
                key = type(exc).__name__
            outcomes[key] = outcomes.get(key, 0) + 1

    batch = 5000  # bounded task creation
    for start in range(0, n, batch):
        ids = (SITE_ID if same else random_site_id() for _ in range(min(batch, n - start)))
        await asyncio.gather(*(one(site_id) for site_id in ids))
    return outcomes


async def measure(port: int, pid: int, n: int, warmup: int, same: bool) -> None:
    from websockets.asyncio.client import connect

    async with connect(f"ws://127.0.0.1:{port}/ws/chat/{SITE_ID}/", origin=ORIGIN, proxy=None):
        pass
    # Warm-up: thread pools, pooled DB connections, the C heap's working set (see above).
    await handshakes(port, warmup)
    before = rss_kib(pid)
    print(f"  after warm-up: RSS {before / 1024:.1f} MiB, {threads(pid)} threads", flush=True)
    started = time.perf_counter()
    outcomes: dict[int | str, int] = {}
    step = max(1, n // 10)
    for done in range(0, n, step):
        batch = await handshakes(port, min(step, n - done), same=same)
        for key, count in batch.items():
            outcomes[key] = outcomes.get(key, 0) + count
        # The slope tells a leak (growth per handshake) from a one-time warm-up step.
        print(
            f"  after {done + min(step, n - done)}: RSS {rss_kib(pid) / 1024:.1f} MiB, "
            f"{threads(pid)} threads",
            flush=True,
        )
    seconds = time.perf_counter() - started
    after = rss_kib(pid)
    print(
        f"{n} handshakes to {'the real site, foreign origin' if same else 'random site ids'} in {seconds:.0f} s ({n / seconds:.0f}/s), "
        f"outcomes {outcomes}; server RSS {before / 1024:.1f} MiB -> {after / 1024:.1f} MiB "
        f"= {(after - before) / 1024:+.1f} MiB"
    )


def main(n: int, warmup: int, same: bool) -> None:
    raise_fd_limit()
    bench_site_ensure()  # ORIGIN is the server's own public URL: the warm-up socket opens
    # DEBUG off, as in production: with DEBUG on, Django keeps each thread's last 9,000
    # queries (connection.queries_log), which alone grows the process by ~30 MiB here.
    proc, port = server_start({"DEBUG": "0"})
    try:
        asyncio.run(measure(port, proc.pid, n, warmup, same))
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", type=int, nargs="?", default=100_000)
    parser.add_argument("--warmup", type=int, default=10_000)
    parser.add_argument("--same", action="store_true", help="control: one real id, refused")
    args = parser.parse_args()
    main(args.ids, args.warmup, args.same)
