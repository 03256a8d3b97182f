"""Retrieval: BM25 over the site's own term statistics, from an inverted index in PostgreSQL.

PostgreSQL's `ts_rank` ignores how rare a word is across the site, so a page that repeats a
common word outranks the one section that names the rare word the visitor asked about.
Here each query lexeme gets BM25's IDF from `crawler_term` (document frequencies kept by
crawler.index), term frequencies come from `crawler_posting` (one row per lexeme per chunk;
a heading word counts 3 times, a title word 2), and chunk length is normalised against the
site's average. A query term's postings are one index-only range scan.

Top-k with MaxScore: the rarest query lexemes ("essential", up to CANDIDATE_BUDGET postings
together) generate candidates; the other lexemes only add their scores to those candidates.
The result is exact when the best scores found are at least what a chunk outside the
candidates could reach (its essential part plus the other lexemes' upper bounds); otherwise
the next rarest lexeme becomes essential and the search repeats. Lexemes in more than
COMMON_SHARE of all chunks never generate candidates unless the query has nothing else
(they add little to a score, and scanning them would cost the most).

Dense retrieval (optional, CLOOP_EMBEDDING_MODEL): the query's embedding finds the nearest
chunks (crawler.embed) and `fuse` merges both rankings, and each passage returned carries its
cosine with the query (for the answer's refusal check); when the model is off, its call
fails or the index holds another model's embeddings, search is the lexical ranking alone.

Runs in the current schema (call inside the site's `tenant_context`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from django.db import connection

from crawler.embed import dense_candidates, query_embedding, similarities
from crawler.index import text_config

K1 = 1.2
B = 0.75
CANDIDATE_BUDGET = 2000
COMMON_SHARE = 0.1
# Rounds of MaxScore before the best found so far is accepted (bounds the cost of a query
# made only of fairly common words; see docs/crawler.md for the measured effect).
MAX_ROUNDS = 2
# Candidates kept from the essential lexemes' postings, as a multiple of the pool re-ranked.
LIMIT_FACTOR = 2
MAX_QUERY_LEXEMES = 32
# At most this many passages from one page, so one long page cannot crowd out the others...
PER_PAGE = 2
# ...unless the page is clearly the one: its best passage scores at least CLEAR_MARGIN times
# the best passage of any other page. Then up to PER_PAGE_CLEAR of its passages are kept (an
# answer spanning several sections of one page: the opening hours of three shops).
PER_PAGE_CLEAR = 4
CLEAR_MARGIN = 1.5
# Page evidence: a passage gains this share of the scores of the other candidate passages of
# its page. A page that answers the question in several sections is more likely about it
# than a page that mentions the words once (bench/retrieval_quality.py: MRR 0.67 -> 0.77).
PAGE_EVIDENCE = 0.2
PAGE_EVIDENCE_TOP = 2
# Dense retrieval (CLOOP_EMBEDDING_MODEL): nearest chunks fetched, and their fusion with the
# lexical ranking (see fuse()).
DENSE_CANDIDATES = 40
RRF_K = 60
DENSE_WEIGHT = 0.5
DENSE_MIN_SIMILARITY = 0.3


@dataclass
class Passage:
    chunk_id: int
    url: str
    page_url: str
    title: str
    heading: str
    text: str
    score: float
    # Page.source: "crawl", or "answer" for a customer's custom answer.
    source: str = "crawl"
    # Cosine of the query's and this chunk's embeddings when dense retrieval ran (the
    # answer's semantic coverage check); None without a model or an embedding.
    similarity: float | None = None

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


_SCORE_SQL = """
    WITH part AS (
        SELECT p.chunk_id, p.page_id,
               sum(q.w * p.tf / (p.tf + %(k1)s::float8 * (1 - %(b)s::float8 + %(b)s::float8 * p.dl / %(avgdl)s::float8))) AS s
        FROM unnest(%(ess)s::text[], %(ess_w)s::float8[]) AS q(lexeme, w)
        JOIN crawler_posting p ON p.lexeme = q.lexeme
        GROUP BY p.chunk_id, p.page_id
        ORDER BY s DESC, p.chunk_id
        LIMIT %(limit)s
    )
    SELECT part.chunk_id, part.page_id, part.s, part.s + coalesce(x.s, 0) AS score
    FROM part LEFT JOIN LATERAL (
        SELECT sum(q.w * p.tf / (p.tf + %(k1)s::float8 * (1 - %(b)s::float8 + %(b)s::float8 * p.dl / %(avgdl)s::float8))) AS s
        FROM unnest(%(rest)s::text[], %(rest_w)s::float8[]) AS q(lexeme, w)
        JOIN crawler_posting p ON p.lexeme = q.lexeme AND p.chunk_id = part.chunk_id
    ) x ON true
    ORDER BY score DESC, part.chunk_id
