"""Answer quality on three corpora, held-out and in-sample apart, with two baselines.

Usage: .venv/bin/python bench/answer_quality.py [--corpus demo|dental|flask] [--verbose]
       [--json FILE] [--tuning-only] [--parts tuning,heldout4,...] [--calibrate] [--embedding]
       [--llm]

Corpora (each indexed into its own fresh site with crawler.index.index_html, the crawl's own
extraction and chunking):
- demo:   the bundled demo website (widget/demo.py, templates/demo/), rendered by its view.
- dental: a small dental clinic site written for this benchmark, English and Finnish pages
          (bench/corpora/dental/), served by a static HTTP server on 127.0.0.1 and fetched.
- flask:  the Flask documentation from Debian's python-flask-doc package
          (`apt-get install python-flask-doc`), served and fetched the same way.

Questions: bench/quality/<corpus>.heldout.json and .tuning.json (fixed split, see
bench/quality/split.py), <corpus>.heldout2.json, .heldout3.json and .heldout4.json (held-out sets
written later by someone who had not seen the system's answers; docs/quality.md,
bench/quality/README.md); for the demo also tests/conversations/chat/demo_eval.json, which
earlier work was tuned on ("legacy, in-sample"). Nothing may be tuned on the held-out parts.

Per corpus and part, for Cloop (answer_question with the default offline model, exactly as
a visitor's question runs):
- hit@1, hit@5, MRR@10 at page level over the ranked passages (retrieval as the answer
  pipeline runs it, k=10), a hit being a passage of one of the question's gold pages;
- answerable questions refused, out-of-scope questions refused;
- gold fact contained in the offline answer (whitespace and case ignored; a refusal misses);
- first citation on a gold page.
Baselines in the same run, over the same chunks, each ranking collapsed the same way as
Cloop's search (at most crawler.search.PER_PAGE passages per page): PostgreSQL ts_rank (any
query lexeme, the site's text search configuration) and rank-bm25 (BM25Okapi over lower-cased
words of heading + title + text). Baselines rank only; they have no refusal or answer.

--embedding runs the whole pipeline with a real local embedding model, as a site with
CLOOP_EMBEDDING_MODEL set: bench/embed_server.py (all-MiniLM-L6-v2) on a free loopback port,
every chunk embedded while indexing, dense retrieval fused into search, and the refusal's
semantic check (conversations.chat.answer.answer_refused). Without it, lexical only.

--llm answers with a real local LLM, configured as a customer configures a self-hosted
OpenAI-compatible endpoint: bench/llm_server.py (Gemma 3 270M, llama-cpp-python on CPU) on a
free loopback port, CLOOP_LLM_MODEL=openai/gemma-3-270m, OPENAI_API_BASE and OPENAI_API_KEY in
the environment before Django reads its settings. The model then decides whether the site
answers (prompt rule 4, NO_ANSWER) after the lenient gate (model_gate_refused); the table
reports the refusals before the call (gate) and the model's apart, model errors (timeouts),
and seconds per answer that reached the model (p50/p95). Needs `pip install -e '.[bench-llm]'`.

--parts chooses parts by file name (tuning, heldout, heldout2, heldout3, heldout4, legacy: the
demo's demo_eval.json); the default is all of them (--tuning-only: tuning and legacy).
"""

import argparse
import asyncio
import contextlib
import functools
import http.server
import json
import os
import re
import sys
import threading
from pathlib import Path

