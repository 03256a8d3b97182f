"""Chunk embeddings for dense retrieval, when CLOOP_EMBEDDING_MODEL names a litellm model.

Embeddings are computed after the lexical index is written, in batches, only for chunks
that have none: an unchanged page has its embeddings already and writes nothing, and a
changed page keeps the embeddings of the chunks whose text did not change (page_index
carries them over by digest). A failing embedding service never touches the lexical index:
the chunks simply stay without embeddings, `embeddings_update` says so, and the next crawl
retries them.

Storage: `crawler_embedding.embedding` is a pgvector `vector` where the extension exists
(an HNSW index on `embedding::vector(dim)` is created once the model's dimension is known),
a `real[]` otherwise, searched exactly in SQL over a bounded set (`dense_candidates_exact`).

Every function runs in the current schema (call inside the site's `tenant_context`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from crawler.models import IndexStats

log = logging.getLogger(__name__)

BATCH = 64
# Characters of a chunk sent to the model (models truncate at a few hundred tokens anyway).
MAX_INPUT_CHARS = 2000
# Seconds for one embedding call during a crawl, and for the query's at search time.
CRAWL_TIMEOUT = 60.0
QUERY_TIMEOUT = 5.0
# Without pgvector: at most this many stored embeddings are compared besides the lexical
# candidates (the exact fallback must stay bounded on a large site).
FALLBACK_SCAN = 5_000
HNSW_EF_SEARCH = 100


def embedding_model() -> str:
    return (settings.CLOOP_EMBEDDING_MODEL or "").strip()


def chunk_input(title: str, heading: str, text: str) -> str:
    """What is embedded for a chunk: page title, section heading and text."""
    parts = [p for p in (title, heading if heading != title else "", text) if p]
    return "\n".join(parts)[:MAX_INPUT_CHARS]


def chunk_digest(title: str, heading: str, text: str) -> str:
    return hashlib.sha256(chunk_input(title, heading, text).encode()).hexdigest()[:32]


def _normalise(vec) -> list[float]:
    norm = math.sqrt(sum(float(x) * float(x) for x in vec)) or 1.0
    return [float(x) / norm for x in vec]


def embed_texts(texts: list[str], *, timeout: float = CRAWL_TIMEOUT) -> list[list[float]]:
    """Unit-length embeddings of `texts` from the configured model (litellm; raises on error).

    The endpoint comes from litellm's own configuration (for `openai/...` models:
    OPENAI_API_BASE / OPENAI_API_KEY).
    """
    import litellm

    resp = litellm.embedding(model=embedding_model(), input=texts, timeout=timeout)
    data = sorted(resp.data, key=lambda d: d["index"] if isinstance(d, dict) else d.index)
    out = [_normalise(d["embedding"] if isinstance(d, dict) else d.embedding) for d in data]
    if len(out) != len(texts):
        raise ValueError(f"the model returned {len(out)} embeddings for {len(texts)} inputs")
    return out


_kinds: dict[str, str] = {}


def storage_kind() -> str:
    """'vector' (pgvector), 'array' (real[]) or '' (no table) for the current schema."""
    schema = connection.schema_name
    if schema not in _kinds:
        with connection.cursor() as cur:
            cur.execute(
                """
                SELECT t.typname FROM pg_attribute a
                JOIN pg_type t ON t.oid = a.atttypid
                WHERE a.attrelid = to_regclass('crawler_embedding') AND a.attname = 'embedding'
                """
            )
            row = cur.fetchone()
        kind = "" if row is None else ("vector" if row[0] == "vector" else "array")
        if not kind:
            return ""  # not migrated yet: ask again next time
        _kinds[schema] = kind
    return _kinds[schema]


def _literal(vec: list[float], kind: str) -> str:
    body = ",".join(f"{x:.7g}" for x in vec)
    return f"[{body}]" if kind == "vector" else "{" + body + "}"


def _cast(kind: str, dim: int = 0) -> str:
    if kind == "vector":
        return f"public.vector({int(dim)})" if dim else "public.vector"
    return "real[]"


@dataclass
class EmbedReport:
    embedded: int = 0
    missing: int = 0  # chunks still without an embedding (the service failed)
    error: str = ""
    model: str = ""

    def note(self) -> str:
        """One line for the crawl report, or '' when there is nothing to say."""
        if self.error:
            return (
                f"embeddings ({self.model}): {self.missing} chunks not embedded, "
                f"retried on the next crawl ({self.error[:200]})"
            )
        if self.embedded:
            return f"embeddings ({self.model}): {self.embedded} chunks embedded"
        return ""


def _model_switch(model: str, kind: str) -> IndexStats:
    """The stats row; when the model changed, every stored embedding is dropped first."""
    stats = IndexStats.objects.filter(pk=1).first()
    if stats is None:
        stats = IndexStats.objects.create(pk=1)
    if stats.embedding_model != model:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("DELETE FROM crawler_embedding")
            if kind == "vector":
                cur.execute("DROP INDEX IF EXISTS crawler_embedding_hnsw")
            IndexStats.objects.filter(pk=1).update(embedding_model=model, embedding_dim=0)
        stats.embedding_model, stats.embedding_dim = model, 0
    return stats


def _dim_set(dim: int, kind: str) -> None:
    with transaction.atomic(), connection.cursor() as cur:
        IndexStats.objects.filter(pk=1).update(embedding_dim=dim)
        if kind == "vector":
            # An exact scan would cost O(chunks) per query; HNSW keeps search fast at 100k.
            cur.execute("DROP INDEX IF EXISTS crawler_embedding_hnsw")
            cur.execute(
                "CREATE INDEX IF NOT EXISTS crawler_embedding_hnsw ON crawler_embedding USING hnsw "
                f"((embedding::public.vector({int(dim)})) public.vector_cosine_ops)"
            )


def embeddings_update(
    *,
    page_ids: list[int] | None = None,
    limit: int | None = None,
    deadline: float | None = None,
):
    """Embed every chunk (of `page_ids`, or all) that has no embedding yet. Never raises for
    a failing model call: the report says how many chunks are still missing. No new batch
    starts after `deadline` (time.monotonic()); the rest waits for the next call.

    Returns an EmbedReport, or None when dense retrieval is off or not migrated.
    Each batch is written in its own transaction (current schema).
    """
    model = embedding_model()
    kind = storage_kind() if model else ""
    if not model or not kind:
        return None
    stats = _model_switch(model, kind)
    report = EmbedReport(model=model)
    dim = stats.embedding_dim
    where, params = "e.chunk_id IS NULL", []
    if page_ids is not None:
        where += " AND c.page_id = ANY(%s)"
        params.append(list(page_ids))
    after = 0
    while limit is None or report.embedded < limit:
        if deadline is not None and time.monotonic() >= deadline:
            report.error = "time budget of this crawl used up"
            break
        with connection.cursor() as cur:
            cur.execute(
                f"""
                SELECT c.id, c.page_id, p.title, c.heading, c.text
                FROM crawler_chunk c JOIN crawler_page p ON p.id = c.page_id
                LEFT JOIN crawler_embedding e ON e.chunk_id = c.id
                WHERE {where} AND c.id > %s ORDER BY c.id LIMIT %s
                """,  # noqa: S608 - only constants are formatted in
                [*params, after, BATCH],
            )
            rows = cur.fetchall()
        if not rows:
            break
        after = rows[-1][0]
        try:
            vecs = embed_texts([chunk_input(t, h, x) for _, _, t, h, x in rows])
            if dim and any(len(v) != dim for v in vecs):
                raise ValueError(f"the model's dimension changed from {dim}")
        except Exception as exc:  # noqa: BLE001 - the lexical index must not suffer
            log.warning("embedding %d chunks with %s failed: %s", len(rows), model, exc)
            report.error = f"{type(exc).__name__}: {exc}"
            break
        if not dim:
            dim = len(vecs[0])
            _dim_set(dim, kind)
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f"""
                INSERT INTO crawler_embedding (chunk_id, page_id, digest, embedding)
                SELECT u.id, u.page_id, u.digest, u.e::{_cast(kind)}
                FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[])
                     AS u(id, page_id, digest, e)
                JOIN crawler_chunk c ON c.id = u.id
                ON CONFLICT (chunk_id) DO NOTHING
                """,  # noqa: S608 - only constants are formatted in
                [
                    [r[0] for r in rows],
                    [r[1] for r in rows],
                    [chunk_digest(r[2], r[3], r[4]) for r in rows],
                    [_literal(v, kind) for v in vecs],
                ],
            )
            report.embedded += cur.rowcount
    if report.error:
        with connection.cursor() as cur:
            cur.execute(
                f"""
                SELECT count(*) FROM crawler_chunk c
                LEFT JOIN crawler_embedding e ON e.chunk_id = c.id WHERE {where}
                """,  # noqa: S608 - only constants are formatted in
                params,
            )
            report.missing = cur.fetchone()[0]
    return report


def embeddings_keep(cur, page_id: int) -> dict[str, str]:
    """{digest: embedding as text} of a page about to be re-chunked (inside its transaction)."""
    if not storage_kind():
        return {}
    cur.execute(
        "SELECT digest, embedding::text FROM crawler_embedding WHERE page_id = %s", [page_id]
    )
    return dict(cur.fetchall())


def embeddings_restore(cur, page_id: int, title: str, kept: dict[str, str]) -> None:
    """Give the page's new chunks the kept embeddings of identical old chunks (same
    transaction as the chunks' insert), so only new or changed chunks are embedded again."""
    if not kept:
        return
    cur.execute("SELECT id, heading, text FROM crawler_chunk WHERE page_id = %s", [page_id])
    ids, digests, vecs = [], [], []
    for cid, heading, text in cur.fetchall():
        d = chunk_digest(title, heading, text)
        if d in kept:
            ids.append(cid)
            digests.append(d)
            vecs.append(kept[d])
    if ids:
        cur.execute(
            f"""
            INSERT INTO crawler_embedding (chunk_id, page_id, digest, embedding)
            SELECT u.id, %s, u.digest, u.e::{_cast(storage_kind())}
            FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS u(id, digest, e)
            ON CONFLICT (chunk_id) DO NOTHING
            """,  # noqa: S608 - only constants are formatted in
            [page_id, ids, digests, vecs],
        )


