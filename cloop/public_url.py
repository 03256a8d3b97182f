"""Cloop's own public URL (widget.js, the chat frame, the WebSocket, admin links): one source.

`settings.CLOOP_PUBLIC_URL` is resolved once, here, in this order:

1. `CLOOP_PUBLIC_URL` from the environment (production sets it, or the base domain decides);
2. development: `http://<base domain>:$PORT` when PORT is set;
3. development: the URL `make run` last served on, which it writes to
   `<CLOOP_DATA_DIR>/public_url`, so a staff command run in another shell beside
   `PORT=9000 make run` prints 9000 without exporting anything;
4. development: `http://<base domain>:8000`; production: `https://<base domain>`.

The test session sets CLOOP_PUBLIC_URL itself (tests/session.py), so a developer's running
platform never changes the suite's results.

Imported by cloop/settings.py: no Django imports here.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_NAME = "public_url"


def public_url_resolve(
    explicit: str, *, port: str, base_domain: str, data_dir: Path, debug: bool
) -> str:
    """The platform's public origin without a trailing slash (see the module docstring):
    `explicit` is CLOOP_PUBLIC_URL, `port` PORT, both as the environment gives them."""
    explicit = (explicit or "").strip().rstrip("/")
    if explicit:
        return explicit
    if not debug:
        return f"https://{base_domain}"
    port = (port or "").strip()
    if port:
        return f"http://{base_domain}:{port}"
    return public_url_recorded(data_dir) or f"http://{base_domain}:8000"


def public_url_recorded(data_dir: Path) -> str:
    """The URL `make run` wrote into the data dir, or "" (none, or unreadable)."""
    try:
        text = (Path(data_dir) / FILE_NAME).read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    return text.rstrip("/") if text.startswith(("http://", "https://")) else ""


def public_url_record(data_dir: Path, url: str) -> None:
    """Write the URL this platform serves on (called by `make run` before its children start).

    Written to a temporary file and renamed, so a command reading it concurrently sees the old
    or the new URL, never half of one.
    """
    path = Path(data_dir)
    path.mkdir(parents=True, exist_ok=True)
    tmp = path / f".{FILE_NAME}.{os.getpid()}"
    tmp.write_text(url.rstrip("/") + "\n", encoding="utf-8")
    tmp.replace(path / FILE_NAME)