from embed_server import MODEL, server_start
from llm_server import MODEL as LLM_MODEL
from llm_server import server_start as llm_server_start

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloop.settings")
os.environ.setdefault("CLOOP_DEV", "1")
# The bench runs the web process's answer path with its chat and search thread pools, so it
# needs the web process's connection budget (a script would get manage's 2 and time out).
os.environ.setdefault("CLOOP_PROCESS", "cloop-web")  # cloop.db.WEB
# Lexical retrieval, as on a default install, unless --embedding turns the model on.
os.environ["CLOOP_EMBEDDING_MODEL"] = ""
QUALITY = ROOT / "bench" / "quality"
FLASK_DOCS = Path("/usr/share/doc/python-flask-doc/html")
DEMO_BASE = "https://demo.bench.example/demo/"
CORPORA = ("demo", "dental", "flask")
# (file part, label). The held-out parts are never tuned on, and --tuning-only skips them.
PARTS = (
    ("heldout", "held-out"),
    ("heldout2", "held-out 2"),
    ("heldout3", "held-out 3"),
    ("heldout4", "held-out 4"),
    ("tuning", "in-sample (tuning)"),
)
HELD_OUT = {"held-out", "held-out 2", "held-out 3", "held-out 4"}
LEGACY = "legacy"  # --parts name of the demo's in-sample demo_eval.json


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", s).lower()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def index_static(directory: Path) -> tuple[str, int]:
    """Fetch every HTML file of `directory` from a loopback server and index it (current schema)."""
    import httpx

    from crawler.index import index_html

    server, base = serve(directory)
    n = 0
    try:
        files = sorted(
            p.relative_to(directory).as_posix()
            for p in directory.rglob("*.html")
            if not {"_static", "_sources", "_images"} & set(p.relative_to(directory).parts)
        )
        with httpx.Client(timeout=10) as client:
            for rel in files:
                r = client.get(base + rel)
                r.raise_for_status()
                if index_html(base + rel, r.text, headers=dict(r.headers)) is not None:
                    n += 1
    finally:
        server.shutdown()
    return base, n


def index_demo() -> tuple[str, int]:
    from django.test import RequestFactory

    from crawler.index import index_html
    from widget import demo
    from widget.views import demo_page

    rf = RequestFactory()
    n = 0
    for slug in demo.PAGES:
        path = "" if slug == "home" else f"{slug}/"
        response = demo_page(rf.get(f"/demo/{path}"), slug)
        response.render()
        if index_html(DEMO_BASE + path, response.content.decode()) is not None:
            n += 1
    return DEMO_BASE, n


def gold_key(corpus: str, url: str, base: str) -> str:
    rel = url.split("#", 1)[0].removeprefix(base)
    if corpus == "demo":
        return rel.strip("/") or "home"
    return rel or "index.html"


def question_sets(corpus: str, parts: set[str] | None = None) -> list[tuple[str, dict]]:
    """(label, questions) of `corpus`'s parts, only those named in `parts` when given."""
    sets = []
    for part, label in PARTS:
        if parts is not None and part not in parts:
            continue
        sets.append((label, json.loads((QUALITY / f"{corpus}.{part}.json").read_text())))
    if corpus == "demo" and (parts is None or LEGACY in parts):
        legacy = json.loads(
            (ROOT / "tests" / "conversations" / "chat" / "demo_eval.json").read_text()
        )
        sets.append(
            (
                "in-sample (legacy demo_eval)",
                {
                    "answerable": legacy["on_topic_en"] + legacy["on_topic_fi"],
                    "out_of_scope": [{"q": q} for q in legacy["off_topic"]],
                },
            )
        )
    return sets


def capped(rows) -> list[str]:
    """Page keys of ranked (page_key, …) rows, at most PER_PAGE per page, as Cloop's search."""
    from crawler.search import PER_PAGE

    out, per_page = [], {}
    for key in rows:
        if per_page.get(key, 0) >= PER_PAGE:
            continue
        per_page[key] = per_page.get(key, 0) + 1
        out.append(key)
    return out


def rank_metrics(ranked: list[list[str]], gold: list[set[str]]) -> dict:
    h1 = h5 = rr = 0.0
    for pages, good in zip(ranked, gold, strict=True):
        first = next((i for i, p in enumerate(pages[:10]) if p in good), None)
        if first is not None:
            rr += 1 / (first + 1)
            h1 += first == 0
            h5 += first < 5
    n = max(1, len(gold))
    return {"hit@1": h1 / n, "hit@5": h5 / n, "MRR@10": rr / n}