def query_embedding(query: str) -> list[float] | None:
    """The query's embedding, or None when dense retrieval is off, the index holds another
    model's embeddings, or the model call fails (search then stays lexical)."""
    model = embedding_model()
    if not model or not storage_kind():
        return None
    stats = IndexStats.objects.filter(pk=1).values("embedding_model", "embedding_dim").first()
    if not stats or stats["embedding_model"] != model or not stats["embedding_dim"]:
        return None
    try:
        vec = embed_texts([query[:MAX_INPUT_CHARS]], timeout=QUERY_TIMEOUT)[0]
    except Exception as exc:  # noqa: BLE001 - lexical search still answers
        log.warning("query embedding with %s failed: %s", model, exc)
        return None
    return vec if len(vec) == stats["embedding_dim"] else None


def dense_candidates(qvec: list[float], n: int, also: list[int] = ()) -> list[tuple]:
    """[(chunk_id, page_id, cosine)] of the `n` chunks nearest to `qvec`, best first.

    pgvector: HNSW on `embedding::vector(dim)` (ef_search HNSW_EF_SEARCH). Without it: the
    exact cosine over the chunks in `also` (the lexical candidates) and FALLBACK_SCAN others.
    """
    kind = storage_kind()
    dim = len(qvec)
    if kind == "vector":
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT set_config('hnsw.ef_search', %s, true)", [str(HNSW_EF_SEARCH)])
            cur.execute(
                f"""
                SELECT chunk_id, page_id, 1 - (embedding::{_cast(kind, dim)} <=> %s::{_cast(kind, dim)})
                FROM crawler_embedding
                ORDER BY embedding::{_cast(kind, dim)} <=> %s::{_cast(kind, dim)}
                LIMIT %s
                """,  # noqa: S608 - only constants are formatted in
                [_literal(qvec, kind), _literal(qvec, kind), n],
            )
            return [(r[0], r[1], float(r[2])) for r in cur.fetchall()]
    return dense_candidates_exact(qvec, n, also)


