"""Gzipped sizes of what a visitor's browser downloads for the widget.

Budget: the loader (widget.js) at most 2 KB gzipped, the chat window (frame HTML + JS + CSS)
at most 25 KB gzipped. Run: .venv/bin/python bench/widget_size.py  (prints JSON; exit 1 over budget)

The frame HTML is measured as rendered for a site with three starter questions, from the
template with Django's renderer (no server or database needed for the template part).
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "widget" / "static" / "widget"
LOADER_BUDGET = 2 * 1024
FRAME_BUDGET = 25 * 1024


def gz(data: bytes, level: int = 6) -> int:
    # Level 6 is what Django's gzip_page and most servers use; widget.js is compressed once at
    # level 9 by widget/views.py (no random padding).
    return len(gzip.compress(data, compresslevel=level, mtime=0))


def frame_html() -> bytes:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloop.settings")
    os.environ.setdefault("CLOOP_DEV", "1")  # DEBUG off: the development SECRET_KEY will do
    os.environ.setdefault("DATABASE_URL", "postgres://unused/unused")
    os.environ.setdefault("REDIS_URL", "redis://unused")
    import django

    django.setup()
    from django.template.loader import render_to_string

    from widget.strings import strings_for

    s = {k: v for k, v in strings_for("en").items() if not k.startswith("preview_")}
    ws = {
        "bot_name": "Northwind helper",
        "greeting": "Hi! I can answer questions about our bikes, prices, service and stores.",
        "starter_questions": [
            "How much does the E-Cruiser cost?",
            "Can I ride in winter?",
            "What does the warranty cover?",
        ],
        "primary_color": "#143d2b",
        "text_color": "#ffffff",
        "link_color": "#143d2b",
        "logo_url": "",
        "position": "right",
        "privacy_url": "https://cloop.example/privacy/demo/",
        "consent_text": s["consent"],
        "language": "en",
    }
    config = {
        "site_id": "demo",
        "ws_url": "wss://cloop.example/ws/chat/demo/",
        "parent_origin": "https://www.northwind.example",
        "link_origins": ["https://www.northwind.example"],
        "settings": ws,
        "strings": s,
    }
    return render_to_string(
        "widget/frame.html", {"config": config, "s": s, "ws": ws, "language": "en"}
    ).encode()


def main() -> int:
    loader = (STATIC / "widget.js").read_bytes()
    parts = {
        "frame.html": frame_html(),
        "frame.js": (STATIC / "frame.js").read_bytes(),
        "frame.css": (STATIC / "frame.css").read_bytes(),
    }
    report = {
        "loader_bytes": len(loader),
        "loader_gzip_bytes": gz(loader, 9),
        "loader_budget_bytes": LOADER_BUDGET,
        "frame_parts_gzip_bytes": {k: gz(v) for k, v in parts.items()},
        "frame_bytes": sum(len(v) for v in parts.values()),
        "frame_gzip_bytes": sum(gz(v) for v in parts.values()),
        "frame_budget_bytes": FRAME_BUDGET,
    }
    print(json.dumps(report, indent=2))
    ok = report["loader_gzip_bytes"] <= LOADER_BUDGET and report["frame_gzip_bytes"] <= FRAME_BUDGET
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
