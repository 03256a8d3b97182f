"""What the bench's loopback model servers (embed_server.py, llm_server.py) share: each runs in
its own process on a free 127.0.0.1 port and says which on its first stdout line, `port N`,
once its model is loaded."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def process_start(script: str, *args: str, what: str = "server") -> tuple[subprocess.Popen, str]:
    """`script` (a server of this folder) in its own process, once it is listening;
    (process, OpenAI base URL). The caller terminates the process."""
    proc = subprocess.Popen([sys.executable, script, *args], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("port "):
        proc.kill()
        raise SystemExit(f"{what} did not start: {line!r}")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}/v1"


def serve(handler: type[BaseHTTPRequestHandler], port: int = 0) -> None:
    """Serve `handler` on 127.0.0.1:`port` (0: a free one), announce the port, run until
    interrupted, then exit."""
    httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
    httpd.daemon_threads = True
    print(f"port {httpd.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        httpd.serve_forever()
    sys.exit(0)