def baselines(questions: list[str], key) -> dict[str, list[list[str]]]:
    from django.db import connection
    from rank_bm25 import BM25Okapi

    from crawler.index import text_config
    from crawler.search import _query_lexemes, _tsquery

    cfg = text_config()
    ts = []
    with connection.cursor() as cur:
        for q in questions:
            lexemes = _query_lexemes(q, cfg)
            if not lexemes:
                ts.append([])
                continue
            cur.execute(
                """
                SELECT p.url FROM crawler_chunk c JOIN crawler_page p ON p.id = c.page_id
                WHERE c.search_vector @@ %s::tsquery
                ORDER BY ts_rank(c.search_vector, %s::tsquery) DESC, c.id LIMIT 60
                """,
                [_tsquery(lexemes), _tsquery(lexemes)],
            )
            ts.append(capped([key(r[0]) for r in cur.fetchall()]))
        cur.execute(
            "SELECT p.url, c.heading || ' ' || p.title || ' ' || c.text FROM crawler_chunk c "
            "JOIN crawler_page p ON p.id = c.page_id ORDER BY c.id"
        )
        rows = cur.fetchall()
    corpus = [re.findall(r"\w+", r[1].lower()) for r in rows]
    bm25 = BM25Okapi(corpus)
    bm = []
    for q in questions:
        scores = bm25.get_scores(re.findall(r"\w+", q.lower()))
        best = sorted(range(len(scores)), key=lambda i: -scores[i])[:60]
        bm.append(capped([key(rows[i][0]) for i in best if scores[i] > 0]))
    return {"ts_rank": ts, "rank-bm25": bm}


async def cloop_run(site, items: list[dict], key) -> list[dict]:
    from conversations.chat.answer import answer_question
    from conversations.chat.text import language_detect, query_expand
    from crawler.search import search
    from crawler.spelling import query_spell_correct

    out = []
    for item in items:
        result = await answer_question(item["q"], site=site, k=5)
        out.append(
            {
                "refused": result.refused,
                "coverage": result.coverage,
                "similarity": result.similarity,
                "text": result.text,
                "cited": [key(s["url"]) for s in result.sources],
                # A refusal before the call leaves no model name; the model's NO_ANSWER keeps it.
                "gate_refused": result.refused and not result.model,
                "model_refused": result.refused and bool(result.model),
                "error": result.error,
                "seconds": (result.total_ms or 0) / 1000,
            }
        )
    # The ranking the pipeline retrieves from, to depth 10, for hit@k and MRR@10.
    from asgiref.sync import sync_to_async
    from django_tenants.utils import tenant_context

    def spelled(q: str) -> str:
        return query_spell_correct(q, language_detect(q, getattr(site, "language", "en")))

    def ranks():
        with tenant_context(site):
            return [[key(p.url) for p in search(query_expand(spelled(i["q"])), 10)] for i in items]

    for row, ranked in zip(out, await sync_to_async(ranks)(), strict=True):
        row["ranked"] = ranked
    return out


@contextlib.contextmanager
def corpus_site(corpus: str):
    """(site, base URL) of a fresh site holding `corpus`'s pages; deleted afterwards."""
    from django_tenants.utils import tenant_context

    from crawler.index import index_stats_rebuild
    from tenants.services import SiteError, site_create, site_delete

    # The process id: two runs at once (e.g. tuning and held-out) keep to their own sites.
    site_id = f"bench-quality-{corpus}-{os.getpid()}"
    with contextlib.suppress(SiteError):
        site_delete(site_id)
    site = site_create(site_id, name=corpus.title(), url=f"https://{corpus}.bench.example/").site
    try:
        with tenant_context(site):
            if corpus == "demo":
                base, n = index_demo()
            elif corpus == "dental":
                base, n = index_static(ROOT / "bench" / "corpora" / "dental")
            else:
                if not FLASK_DOCS.exists():
                    raise SystemExit("apt-get install python-flask-doc first")
                base, n = index_static(FLASK_DOCS)
            index_stats_rebuild()
        print(f"{corpus}: indexed {n} pages", flush=True)
        yield site, base
    finally:
        site_delete(site_id)