def dense_candidates_exact(
    qvec: list[float], n: int, also=(), *, scan: int = FALLBACK_SCAN
) -> list[tuple]:
    """The exact fallback of `dense_candidates` (any storage: vectors are read as real[]).

    Cosine (the stored vectors are unit length: a dot product) computed in PostgreSQL over
    the chunks in `also` and the first `scan` others: exact for a site of up to `scan`
    chunks, bounded in cost above that.
    """
    with connection.cursor() as cur:
        cur.execute(
            """
            WITH pool AS (
                (SELECT chunk_id, page_id FROM crawler_embedding WHERE chunk_id = ANY(%s))
                UNION
                (SELECT chunk_id, page_id FROM crawler_embedding ORDER BY chunk_id LIMIT %s)
            )
            SELECT pool.chunk_id, pool.page_id,
                   (SELECT sum(a::float8 * b) FROM unnest(e.embedding::real[], %s::real[]) t(a, b))
                   AS sim
            FROM pool JOIN crawler_embedding e ON e.chunk_id = pool.chunk_id
            ORDER BY sim DESC, pool.chunk_id LIMIT %s
            """,
            [list(also), scan, _literal(qvec, "array"), n],
        )
        return [(r[0], r[1], float(r[2])) for r in cur.fetchall()]


def similarities(qvec: list[float], chunk_ids: list[int]) -> dict[int, float]:
    """{chunk_id: cosine of its stored embedding and `qvec`} for the given chunks (any
    storage; a chunk without an embedding is absent). Exact, over these rows only: the
    passages a search returns, for the answer's semantic coverage check."""
    if not chunk_ids:
        return {}
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT e.chunk_id,
                   (SELECT sum(a::float8 * b) FROM unnest(e.embedding::real[], %s::real[]) t(a, b))
            FROM crawler_embedding e WHERE e.chunk_id = ANY(%s)
            """,
            [_literal(qvec, "array"), list(chunk_ids)],
        )
        return {r[0]: float(r[1]) for r in cur.fetchall() if r[1] is not None}
