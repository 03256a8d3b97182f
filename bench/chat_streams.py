"""N concurrent answer streams (default 200) at 50 tokens/s: no lost or reordered frames.

Usage: .venv/bin/python bench/chat_streams.py [STREAMS] [TOKENS] [WORKERS]

A loopback OpenAI-compatible server streams a known answer of TOKENS tokens (default 100)
at 50 tokens/s to every chat at once (`openai/gpt-4o-mini` through litellm, real HTTP). Each
client checks that its `delta` frames, in arrival order, concatenate to exactly the text the
model sent, that none is missing or extra, and that `answer` comes last.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid

from chat_common import (
    ORIGIN,
    SITE_ID,
    bench_site_ensure,
    cpu_seconds,
    pct,
    raise_fd_limit,
    server_start,
)

RATE = 50  # tokens per second per stream
# Browsers offer permessage-deflate and uvicorn accepts it by default; CLOOP_BENCH_DEFLATE=0
# measures a server started with --ws-per-message-deflate false (same as a client without it).
COMPRESSION = None if os.environ.get("CLOOP_BENCH_DEFLATE") == "0" else "deflate"


async def one_stream(port: int, expected: str, results: list) -> None:
    from websockets.asyncio.client import connect

    async with connect(
        f"ws://127.0.0.1:{port}/ws/chat/{SITE_ID}/",
        origin=ORIGIN,
        proxy=None,
        max_size=None,
        open_timeout=60,
        compression=COMPRESSION,
    ) as ws:
        await ws.send(json.dumps({"type": "hello", "visitor_id": str(uuid.uuid4())}))
        while json.loads(await ws.recv())["type"] != "ready":
            pass
        sent = time.perf_counter()
        await ws.send(
            json.dumps(
                {
                    "type": "message",
                    "text": "How much does the Pro plan cost?",
                    "client_message_id": "s1",
                }
            )
        )
        pieces, gaps, last, first = [], [], None, None
        while True:
            frame = json.loads(await ws.recv())
            now = time.perf_counter()
            if frame["type"] == "delta":
                if first is None:
                    first = now - sent
                if last is not None:
                    gaps.append(now - last)
                last = now
                pieces.append(frame["text"])
            elif frame["type"] == "answer":
                results.append(
                    {
                        "ok": "".join(pieces) == expected,
                        "frames": len(pieces),
                        "first": first,
                        "seconds": now - sent,
                        "max_gap": max(gaps) if gaps else 0,
                    }
                )
                return
            else:
                results.append({"ok": False, "error": frame})
                return


async def run(port: int, streams: int, expected: str) -> list:
    results: list = []
    await asyncio.gather(*(one_stream(port, expected, results) for _ in range(streams)))
    return results


def main(streams: int, tokens: int, workers: int = 1) -> None:
    raise_fd_limit()
    bench_site_ensure()
    from chat_common import ROOT, free_port
    from chat_llm_server import reply_for

    # The model server runs in its own process, so the clients here do not slow it down; it
    # is the asyncio one (the threaded test server cannot pace hundreds of streams).
    llm_port = free_port()
    llm = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            str(ROOT / "bench" / "chat_llm_server.py"),
            str(llm_port),
            str(tokens),
            str(1 / RATE),
        ],
        cwd=ROOT,
    )
    expected = reply_for(tokens)
    proc, port = server_start(
        {
            "CLOOP_LLM_MODEL": "openai/gpt-4o-mini",
            "OPENAI_API_BASE": f"http://127.0.0.1:{llm_port}/v1",
            "OPENAI_API_KEY": "sk-bench",
        },
        workers=workers,
    )
    try:
        started = time.perf_counter()
        cpu0 = cpu_seconds(proc.pid)
        results = asyncio.run(run(port, streams, expected))
        wall = time.perf_counter() - started
        cpu = cpu_seconds(proc.pid) - cpu0
        llm_cpu = cpu_seconds(llm.pid)
    finally:
        proc.terminate()
        proc.wait()
        llm.terminate()
        llm.wait()
    good = [r for r in results if r.get("ok")]
    bad = [r for r in results if not r.get("ok")]
    frames = sum(r["frames"] for r in good)
    print(
        f"{streams} concurrent streams x {tokens} tokens at {RATE} tokens/s, "
        f"{workers} uvicorn worker(s), {COMPRESSION or 'no compression'}: "
        f"{len(good)} exact, {len(bad)} lost/reordered/failed; {streams * tokens} tokens in "
        f"{frames} delta frames (batched); wall {wall:.1f} s "
        f"(ideal {tokens / RATE:.1f} s per stream)"
    )
    if good:
        print(
            f"  per stream: first delta p50 {pct([r['first'] for r in good], 50) * 1000:.0f} ms, "
            f"p95 {pct([r['first'] for r in good], 95) * 1000:.0f} ms; duration p50 "
            f"{pct([r['seconds'] for r in good], 50):.2f} s, p95 {pct([r['seconds'] for r in good], 95):.2f} s; "
            f"largest gap between deltas p95 {pct([r['max_gap'] for r in good], 95) * 1000:.0f} ms"
        )
    print(
        f"  CPU over {wall:.1f} s wall: Cloop server {cpu:.1f} s ({cpu / wall:.0%} of a core), "
        f"model server {llm_cpu:.1f} s, clients {time.process_time():.1f} s"
    )
    for r in bad[:5]:
        print("  failure:", r)


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 200,
        int(sys.argv[2]) if len(sys.argv) > 2 else 100,
        int(sys.argv[3]) if len(sys.argv) > 3 else 1,
    )