def prompt_echoed(text: str) -> bool:
    """Whether an answer repeats the prompt (a model that does not follow instructions
    continues the user turn instead of answering): it holds the opening 50 characters of a
    line of the system prompt, or the passages' or question's markup. Such an answer holds the
    passages' words, so its gold fact is no sign of an answer."""
    from conversations.chat.prompt import SYSTEM_TEMPLATE

    norm = _norm(text)
    lines = [x[:50] for x in SYSTEM_TEMPLATE.splitlines() if len(x) >= 50 and "{" not in x[:50]]
    return any(_norm(x) in norm for x in lines) or any(
        tag in text for tag in ("<passage", "<question>", "&lt;passage")
    )


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def evaluate(
    corpus: str,
    verbose: bool,
    tuning_only: bool = False,
    parts: set[str] | None = None,
    limit: int | None = None,
) -> list[dict]:
    from django_tenants.utils import tenant_context

    reports = []
    with corpus_site(corpus) as (site, base):

        def key(url):
            return gold_key(corpus, url, base)

        for label, data in question_sets(corpus, parts):
            if tuning_only and label in HELD_OUT:
                continue
            ans, oos = data["answerable"][:limit], data["out_of_scope"][:limit]
            gold = [set(i["pages"]) for i in ans]
            cl = asyncio.run(cloop_run(site, ans, key))
            co = asyncio.run(cloop_run(site, oos, key))
            with tenant_context(site):
                base_ranks = baselines([i["q"] for i in ans], key)
            facts = [(i, r) for i, r in zip(ans, cl, strict=True) if i.get("fact")]
            report = {
                "corpus": corpus,
                "part": label,
                "answerable": len(ans),
                "out_of_scope": len(oos),
                "cloop": rank_metrics([r["ranked"] for r in cl], gold),
                "answerable_refused": sum(r["refused"] for r in cl) / max(1, len(cl)),
                "oos_refused": sum(r["refused"] and not r["cited"] for r in co) / max(1, len(co)),
                "fact_in_answer": sum(
                    not r["refused"] and _norm(i["fact"]) in _norm(r["text"]) for i, r in facts
                )
                / max(1, len(facts)),
                "facts": len(facts),
                "first_citation_gold": sum(
                    bool(r["cited"]) and r["cited"][0] in g for r, g in zip(cl, gold, strict=True)
                )
                / max(1, len(cl)),
            }
            # Who refused: the gate before the call, or the model (NO_ANSWER); model errors;
            # seconds of the answers that reached the model.
            called = [r for r in cl + co if not r["gate_refused"]]
            answered = [r for r in cl + co if not r["refused"] and not r["error"]]
            report.update(
                {
                    "answers_echoing_prompt": sum(prompt_echoed(r["text"]) for r in answered),
                    "answers": len(answered),
                    "fact_in_answer_not_echo": sum(
                        not r["refused"]
                        and not prompt_echoed(r["text"])
                        and _norm(i["fact"]) in _norm(r["text"])
                        for i, r in facts
                    )
                    / max(1, len(facts)),
                    "answerable_gate_refused": sum(r["gate_refused"] for r in cl) / max(1, len(cl)),
                    "answerable_model_refused": sum(r["model_refused"] for r in cl)
                    / max(1, len(cl)),
                    "oos_gate_refused": sum(r["gate_refused"] for r in co) / max(1, len(co)),
                    "oos_model_refused": sum(r["model_refused"] for r in co) / max(1, len(co)),
                    "errors": sum(bool(r["error"]) for r in cl + co),
                    "called": len(called),
                    "seconds_p50": _percentile([r["seconds"] for r in called], 0.5),
                    "seconds_p95": _percentile([r["seconds"] for r in called], 0.95),
                }
            )
            for name, ranked in base_ranks.items():
                report[name] = rank_metrics(ranked, gold)
            if label.startswith("in-sample (tuning)"):
                # Coverage of each question, for --calibrate (tuning parts only).
                report["coverage_answerable"] = [r["coverage"] for r in cl]
                report["coverage_oos"] = [r["coverage"] for r in co]
                report["similarity_answerable"] = [r["similarity"] for r in cl]
                report["similarity_oos"] = [r["similarity"] for r in co]
            reports.append(report)
            if verbose and label not in HELD_OUT:  # no peeking at held-out answers
                for i, r in zip(ans, cl, strict=True):
                    ok_fact = not i.get("fact") or _norm(i["fact"]) in _norm(r["text"])
                    mark = (
                        ("NO_ANSWER" if r["model_refused"] else "REFUSED")
                        if r["refused"]
                        else ("ERROR" if r["error"] else ("ok" if ok_fact else "NOFACT"))
                    )
                    hit = "hit" if r["ranked"][:1] and r["ranked"][0] in i["pages"] else "miss"
                    print(
                        f"  [{label[:8]}] {mark:7} {hit:4} {_signals(r)} {i['q']!r} -> "
                        f"{r['text'][:140]!r} ranked {r['ranked'][:3]} want {i['pages']}"
                    )
                for i, r in zip(oos, co, strict=True):
                    mark = (
                        ("OOS-no_answer" if r["model_refused"] else "OOS-refused")
                        if r["refused"]
                        else ("OOS-ERROR" if r["error"] else "OOS-ANSWERED")
                    )
                    print(f"  [{label[:8]}] {mark} {_signals(r)} {i['q']!r} -> {r['text'][:100]!r}")
    return reports


