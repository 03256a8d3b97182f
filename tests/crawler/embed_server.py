"""A loopback OpenAI-compatible `/v1/embeddings` server: the embedding provider's stand-in.

Embeddings are deterministic: a hashing-trick bag of crudely stemmed words, L2-normalised,
with a few synonyms mapped to one word (so "parcel" lands near "package" while the words
share no lexeme: the case dense retrieval exists for), or whatever `embed` a test gives.
`fail` makes every call a 500.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIM = 64
SYNONYMS = {"parcel": "package", "packet": "package", "cost": "price", "fee": "price"}
STOP = {"the", "a", "an", "of", "to", "is", "are", "and", "in", "on", "for", "how", "what"}


def toy_embedding(text: str) -> list[float]:
    vec = [0.0] * DIM
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in STOP:
            continue
        word = word[:-1] if word.endswith("s") and len(word) > 3 else word
        word = SYNONYMS.get(word, word)
        h = int(hashlib.sha256(word.encode()).hexdigest(), 16)
        vec[h % DIM] += 1.0 if (h >> 8) % 2 else -1.0
    norm = math.sqrt(sum(x * x for x in vec)) or 1.0
    return [x / norm for x in vec]


class EmbeddingServer:
    def __init__(self, embed: Callable[[str], list[float]] = toy_embedding):
        self.inputs: list[list[str]] = []  # the inputs of every successful call
        self.fail = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if server.fail or not self.path.endswith("/embeddings"):
                    out, status = {"error": {"message": "embedding backend down"}}, 500
                else:
                    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    server.inputs.append(texts)
                    out, status = (
                        {
                            "object": "list",
                            "model": body.get("model", ""),
                            "data": [
                                {"object": "embedding", "index": i, "embedding": embed(t)}
                                for i, t in enumerate(texts)
                            ],
                            "usage": {"prompt_tokens": 1, "total_tokens": 1},
                        },
                        200,
                    )
                data = json.dumps(out).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def embedded(self) -> list[str]:
        return [t for call in self.inputs for t in call]

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
