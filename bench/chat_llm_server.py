"""An asyncio OpenAI-compatible streaming server for the benches (one event loop, no threads).

`python bench/chat_llm_server.py PORT TOKENS TOKEN_DELAY` — every POST gets the same answer of
TOKENS tokens, one SSE event each, TOKEN_DELAY seconds apart. The threaded test server cannot
pace hundreds of streams (threads waking 10,000 times a second fight over the GIL); this one can.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time


def reply_for(tokens: int) -> str:
    return " ".join([f"w{i}" for i in range(tokens - 2)] + ["[1].", "Done"])


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pieces, delay):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = json.loads(await reader.readexactly(length) or b"{}")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Cache-Control: no-cache\r\nConnection: close\r\n\r\n"
        )
        model = body.get("model", "gpt-4o-mini")
        start = time.monotonic()
        for i, piece in enumerate(pieces):
            # Paced against the start, so a late wake-up does not slow the whole stream.
            await asyncio.sleep(max(0.0, start + i * delay - time.monotonic()))
            delta = {"content": piece} if i else {"role": "assistant", "content": piece}
            chunk = {
                "id": "chatcmpl-bench",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
            }
            writer.write(f"data: {json.dumps(chunk)}\n\n".encode())
            await writer.drain()
        stop = {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
        writer.write(f"data: {json.dumps(stop)}\n\ndata: [DONE]\n\n".encode())
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main(port: int, tokens: int, delay: float) -> None:
    words = reply_for(tokens).split(" ")
    pieces = [w + " " for w in words[:-1]] + [words[-1]]
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, pieces, delay), "127.0.0.1", port, backlog=2048
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))
