"""Search latency with 100,000 chunks in one site: p50 / p95 / max of crawler.search.search.

Usage: .venv/bin/python bench/retrieval_latency.py [--chunks N] [--docs DIR] [--keep]
Builds the site `bench-latency` with N chunks (default 100,000) of realistic text: random
sentences of the Python documentation (python3-doc), ~150 words each, 10 chunks per page,
written with the same SQL the index uses (search vector with heading/title weights, tf map,
term statistics). Then runs the 50 questions of bench/retrieval_questions.json plus 50
short keyword queries, five rounds after one warm-up round, k=5, and reports the latency
of each `search()` call (wall clock, including the round trips to PostgreSQL).
"""

import argparse
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloop.settings")
SITE_ID = "bench-latency"


def sentences(docs: Path) -> tuple[list[str], list[str]]:
    from crawler.extract import extract_html

    sents, heads = [], []
    for f in sorted(docs.rglob("*.html")):
        if "genindex" in f.name:
            continue
        ex = extract_html(f.read_text("utf-8", errors="replace"))
        if ex is None:
            continue
        for s in ex.sections:
            if s.heading:
                heads.append(s.heading[:200])
            sents += [x for x in re.split(r"(?<=[.!?])\s+", s.text) if 5 <= len(x.split()) <= 60]
    return sents, heads


def fill(n: int, sents: list[str], heads: list[str]) -> None:
    from django.db import connection

    from crawler.index import (
        LENGTHS_SQL,
        POSTINGS_SQL,
        VECTORS_SQL,
        index_stats_rebuild,
        text_config,
    )

    rnd = random.Random(42)
    cfg = text_config()
    per_page = 10
    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE crawler_posting, crawler_chunk, crawler_page, crawler_term, "
            "crawler_indexstats CASCADE"
        )
        pages = [
            (f"https://latency.example/p{i}", rnd.choice(heads), "[]") for i in range(n // per_page)
        ]
        t = time.perf_counter()
        cols = "url, title, links, language, etag, last_modified, content_hash, indexed_at"
        with cur.copy(f"COPY crawler_page ({cols}) FROM STDIN") as cp:
            for row in pages:
                cp.write_row((*row, "en", "", "", "", "2026-01-01T00:00:00Z"))
        cur.execute("SELECT id, title FROM crawler_page ORDER BY id")
        page_rows = cur.fetchall()
        with cur.copy(
            "COPY crawler_chunk (page_id, ordinal, heading, anchor, text, length) FROM STDIN"
        ) as cp:
            for pid, _ in page_rows:
                for o in range(per_page):
                    words, parts = 0, []
                    while words < 150:
                        s = rnd.choice(sents)
                        parts.append(s)
                        words += len(s.split())
                    cp.write_row((pid, o, rnd.choice(heads), f"s{o}", " ".join(parts), 0))
        print(
            f"  copied {len(page_rows)} pages / {len(page_rows) * per_page} chunks "
            f"in {time.perf_counter() - t:.0f} s",
            flush=True,
        )
        t = time.perf_counter()
        step = 20000
        cur.execute("SELECT min(id), max(id) FROM crawler_chunk")
        lo, hi = cur.fetchone()
        where = "c.id >= %s AND c.id < %s"
        for a in range(lo, hi + 1, step):
            cur.execute(VECTORS_SQL.format(where=where), [cfg, cfg, cfg, a, a + step])
            cur.execute(LENGTHS_SQL.format(where=where), [a, a + step])
            cur.execute(POSTINGS_SQL.format(where=where), [a, a + step])
        print(f"  vectors and postings in {time.perf_counter() - t:.0f} s", flush=True)
    index_stats_rebuild()
    with connection.cursor() as cur:
        # What autovacuum does soon after a crawl: statistics and the visibility map (which
        # lets the posting scans stay index-only).
        cur.execute("VACUUM ANALYZE crawler_posting")
        cur.execute("VACUUM ANALYZE crawler_chunk")
        cur.execute("ANALYZE crawler_term")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--docs", default="/usr/share/doc/python3.11/html")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    import json

    import django

    from cloop import embedded

    embedded.start()  # the embedded servers, unless DATABASE_URL / REDIS_URL are set
    django.setup()
    from django_tenants.utils import tenant_context

    from crawler.models import Chunk
    from crawler.search import search
    from tenants.services import SiteError, base_schema_ensure, site_create, site_delete, site_get

    base_schema_ensure()
    try:
        site = site_get(SITE_ID)
    except SiteError:
        site = site_create(SITE_ID, name="Latency", url="https://latency.example/").site
    try:
        with tenant_context(site):
            if Chunk.objects.count() != args.chunks:
                print(f"building {args.chunks} chunks ...", flush=True)
                sents, heads = sentences(Path(args.docs))
                fill(args.chunks, sents, heads)
            print(f"{Chunk.objects.count()} chunks in one site")
            qs = [q["q"] for q in json.loads((ROOT / "bench/retrieval_questions.json").read_text())]
            rnd = random.Random(7)
            vocab = [
                "file",
                "list",
                "string",
                "error",
                "thread",
                "socket",
                "json",
                "path",
                "encode",
                "unicode",
                "dictionary",
                "module",
                "class",
                "async",
                "timeout",
                "format",
                "date",
                "random",
                "test",
                "logging",
                "import",
                "buffer",
                "zip",
            ]
            qs += [" ".join(rnd.sample(vocab, rnd.randint(1, 4))) for _ in range(50)]
            for q in qs:  # warm-up: caches, plans
                search(q, k=5)
            times = []
            for _ in range(5):
                for q in qs:
                    t = time.perf_counter()
                    search(q, k=5)
                    times.append((time.perf_counter() - t) * 1000)
        times.sort()
        p95 = times[int(0.95 * len(times)) - 1]
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(
            f"{len(times)} searches: p50 {statistics.median(times):.1f} ms, "
            f"p95 {p95:.1f} ms, max {times[-1]:.1f} ms"
        )
    finally:
        if not args.keep:
            site_delete(SITE_ID)


if __name__ == "__main__":
    main()
