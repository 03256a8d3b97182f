"""Memory of the ASGI process under WebSocket handshakes to random site ids.

Usage: .venv/bin/python bench/site_cache_memory.py [IDS]   (default 100,000)

Starts uvicorn as `make run` does (its own process), opens one warm-up socket to a real site,
then opens sockets to IDS random, unknown site ids (each refused with 403 after a database
look-up, which the site cache remembers) and reads the server's resident memory (VmRSS)
before and after. Per-process caches keyed by client input must stay bounded: the growth
should not depend on IDS. At most 100 handshakes are in flight at once; loopback only. The
server runs with DEBUG off (production); the RSS after each tenth of IDS shows the slope.
"""

from __future__ import annotations

import asyncio
import secrets
import string
import sys
import time

from chat_common import ORIGIN, SITE_ID, bench_site_ensure, raise_fd_limit, rss_kib, server_start

ALPHABET = string.ascii_lowercase + string.digits


def random_site_id() -> str:
    # Matches the route's pattern, so each one reaches the consumer (and the site cache).
    return "r" + "".join(secrets.choice(ALPHABET) for _ in range(20))


async def handshakes(port: int, n: int) -> dict[int | str, int]:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    gate = asyncio.Semaphore(100)
    outcomes: dict[int | str, int] = {}

    async def one(site_id: str) -> None:
        async with gate:
            try:
                async with connect(
                    f"ws://127.0.0.1:{port}/ws/chat/{site_id}/",
                    origin=ORIGIN,
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
        await asyncio.gather(*(one(random_site_id()) for _ in range(min(batch, n - start))))
    return outcomes


async def measure(port: int, pid: int, n: int) -> None:
    from websockets.asyncio.client import connect

    async with connect(f"ws://127.0.0.1:{port}/ws/chat/{SITE_ID}/", origin=ORIGIN, proxy=None):
        pass
    await handshakes(port, 2000)  # warm-up: thread pools, DB connections, allocator arenas
    before = rss_kib(pid)
    started = time.perf_counter()
    outcomes: dict[int | str, int] = {}
    step = max(1, n // 10)
    for done in range(0, n, step):
        for key, count in (await handshakes(port, min(step, n - done))).items():
            outcomes[key] = outcomes.get(key, 0) + count
        # The slope tells a leak (growth per handshake) from a one-time warm-up step.
        print(
            f"  after {done + min(step, n - done)}: RSS {rss_kib(pid) / 1024:.1f} MiB", flush=True
        )
    seconds = time.perf_counter() - started
    after = rss_kib(pid)
    print(
        f"{n} handshakes to random site ids in {seconds:.0f} s ({n / seconds:.0f}/s), "
        f"outcomes {outcomes}; server RSS {before / 1024:.1f} MiB -> {after / 1024:.1f} MiB "
        f"= {(after - before) / 1024:+.1f} MiB"
    )


def main(n: int) -> None:
    raise_fd_limit()
    bench_site_ensure()  # ORIGIN is the server's own public URL: the warm-up socket opens
    # DEBUG off, as in production: with DEBUG on, Django keeps each thread's last 9,000
    # queries (connection.queries_log), which alone grows the process by ~30 MiB here.
    proc, port = server_start({"DEBUG": "0"})
    try:
        asyncio.run(measure(port, proc.pid, n))
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
