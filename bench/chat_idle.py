"""Memory per idle chat socket: N idle WebSockets (default 5,000) on one ASGI process.

Usage: .venv/bin/python bench/chat_idle.py [SOCKETS]

Each client opens the socket, sends `hello` and waits for `ready`, then stays idle. The
server's resident memory (VmRSS) is read after one warm-up socket and again with all sockets
open and idle; the difference divided by N is the memory per idle socket. Run with and without
permessage-deflate (browsers negotiate it by default; a zlib context per socket costs memory).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid

from chat_common import ORIGIN, SITE_ID, bench_site_ensure, raise_fd_limit, rss_kib, server_start


async def open_idle(port: int, n: int, compression: str | None) -> tuple[list, float]:
    from websockets.asyncio.client import connect

    gate = asyncio.Semaphore(200)  # open at most 200 at once (a burst, not a SYN flood)
    sockets: list = []

    async def one() -> None:
        async with gate:
            ws = await connect(
                f"ws://127.0.0.1:{port}/ws/chat/{SITE_ID}/",
                origin=ORIGIN,
                proxy=None,
                compression=compression,
                open_timeout=120,
                ping_interval=None,
            )
            await ws.send(json.dumps({"type": "hello", "visitor_id": str(uuid.uuid4())}))
            while json.loads(await ws.recv())["type"] != "ready":
                pass
            sockets.append(ws)

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return sockets, time.perf_counter() - started


async def measure(port: int, pid: int, n: int, compression: str | None) -> None:
    warm, _ = await open_idle(port, 1, compression)
    await asyncio.sleep(2)
    before = rss_kib(pid)
    sockets, seconds = await open_idle(port, n, compression)
    await asyncio.sleep(5)  # idle
    after = rss_kib(pid)
    label = "permessage-deflate" if compression else "no compression"
    print(
        f"{n} idle sockets ({label}): opened + hello/ready in {seconds:.1f} s; server RSS "
        f"{before / 1024:.0f} MiB -> {after / 1024:.0f} MiB = {(after - before) / n:.1f} KiB per socket"
    )
    for ws in sockets + warm:
        await ws.close()


def main(n: int) -> None:
    raise_fd_limit()
    bench_site_ensure()
    for compression in (None, "deflate"):
        proc, port = server_start()
        try:
            asyncio.run(measure(port, proc.pid, n, compression))
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