def _signals(row: dict) -> str:
    sim = row["similarity"]
    return f"cov {row['coverage']:.2f} sim " + ("-" if sim is None else f"{sim:.2f}")


def table(reports: list[dict]) -> str:
    head = (
        "| corpus | part | n (ans/oos) | Cloop hit@1 | hit@5 | MRR@10 | ans. refused | "
        "oos refused | fact in answer | 1st cite gold | ts_rank hit@1/@5/MRR | "
        "BM25 hit@1/@5/MRR |"
    )
    lines = [head, "|" + "---|" * 12]
    for r in reports:
        c = r["cloop"]

        def trio(m):
            return f"{m['hit@1']:.2f} / {m['hit@5']:.2f} / {m['MRR@10']:.2f}"

        lines.append(
            f"| {r['corpus']} | {r['part']} | {r['answerable']}/{r['out_of_scope']} | "
            f"{c['hit@1']:.2f} | {c['hit@5']:.2f} | {c['MRR@10']:.2f} | "
            f"{r['answerable_refused']:.0%} | {r['oos_refused']:.0%} | "
            f"{r['fact_in_answer']:.0%} | {r['first_citation_gold']:.0%} | "
            f"{trio(r['ts_rank'])} | {trio(r['rank-bm25'])} |"
        )
    return "\n".join(lines)


def llm_table(reports: list[dict], stats: dict | None) -> str:
    """The answer path with a model: who refused, the answers' facts and citations, time."""
    head = (
        "| corpus | part | n (ans/oos) | ans. refused: gate / model (NO_ANSWER) | "
        "oos refused: gate / model / total | fact in answer | 1st cite gold | "
        "fact, answer not echoing the prompt | answers echoing the prompt | "
        "model errors | s per answer p50 / p95 (n called) |"
    )
    lines = [head, "|" + "---|" * 11]
    for r in reports:
        p50, p95 = r["seconds_p50"], r["seconds_p95"]
        secs = "-" if p50 is None else f"{p50:.1f} / {p95:.1f}"
        lines.append(
            f"| {r['corpus']} | {r['part']} | {r['answerable']}/{r['out_of_scope']} | "
            f"{r['answerable_gate_refused']:.0%} / {r['answerable_model_refused']:.0%} | "
            f"{r['oos_gate_refused']:.0%} / {r['oos_model_refused']:.0%} / "
            f"{r['oos_refused']:.0%} | {r['fact_in_answer']:.0%} | "
            f"{r['first_citation_gold']:.0%} | {r['fact_in_answer_not_echo']:.0%} | "
            f"{r['answers_echoing_prompt']}/{r['answers']} | {r['errors']} | {secs} ({r['called']}) |"
        )
    if stats:
        lines.append(
            f"\nmodel: {stats['calls']} calls, prompt {stats['prompt_tokens']} tokens at "
            f"{stats['prompt_tokens_per_s']:.0f} tok/s, output {stats['output_tokens']} tokens at "
            f"{stats['output_tokens_per_s']:.1f} tok/s"
        )
    return "\n".join(lines)