"""


# One essential lexeme: no aggregation, just the top of its postings.
_SCORE_ONE_SQL = _SCORE_SQL.replace(
    """        FROM unnest(%(ess)s::text[], %(ess_w)s::float8[]) AS q(lexeme, w)
        JOIN crawler_posting p ON p.lexeme = q.lexeme
        GROUP BY p.chunk_id, p.page_id""",
    """        FROM (SELECT (%(ess)s::text[])[1] AS lexeme, (%(ess_w)s::float8[])[1] AS w) q
        JOIN crawler_posting p ON p.lexeme = q.lexeme""",
).replace("sum(q.w * p.tf", "(q.w * p.tf", 1)
if "GROUP BY" in _SCORE_ONE_SQL:  # the rewrite above must have matched
    raise ImportError("crawler.search: _SCORE_ONE_SQL rewrite failed")


def _score(ess, ess_w, rest, rest_w, avgdl: float, limit: int):
    """[(chunk_id, page_id, essential score, full score)], best full score first."""
    with connection.cursor() as cur:
        cur.execute(
            _SCORE_ONE_SQL if len(ess) == 1 else _SCORE_SQL,
            {
                "k1": K1,
                "b": B,
                "avgdl": avgdl,
                "ess": ess,
                "ess_w": ess_w,
                "rest": rest,
                "rest_w": rest_w,
                "limit": limit,
            },
        )
        return cur.fetchall()


def search(query: str, k: int = 5) -> list[Passage]:
    """The `k` passages of the current site that best answer `query`, best first."""
    lexical = lexical_rank(query, k)
    if lexical is None:
        return []
    qvec = query_embedding(query)
    if qvec is None:
        return _passages(lexical, k)
    dense = dense_candidates(qvec, DENSE_CANDIDATES, [r[0] for r in lexical])
    passages = _passages(fuse(lexical, dense), k)
    # The query's embedding is reused: the passages' similarities cost one query of k rows.
    sims = similarities(qvec, [p.chunk_id for p in passages])
    for p in passages:
        p.similarity = sims.get(p.chunk_id)
    return passages


def lexical_rank(query: str, k: int) -> list[tuple] | None:
    """BM25 candidates [(chunk_id, page_id, score)], best first, enough for `k` passages.

    None when the query has no searchable words (only stop words) or the index is empty:
    then nothing is searched at all, dense retrieval included.
    """
    if not query or not query.strip() or k <= 0:
        return None
    # One round trip: the query's lexemes, their document frequencies, N and total length.
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT q.lexeme, t.df, s.chunks, s.total_length
            FROM (SELECT DISTINCT lexeme FROM unnest(to_tsvector(%s::regconfig, %s))) q
            CROSS JOIN crawler_indexstats s
            LEFT JOIN crawler_term t ON t.lexeme = q.lexeme AND t.df > 0
            WHERE s.id = 1
            ORDER BY q.lexeme LIMIT %s
            """,
            [text_config(), query[:2000], MAX_QUERY_LEXEMES],
        )
        found = cur.fetchall()
    if not found or found[0][2] <= 0:
        return None
    return _lexical(found, k)


def _lexical(found, k: int) -> list[tuple]:
    """[(chunk_id, page_id, score)]: BM25 with MaxScore, then page evidence, best first."""
    n, total_length = found[0][2], found[0][3]
    avgdl = max(total_length / n, 1.0)
    dfs = {lx: df for lx, df, _, _ in found if df}
    # Rarest first: they carry the score.
    present = sorted(dfs, key=lambda lx: (dfs[lx], lx))
    if not present:
        return []
    weight = {lx: math.log(1 + (n - dfs[lx] + 0.5) / (dfs[lx] + 0.5)) * (K1 + 1) for lx in present}
    want = max(40, k * PER_PAGE * 4)
    limit = want * LIMIT_FACTOR
    common = max(CANDIDATE_BUDGET, COMMON_SHARE * n)
    n_ess, total = 0, 0
    for lx in present:
        if n_ess and (total + dfs[lx] > CANDIDATE_BUDGET or dfs[lx] > common):
            break
        n_ess += 1
        total += dfs[lx]
    rounds = 0
    while True:
        ess, rest = present[:n_ess], present[n_ess:]
        rows = _score(ess, [weight[x] for x in ess], rest, [weight[x] for x in rest], avgdl, limit)
        # weight = the most a lexeme can add to any chunk's score (tf/(tf+K) < 1).
        bound = sum(weight[x] for x in rest)
        if len(rows) == limit:
            bound += min(r[2] for r in rows)
        exact = not rest or (len(rows) >= want and rows[want - 1][3] >= bound)
        rounds += 1
        if exact or rounds >= MAX_ROUNDS or dfs[present[n_ess]] > common:
            break
        n_ess += 1
    return _page_evidence([(r[0], r[1], r[3]) for r in rows[:want]])


