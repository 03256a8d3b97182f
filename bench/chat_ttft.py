"""Backend-added time to first token at N concurrent chats (default 50).

Usage: .venv/bin/python bench/chat_ttft.py [CHATS] [QUESTIONS_PER_CHAT]

Two load shapes: chats with a think time of 1.5-4.5 s between questions (a visitor reads and
types; still far busier than real visitors), and the worst case of every chat asking again
the moment its answer ends (saturation: then TTFT is mostly queueing for the CPU).

For each chat: a WebSocket, `hello`, then questions one after another; per question the time
from sending `message` to the first `delta` (TTFT) and to `answer`. Run twice:
- the default offline model (`cloop-offline/extractive`), whose own latency is ~0, so TTFT is
  all backend: handshake-free path of frame parsing, limits, storing the message (DB thread),
  retrieval (search pool), prompt, litellm;
- `openai/gpt-4o-mini` against a loopback OpenAI-compatible server that sends its first token
  at once, so TTFT is the backend plus litellm's real HTTP streaming client.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
import uuid

from chat_common import ORIGIN, SITE_ID, bench_site_ensure, pct, raise_fd_limit, server_start

QUESTIONS = [
    "How much does the Pro plan cost?",
    "Is support included?",
    "How are invoices sent?",
    "What are your office opening hours?",
    "Do you build online shops?",
]


async def one_chat(
    port: int, n: int, ttft: list, total: list, errors: list, think: float = 0.0
) -> None:
    from websockets.asyncio.client import connect

    async with connect(
        f"ws://127.0.0.1:{port}/ws/chat/{SITE_ID}/", origin=ORIGIN, proxy=None, max_size=None
    ) as ws:
        await ws.send(json.dumps({"type": "hello", "visitor_id": str(uuid.uuid4())}))
        while json.loads(await ws.recv())["type"] != "ready":
            pass
        for i in range(n):
            if think:
                # A visitor reads the answer and types the next question.
                await asyncio.sleep(random.uniform(0.5 * think, 1.5 * think))
            sent = time.perf_counter()
            await ws.send(
                json.dumps(
                    {
                        "type": "message",
                        "text": QUESTIONS[i % len(QUESTIONS)],
                        "client_message_id": f"q{i}",
                    }
                )
            )
            first = None
            while True:
                frame = json.loads(await ws.recv())
                if frame["type"] == "delta" and first is None:
                    first = time.perf_counter()
                elif frame["type"] == "answer":
                    break
                elif frame["type"] == "error":
                    errors.append(frame["code"])
                    break
            if first is not None:
                ttft.append((first - sent) * 1000)
                total.append((time.perf_counter() - sent) * 1000)


async def run(port: int, chats: int, n: int, think: float) -> tuple[list, list, list, float]:
    ttft: list[float] = []
    total: list[float] = []
    errors: list[str] = []
    # Warm-up: one chat alone (first litellm call, connection pools).
    await one_chat(port, 2, [], [], [])
    started = time.perf_counter()
    await asyncio.gather(*(one_chat(port, n, ttft, total, errors, think) for _ in range(chats)))
    return ttft, total, errors, time.perf_counter() - started


def report(label: str, ttft, total, errors, seconds) -> None:
    print(
        f"{label}: {len(ttft)} answers in {seconds:.1f} s, errors {len(errors)} | "
        f"TTFT p50 {pct(ttft, 50):.0f} ms, p95 {pct(ttft, 95):.0f} ms, max {max(ttft):.0f} ms | "
        f"full answer p50 {pct(total, 50):.0f} ms, p95 {pct(total, 95):.0f} ms"
    )


def both(port: int, label: str, chats: int, n: int) -> None:
    report(
        f"{label}, {chats} chats, think time ~{THINK:.0f} s",
        *asyncio.run(run(port, chats, n, THINK)),
    )
    report(
        f"{label}, {chats} chats, no think time (all asking at once, back to back)",
        *asyncio.run(run(port, chats, n, 0.0)),
    )


THINK = 3.0


def main(chats: int, n: int) -> None:
    raise_fd_limit()
    bench_site_ensure()
    proc, port = server_start()
    try:
        both(port, "offline model", chats, n)
    finally:
        proc.terminate()
        proc.wait()

    from tests.conversations.llm_server import LoopbackOpenAI

    llm = LoopbackOpenAI().start()
    proc, port = server_start(
        {
            "CLOOP_LLM_MODEL": "openai/gpt-4o-mini",
            "OPENAI_API_BASE": llm.base_url,
            "OPENAI_API_KEY": "sk-bench",
        }
    )
    try:
        both(port, "openai/gpt-4o-mini via loopback HTTP", chats, n)
    finally:
        proc.terminate()
        proc.wait()
        llm.stop()


if __name__ == "__main__":
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 50, int(sys.argv[2]) if len(sys.argv) > 2 else 10
    )