def calibrate(reports: list[dict]) -> None:
    """Refusal rates per CLOOP_COVERAGE_MIN on the tuning parts (pooled over the corpora)."""
    ans = [c for r in reports for c in r.get("coverage_answerable", [])]
    oos = [c for r in reports for c in r.get("coverage_oos", [])]
    print(f"calibration on tuning parts: {len(ans)} answerable, {len(oos)} out of scope")
    print("threshold  answerable refused  out-of-scope refused")
    for t in [x / 20 for x in range(4, 17)]:
        a = sum(c < t for c in ans) / max(1, len(ans))
        o = sum(c < t for c in oos) / max(1, len(oos))
        print(f"{t:9.2f}  {a:19.0%}  {o:20.0%}")


# The semantic rule's grid: CLOOP_SEMANTIC_MIN (None: never answers on meaning alone) and
# CLOOP_SEMANTIC_FLOOR (0: no floor), each in steps of 0.05.
SEMANTIC_GRID = [None, *(x / 20 for x in range(6, 20))]
FLOOR_GRID = [x / 20 for x in range(0, 11)]
OOS_GOAL, ANSWERABLE_GOAL = 0.90, 0.05


def _refusals(rows: list[tuple], close, floor) -> float:
    """Share of `rows` (coverage, similarity) that conversations.chat.answer.answer_refused
    refuses with CLOOP_SEMANTIC_MIN = close (None: never) and CLOOP_SEMANTIC_FLOOR = floor."""
    from django.test import override_settings

    from conversations.chat.answer import answer_refused

    never = 2.0  # above any cosine
    with override_settings(
        CLOOP_SEMANTIC_MIN=never if close is None else close, CLOOP_SEMANTIC_FLOOR=floor
    ):
        return sum(answer_refused(c, s) for c, s in rows) / max(1, len(rows))


def semantic_choose(ans: list[tuple], oos: list[tuple]) -> tuple:
    """(close, floor) of the grid for these questions: the fewest answerable refused among
    the rules refusing at least OOS_GOAL of the out-of-scope ones (if none does, the most
    out-of-scope refused); ties go to more out-of-scope refused, then to the rule nearest the
    lexical one: no answer on meaning alone, else the highest CLOOP_SEMANTIC_MIN; the lowest
    floor."""
    best = None
    for close in SEMANTIC_GRID:
        for floor in FLOOR_GRID:
            a, o = _refusals(ans, close, floor), _refusals(oos, close, floor)
            met = o >= OOS_GOAL
            key = (not met, a if met else -o, -o, close is not None, -(close or 0), floor)
            if best is None or key < best[0]:
                best = (key, close, floor)
    return best[1], best[2]


