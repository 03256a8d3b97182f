"""The per-site search index: pages, their chunks, and BM25's term statistics.

Every function runs in the current schema (call inside the site's `tenant_context`) and
writes one page in one transaction, so a reader sees a page's old chunks or its new ones,
never a mix. Term statistics (`Term`, `IndexStats`) change in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from crawler.chunk import chunk_sections
from crawler.embed import embeddings_keep, embeddings_restore, embeddings_update
from crawler.extract import Extracted, Section, extract_html
from crawler.models import Page
from crawler.urls import BadURL, normalise_url

log = logging.getLogger(__name__)

TEXT_CONFIGS = {"en": "english", "fi": "finnish"}
# Weighted term frequency: a word in the section heading counts 3 times, in the page title 2.
TF_WEIGHTS_SQL = "CASE w WHEN 'A' THEN 3 WHEN 'B' THEN 2 WHEN 'C' THEN 1.5 ELSE 1 END"


def text_config() -> str:
    """The text search configuration of the current site ('english' or 'finnish')."""
    tenant = getattr(connection, "tenant", None)
    lang = getattr(tenant, "language", None)
    if lang is None:
        schema = connection.schema_name
        with connection.cursor() as cur:
            cur.execute("SELECT language FROM public.tenants_site WHERE schema_name = %s", [schema])
            row = cur.fetchone()
        lang = row[0] if row else "en"
    return TEXT_CONFIGS.get(lang, "english")


@dataclass
class IndexResult:
    page: Page | None
    # indexed | unchanged | noindex | empty | removed
    status: str


def _stats_change(cur, page_id: int, sign: int) -> None:
    """Add (sign=1) or subtract (sign=-1) a page's postings from the term statistics.

    Rows are touched in lexeme order so two writers cannot deadlock on them.
    """
    cur.execute(
        """
        INSERT INTO crawler_term (lexeme, df)
        SELECT lexeme, %s * count(*) FROM crawler_posting WHERE page_id = %s
        GROUP BY lexeme ORDER BY lexeme
        ON CONFLICT (lexeme) DO UPDATE SET df = crawler_term.df + EXCLUDED.df
        """,
        [sign, page_id],
    )
    cur.execute(
        """
        INSERT INTO crawler_indexstats (id, chunks, total_length)
        SELECT 1, %s * count(*), %s * coalesce(sum(length), 0) FROM crawler_chunk
        WHERE page_id = %s
        ON CONFLICT (id) DO UPDATE SET chunks = crawler_indexstats.chunks + EXCLUDED.chunks,
            total_length = crawler_indexstats.total_length + EXCLUDED.total_length
        """,
        [sign, sign, page_id],
    )
    if sign < 0:
        cur.execute("DELETE FROM crawler_term WHERE df <= 0")


def _postings_delete(cur, page_id: int) -> None:
    cur.execute("DELETE FROM crawler_posting WHERE page_id = %s", [page_id])


# A page's chunks with their search vectors (heading at weight A, page title at B, text at D)
# and BM25 lengths (weighted token counts), in one statement.
CHUNKS_INSERT_SQL = f"""
    INSERT INTO crawler_chunk (page_id, ordinal, heading, anchor, text, search_vector, length)
    SELECT %(page)s, s.ordinal, s.heading, s.anchor, s.text, v.sv,
           coalesce((SELECT sum({TF_WEIGHTS_SQL}) FROM unnest(v.sv) u, unnest(u.weights) w), 0)
    FROM unnest(%(ordinals)s::int[], %(headings)s::text[], %(anchors)s::text[], %(texts)s::text[])
         AS s(ordinal, heading, anchor, text)
    CROSS JOIN LATERAL (
        SELECT setweight(to_tsvector(%(config)s::regconfig, s.heading), 'A')
               || setweight(to_tsvector(%(config)s::regconfig, %(title)s), 'B')
               || to_tsvector(%(config)s::regconfig, s.text) AS sv
    ) v
"""  # noqa: S608 - only constants are formatted in
# The same vectors for chunks already stored (bench/retrieval_latency.py fills in bulk).
VECTORS_SQL = """
    UPDATE crawler_chunk c SET search_vector =
        setweight(to_tsvector(%s::regconfig, coalesce(c.heading, '')), 'A')
        || setweight(to_tsvector(%s::regconfig, p.title), 'B')
        || to_tsvector(%s::regconfig, c.text)
    FROM crawler_page p WHERE p.id = c.page_id AND {where}
"""
LENGTHS_SQL = f"""
    UPDATE crawler_chunk c SET length = coalesce(
        (SELECT sum({TF_WEIGHTS_SQL}) FROM unnest(c.search_vector) u, unnest(u.weights) w), 0)
    WHERE {{where}}
"""  # noqa: S608 - only constants are formatted in
# Postings from the search vectors: one row per lexeme per chunk.
POSTINGS_SQL = f"""
    INSERT INTO crawler_posting (lexeme, chunk_id, page_id, tf, dl)
    SELECT u.lexeme, c.id, c.page_id,
           (SELECT sum({TF_WEIGHTS_SQL}) FROM unnest(u.weights) w)::real, c.length
    FROM crawler_chunk c, unnest(c.search_vector) u WHERE {{where}}