def fuse(
    lexical: list[tuple],
    dense: list[tuple],
    *,
    weight: float = DENSE_WEIGHT,
    rrf_k: float = RRF_K,
    min_similarity: float = DENSE_MIN_SIMILARITY,
) -> list[tuple]:
    """Weighted reciprocal rank fusion of the lexical and dense rankings.

    score = 1/(RRF_K + lexical rank) + DENSE_WEIGHT/(RRF_K + dense rank), a missing rank
    adding nothing. Dense candidates below DENSE_MIN_SIMILARITY are not evidence. With
    DENSE_WEIGHT < 1 the dense ranking reorders passages BM25 found and adds passages it
    missed, but a passage found by dense alone never outranks BM25's best (how the constants
    were chosen: docs/crawler.md).
    """
    scores: dict[int, float] = {}
    pages: dict[int, int] = {}
    for rank, (cid, page_id, _) in enumerate(lexical, 1):
        scores[cid] = 1.0 / (rrf_k + rank)
        pages[cid] = page_id
    for rank, (cid, page_id, sim) in enumerate(dense, 1):
        if sim < min_similarity:
            break
        scores[cid] = scores.get(cid, 0.0) + weight / (rrf_k + rank)
        pages[cid] = page_id
    out = [(cid, pages[cid], score) for cid, score in scores.items()]
    out.sort(key=lambda r: (-r[2], r[0]))
    return out


def _page_evidence(rows):
    """Re-rank candidates: each gains PAGE_EVIDENCE x the best PAGE_EVIDENCE_TOP other
    candidates of its page (not all of them: a long reference page would otherwise win
    every query by its many weak matches)."""
    by_page: dict[int, list[float]] = {}
    for _, page_id, score in rows:
        by_page.setdefault(page_id, []).append(float(score))
    top = {
        pid: sorted(scores, reverse=True)[: PAGE_EVIDENCE_TOP + 1]
        for pid, scores in by_page.items()
    }

    def others(page_id: int, score: float) -> float:
        best = top[page_id]
        # The best scores of the page other than this passage's own.
        if score in best:
            return sum(best) - score
        return sum(best[:PAGE_EVIDENCE_TOP])

    out = [
        (cid, page_id, float(score) + PAGE_EVIDENCE * others(page_id, float(score)))
        for cid, page_id, score in rows
    ]
    out.sort(key=lambda r: (-r[2], r[0]))
    return out


def page_caps(rows) -> dict[int, int]:
    """{page_id: passages allowed} where a page gets more than PER_PAGE (see CLEAR_MARGIN)."""
    if not rows:
        return {}
    top_page, top_score = rows[0][1], float(rows[0][2])
    other = next((float(r[2]) for r in rows if r[1] != top_page), 0.0)
    if top_score > 0 and top_score >= CLEAR_MARGIN * other:
        return {top_page: PER_PAGE_CLEAR}
    return {}


def _passages(rows, k: int) -> list[Passage]:
    picked: list[tuple[int, float]] = []
    per_page: dict[int, int] = {}
    caps = page_caps(rows)
    for chunk_id, page_id, score in rows:
        if per_page.get(page_id, 0) >= caps.get(page_id, PER_PAGE):
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
            SELECT c.id, p.url, p.title, c.heading, c.anchor, c.text, p.source, p.cite_url
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
        _, page_url, title, heading, anchor, text, source, cite_url = found[cid]
        url = cite_url or (f"{page_url}#{anchor}" if anchor else page_url)
        out.append(
            Passage(
                chunk_id=cid,
                url=url,
                page_url=page_url,
                title=title,
                heading=heading,
                text=text,
                score=round(score, 6),
                source=source,
            )
        )
    return out