def calibrate_semantic(reports: list[dict]) -> None:
    """The semantic refusal rule (CLOOP_SEMANTIC_MIN, CLOOP_SEMANTIC_FLOOR) on the tuning
    parts: chosen per corpus on the other corpora's tuning parts (leave-one-corpus-out) and
    measured on the one left out, then chosen on all of them (the value shipped)."""
    parts = {
        r["corpus"]: (
            list(zip(r["coverage_answerable"], r["similarity_answerable"], strict=True)),
            list(zip(r["coverage_oos"], r["similarity_oos"], strict=True)),
        )
        for r in reports
        if "similarity_answerable" in r
    }

    def fmt(close, floor):
        return f"min {'-' if close is None else f'{close:.2f}'} floor {floor:.2f}"

    print("semantic rule on tuning parts, leave-one-corpus-out")
    print("left out   rule (chosen on the others)   answerable refused  out-of-scope refused")
    pooled_a, pooled_o, n_a, n_o = 0.0, 0.0, 0, 0
    for corpus, (ans, oos) in parts.items():
        rest_a = [x for c, (a, _) in parts.items() if c != corpus for x in a]
        rest_o = [x for c, (_, o) in parts.items() if c != corpus for x in o]
        close, floor = semantic_choose(rest_a, rest_o)
        a, o = _refusals(ans, close, floor), _refusals(oos, close, floor)
        pooled_a, pooled_o = pooled_a + a * len(ans), pooled_o + o * len(oos)
        n_a, n_o = n_a + len(ans), n_o + len(oos)
        print(f"{corpus:9}  {fmt(close, floor):28}  {a:18.0%}  {o:20.0%}")
    print(f"{'pooled':9}  {'':28}  {pooled_a / max(1, n_a):18.0%}  {pooled_o / max(1, n_o):20.0%}")
    all_a = [x for a, _ in parts.values() for x in a]
    all_o = [x for _, o in parts.values() for x in o]
    close, floor = semantic_choose(all_a, all_o)
    print(
        f"chosen on all tuning parts: {fmt(close, floor)}: answerable refused "
        f"{_refusals(all_a, close, floor):.0%}, out of scope refused {_refusals(all_o, close, floor):.0%}"
        f" (lexical alone: {_refusals(all_a, None, 0.0):.0%} / {_refusals(all_o, None, 0.0):.0%})"
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", choices=CORPORA, action="append")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument(
        "--tuning-only", action="store_true", help="skip the held-out parts (while tuning)"
    )
    ap.add_argument(
        "--calibrate",
        action="store_true",
        help="print refusal rates by coverage threshold on the tuning parts only",
    )
    ap.add_argument(
        "--embedding",
        action="store_true",
        help=f"index, retrieve and refuse with a local embedding model ({MODEL})",
    )
    ap.add_argument(
        "--llm",
        action="store_true",
        help=f"answer with a local LLM over loopback HTTP ({LLM_MODEL}, bench/llm_server.py)",
    )
    ap.add_argument(
        "--parts",
        help="comma-separated parts to run: " + ", ".join([p for p, _ in PARTS] + [LEGACY]),
    )
    ap.add_argument(
        "--limit",
        type=int,
        help="only the first N answerable and N out-of-scope questions of each part (smoke test)",
    )
    args = ap.parse_args()
    parts = None
    if args.parts:
        parts = {p.strip() for p in args.parts.split(",") if p.strip()}
        unknown = parts - {p for p, _ in PARTS} - {LEGACY}
        if unknown:
            ap.error(f"unknown parts: {', '.join(sorted(unknown))}")
    llm_server = None
    if args.llm:
        # Configured as a customer configures a self-hosted OpenAI-compatible endpoint, in the
        # environment before Django reads its settings (cloop/settings.py, litellm).
        llm_server, llm_base = llm_server_start()
        os.environ["CLOOP_LLM_MODEL"] = LLM_MODEL
        os.environ["OPENAI_API_BASE"] = llm_base
        os.environ.setdefault("OPENAI_API_KEY", "sk-bench-loopback")
    import django

    from cloop import embedded

    embedded.start()  # the embedded servers, unless DATABASE_URL / REDIS_URL are set
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.CLOOP_OFFLINE_CHUNK_MS = 0
    call_command("migrate_platform", verbosity=0)
    server = None
    if args.embedding:
        server, base = server_start()
        os.environ["OPENAI_API_BASE"] = base
        os.environ.setdefault("OPENAI_API_KEY", "sk-bench-loopback")
        settings.CLOOP_EMBEDDING_MODEL = MODEL
    reports = []
    stats = None
    try:
        for corpus in args.corpus or CORPORA:
            reports += evaluate(corpus, args.verbose, args.tuning_only, parts, args.limit)
        if llm_server is not None:
            import httpx

            stats = httpx.get(os.environ["OPENAI_API_BASE"] + "/stats", timeout=10).json()
    finally:
        for proc in (server, llm_server):
            if proc is not None:
                proc.terminate()
                proc.wait(10)
    print(table(reports))
    if args.llm:
        print()
        print(llm_table(reports, stats))
    if args.calibrate:
        calibrate(reports)
        if args.embedding:
            calibrate_semantic(reports)
    if args.json:
        out = (
            reports if stats is None else {"model": LLM_MODEL, "server": stats, "reports": reports}
        )
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
