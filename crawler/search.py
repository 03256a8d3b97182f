"""Retrieval: BM25 over the site's own term statistics, on a GIN candidate set.

PostgreSQL's `ts_rank` ignores how rare a word is across the site, so a page that repeats a
common word outranks the one section that names the rare word the visitor asked about.
Here each query lexeme gets BM25's IDF from `crawler_term` (document frequencies kept by
crawler.index), term frequencies come from each chunk's `tf` map (a heading word counts
3 times, a title word 2), and chunk length is normalised against the site's average.

Candidates come from the GIN index. To keep common words from making the candidate set
huge, the rarest lexemes (up to CANDIDATE_BUDGET matching chunks together) generate
candidates and all lexemes score them; this is exact whenever the k-th best score is at
least what the left-out common lexemes could add (MaxScore's bound), and otherwise the
search falls back to every chunk containing any query lexeme.

Runs in the current schema (call inside the site's `tenant_context`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from django.db import connection

from crawler.index import index_stats, text_config

K1 = 1.2
B = 0.75
CANDIDATE_BUDGET = 4000
MAX_QUERY_LEXEMES = 32
# At most this many passages from one page, so one long page cannot crowd out the others.
PER_PAGE = 2
# Page evidence: a passage gains this share of the scores of the other candidate passages of
# its page. A page that answers the question in several sections is more likely about it
# than a page that mentions the words once (bench/retrieval_quality.py: MRR 0.67 -> 0.77).
PAGE_EVIDENCE = 0.2


@dataclass
class Passage:
    chunk_id: int
    url: str
    page_url: str
    title: str
    heading: str
    text: str
    score: float

    def as_dict(self) -> dict:
        return asdict(self)


def _query_lexemes(query: str, config: str) -> list[str]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT lexeme FROM unnest(to_tsvector(%s::regconfig, %s)) ORDER BY lexeme",
            [config, query[:2000]],
        )
        return [r[0] for r in cur.fetchall()][:MAX_QUERY_LEXEMES]


def _tsquery(lexemes: list[str]) -> str:
    # Lexemes quoted as tsquery literals, so no query text is ever parsed as operators.
    return " | ".join("'" + lx.replace("\\", "\\\\").replace("'", "''") + "'" for lx in lexemes)


def _score(lexemes: list[str], idfs: list[float], avgdl: float, limit: int, tsq: str):
    """(chunk_id, score) of the best `limit` chunks matching tsquery `tsq`."""
    terms = []
    params: list = []
    for lx, idf in zip(lexemes, idfs, strict=True):
        terms.append("%s * (t.x->%s)::float8 / ((t.x->%s)::float8 + t.kk)")
        params += [idf * (K1 + 1), lx, lx]
    # Missing keys give NULL; coalesce each term to 0.
    expr = " + ".join(f"coalesce({t}, 0)" for t in terms)
    sql = f"""
        SELECT t.id, t.page_id, ({expr}) AS score FROM (
            SELECT c.id, c.page_id, c.tf AS x,
                   %s * (1 - %s + %s * c.length / %s) AS kk
            FROM crawler_chunk c
            WHERE c.search_vector @@ %s::tsquery
        ) t
        ORDER BY score DESC, t.id
        LIMIT %s
    """  # noqa: S608 - the formatted part holds placeholders only
    with connection.cursor() as cur:
        cur.execute(sql, [*params, K1, B, B, avgdl, tsq, limit])
        return cur.fetchall()


def search(query: str, k: int = 5) -> list[Passage]:
    """The `k` passages of the current site that best answer `query`, best first."""
    if not query or not query.strip() or k <= 0:
        return []
    config = text_config()
    lexemes = _query_lexemes(query, config)
    if not lexemes:
        return []
    stats = index_stats()
    n = stats.chunks
    if n <= 0:
        return []
    avgdl = max(stats.total_length / n, 1.0)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT lexeme, df FROM crawler_term WHERE lexeme = ANY(%s) AND df > 0", [lexemes]
        )
        dfs = dict(cur.fetchall())
    present = [lx for lx in lexemes if lx in dfs]
    if not present:
        return []

    def idf(df: int) -> float:
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    # Rarest first: they carry the score.
    present.sort(key=lambda lx: dfs[lx])
    idfs = [idf(dfs[lx]) for lx in present]
    want = max(40, k * PER_PAGE * 4)
    essential, total = [], 0
    for lx in present:
        if essential and total + dfs[lx] > CANDIDATE_BUDGET:
            break
        essential.append(lx)
        total += dfs[lx]
    rows = _score(present, idfs, avgdl, want, _tsquery(essential))
    rest_bound = sum(
        i * (K1 + 1) for lx, i in zip(present, idfs, strict=True) if lx not in essential
    )
    if rest_bound > 0 and (len(rows) < want or rows[-1][2] < rest_bound):
        rows = _score(present, idfs, avgdl, want, _tsquery(present))
    return _passages(_page_evidence(rows), k)


def _page_evidence(rows):
    """Re-rank candidates: each gains PAGE_EVIDENCE x the other candidates of its page."""
    totals: dict[int, float] = {}
    for _, page_id, score in rows:
        totals[page_id] = totals.get(page_id, 0.0) + float(score)
    out = [
        (cid, page_id, float(score) + PAGE_EVIDENCE * (totals[page_id] - float(score)))
        for cid, page_id, score in rows
    ]
    out.sort(key=lambda r: (-r[2], r[0]))
    return out


def _passages(rows, k: int) -> list[Passage]:
    picked, per_page = [], {}
    for chunk_id, page_id, score in rows:
        if per_page.get(page_id, 0) >= PER_PAGE:
            continue
        per_page[page_id] = per_page.get(page_id, 0) + 1
        picked.append((chunk_id, float(score)))
        if len(picked) == k:
            break
    if not picked:
        return []
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT c.id, p.url, p.title, c.heading, c.anchor, c.text
            FROM crawler_chunk c JOIN crawler_page p ON p.id = c.page_id
            WHERE c.id = ANY(%s)
            """,
            [[cid for cid, _ in picked]],
        )
        found = {r[0]: r for r in cur.fetchall()}
    out = []
    for cid, score in picked:
        if cid not in found:
            continue
        _, page_url, title, heading, anchor, text = found[cid]
        url = f"{page_url}#{anchor}" if anchor else page_url
        out.append(
            Passage(
                chunk_id=cid,
                url=url,
                page_url=page_url,
                title=title,
                heading=heading,
                text=text,
                score=round(score, 6),
            )
        )
    return out