"""  # noqa: S608 - only constants are formatted in


def _chunks_write(page: Page, ex: Extracted, config: str, *, stats: bool = True) -> int:
    chunks = chunk_sections(ex.sections)
    with connection.cursor() as cur:
        cur.execute(
            CHUNKS_INSERT_SQL,
            {
                "page": page.pk,
                "ordinals": list(range(len(chunks))),
                "headings": [c.heading[:500] for c in chunks],
                "anchors": [c.anchor[:300] for c in chunks],
                "texts": [c.text for c in chunks],
                "config": config,
                "title": page.title,
            },
        )
        cur.execute(POSTINGS_SQL.format(where="c.page_id = %s"), [page.pk])
        if stats:
            _stats_change(cur, page.pk, +1)
    return len(chunks)


def page_remove(page: Page, *, stats: bool = True) -> None:
    """Delete a page and its chunks from the index (current schema)."""
    with transaction.atomic():
        with connection.cursor() as cur:
            if stats:
                _stats_change(cur, page.pk, -1)
            _postings_delete(cur, page.pk)
        page.delete()


def page_index(
    url: str,
    ex: Extracted | None,
    *,
    etag: str = "",
    last_modified: str = "",
    config: str | None = None,
    links: list[str] | None = None,
    stats: bool = True,
    source: str = Page.Source.CRAWL,
    cite_url: str = "",
) -> IndexResult:
    """Store one extracted page unless its content is unchanged (then nothing is written).

    `stats=False` leaves the term statistics alone: a crawl rebuilds them once at its end
    (index_stats_rebuild) instead of updating them page by page. `source` and `cite_url`:
    see Page (a crawl leaves them at their defaults).
    """
    existing = Page.objects.filter(url=url).first()
    if ex is None or ex.noindex or not ex.sections:
        if existing is not None:
            page_remove(existing, stats=stats)
        status = "noindex" if ex is not None and ex.noindex else "empty"
        return IndexResult(None, status)
    digest = ex.content_hash
    if existing is not None and existing.content_hash == digest:
        changed = {}
        if etag != existing.etag or last_modified != existing.last_modified:
            changed.update(etag=etag[:500], last_modified=last_modified[:100])
        if links is not None and links != existing.links:
            changed["links"] = links
        if source != existing.source or cite_url[:2000] != existing.cite_url:
            changed.update(source=source, cite_url=cite_url[:2000])
        if changed:
            Page.objects.filter(pk=existing.pk).update(**changed)
        return IndexResult(existing, "unchanged")
    config = config or text_config()
    kept: dict[str, str] = {}
    with transaction.atomic():
        if existing is not None:
            with connection.cursor() as cur:
                if stats:
                    _stats_change(cur, existing.pk, -1)
                _postings_delete(cur, existing.pk)
                # Unchanged sections of a changed page keep their embeddings.
                kept = embeddings_keep(cur, existing.pk)
            existing.chunks.all().delete()
            page = existing
        else:
            page = Page(url=url)
        page.title = ex.title[:500]
        page.language = ex.language
        page.etag = etag[:500]
        page.last_modified = last_modified[:100]
        page.content_hash = digest
        page.source = source
        page.cite_url = cite_url[:2000]
        if links is not None:
            page.links = links
        page.fetched_at = timezone.now()
        page.save()
        _chunks_write(page, ex, config, stats=stats)
        if kept:
            with connection.cursor() as cur:
                embeddings_restore(cur, page.pk, page.title, kept)
    return IndexResult(page, "indexed")


def _header(headers: dict | None, name: str) -> str:
    for k, v in (headers or {}).items():
        if k.lower() == name.lower():
            return str(v)
    return ""


def index_html(url: str, html: str, *, headers: dict | None = None) -> Page | None:
    """Extract, chunk and index one HTML document exactly as a crawl would (current schema).

    Returns the page, or None when the document is not indexed (noindex by meta tag or
    X-Robots-Tag header, or no content); an earlier version of that page is then removed.
    """
    try:
        url = normalise_url(url)
    except BadURL as exc:
        raise ValueError(str(exc)) from exc
    ex = extract_html(html, robots_header=_header(headers, "x-robots-tag"))
    res = page_index(
        url,
        ex,
        etag=_header(headers, "etag"),
        last_modified=_header(headers, "last-modified"),
    )
    if res.status == "indexed":
        # Dense retrieval on: embed the page's new chunks now (a failure leaves them for
        # the next crawl; the lexical index is already written).
        embeddings_update(page_ids=[res.page.pk])
    return res.page


def text_page_index(
    url: str, *, title: str, text: str, source: str, cite_url: str = "", language: str = ""
) -> Page:
    """Index a page that was written, not crawled (a custom answer), exactly as a crawled
    page's section is: `title` as the page title and the section heading (so its words weigh
    like a heading's), `text` as the body. Current schema; term statistics change in the same
    transaction, so it is searchable, and ranked against the crawled pages, at once.
    """
    sections = [Section(heading=title[:500], anchor="", level=1, text=text)]
    ex = Extracted(title=title, language=language, sections=sections)
    res = page_index(url, ex, source=source, cite_url=cite_url)
    if res.status == "indexed":
        embeddings_update(page_ids=[res.page.pk])
    return res.page


def index_stats_rebuild() -> None:
    """Recompute term statistics from the chunks themselves (current schema).

    Run after each crawl, so a page deleted behind the index's back (admin, cascade)
    distorts ranking for at most one crawl interval.
    """
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("LOCK TABLE crawler_term IN EXCLUSIVE MODE")
        cur.execute("DELETE FROM crawler_term")
        cur.execute(
            """
            INSERT INTO crawler_term (lexeme, df)
            SELECT lexeme, count(*) FROM crawler_posting GROUP BY lexeme
            """
        )
        cur.execute(
            """
            INSERT INTO crawler_indexstats (id, chunks, total_length)
            SELECT 1, count(*), coalesce(sum(length), 0) FROM crawler_chunk
            ON CONFLICT (id) DO UPDATE SET chunks = EXCLUDED.chunks,
                total_length = EXCLUDED.total_length
            """
        )
