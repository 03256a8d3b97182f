"""Dense retrieval: embeddings per chunk through litellm over real HTTP to a loopback
OpenAI-compatible embeddings server, stored in the real database, fused into search."""

import os
import time

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from crawler.embed import (
    dense_candidates,
    dense_candidates_exact,
    embeddings_update,
    storage_kind,
)
from crawler.index import index_html
from crawler.models import Chunk, CrawlRun, IndexStats
from crawler.search import lexical_rank, search
from crawler.services import crawl_run
from tests.crawler.conftest import FAST, html_page
from tests.crawler.embed_server import DIM, EmbeddingServer, toy_embedding

MODEL = "openai/test-embed"

SHIPPING = html_page(
    "Shipping",
    "<h2 id='package'>Package delivery</h2><p>Every package leaves our warehouse in Tampere"
    " within two working days.</p>"
    "<h2 id='returns'>Returns</h2><p>Unused goods can be sent back within thirty days.</p>",
)
OPENING = html_page("Opening hours", "<p>The shop is open from nine to five on weekdays.</p>")


@pytest.fixture
def embed_server(settings, monkeypatch):
    """The loopback embeddings server, with CLOOP_EMBEDDING_MODEL pointing litellm at it."""
    server = EmbeddingServer().start()
    monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback")
    settings.CLOOP_EMBEDDING_MODEL = MODEL
    yield server
    server.stop()


@pytest.fixture
def site(site, web):
    web.page("/", html_page("Home", "<p>Welcome to the shop.</p>", links=["/ship", "/open"]))
    web.page("/ship", SHIPPING)
    web.page("/open", OPENING)
    return site


def _embeddings() -> dict[int, list[float]]:
    with connection.cursor() as cur:
        cur.execute("SELECT chunk_id, embedding::real[] FROM crawler_embedding")
        return dict(cur.fetchall())


def test_it_creates_pgvector_storage_where_the_extension_exists(in_site_a):
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        available = cur.fetchone() is not None
    assert storage_kind() == ("vector" if available else "array")
    # `make test-external` names the kind its server must give (CI's PostgreSQL has no
    # pgvector): proof that the exact-search fallback is what that run exercised.
    if os.environ.get("CLOOP_EXPECT_STORAGE"):
        assert storage_kind() == os.environ["CLOOP_EXPECT_STORAGE"]


def test_it_stores_an_embedding_per_chunk_and_none_again_for_an_unchanged_recrawl(
    web, site, embed_server
):
    run = crawl_run(site, fetch_options=FAST)
    assert run.status == CrawlRun.Status.SUCCEEDED
    stored = _embeddings()
    chunk_ids = set(Chunk.objects.values_list("id", flat=True))
    assert chunk_ids and set(stored) == chunk_ids
    stats = IndexStats.objects.get(pk=1)
    assert (stats.embedding_model, stats.embedding_dim) == (MODEL, DIM)
    assert f"{len(chunk_ids)} chunks embedded" in run.notes
    # The stored vector is the model's embedding of title, heading and text.
    ship = Chunk.objects.get(anchor="package")
    expected = toy_embedding("Shipping\nPackage delivery\n" + ship.text)
    assert stored[ship.id] == pytest.approx(expected, abs=1e-5)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'crawler_embedding_hnsw'")
        assert cur.fetchone()[0] == (1 if storage_kind() == "vector" else 0)

    calls = len(embed_server.inputs)
    again = crawl_run(site, fetch_options=FAST)
    assert again.status == CrawlRun.Status.SUCCEEDED
    assert again.pages_indexed == 0 and again.pages_unchanged == 3
    assert len(embed_server.inputs) == calls  # nothing re-embedded
    assert _embeddings() == stored
    assert "embedded" not in again.notes


def test_it_embeds_only_the_changed_sections_of_a_changed_page(web, site, embed_server):
    crawl_run(site, fetch_options=FAST)
    kept = Chunk.objects.get(anchor="returns")
    kept_vec = _embeddings()[kept.id]
    embed_server.inputs.clear()
    web.page("/ship", SHIPPING.replace("two working days", "three working days"))
    run = crawl_run(site, fetch_options=FAST)
    assert run.pages_indexed == 1
    sent = embed_server.embedded()
    assert len(sent) == 1 and "three working days" in sent[0]
    stored = _embeddings()
    assert set(stored) == set(Chunk.objects.values_list("id", flat=True))
    returns = Chunk.objects.get(anchor="returns")
    assert returns.id != kept.id and stored[returns.id] == pytest.approx(kept_vec)


def test_it_keeps_the_lexical_index_when_the_embedding_server_fails_and_retries(
    web, site, embed_server
):
    embed_server.fail = True
    run = crawl_run(site, fetch_options=FAST)
    assert run.status == CrawlRun.Status.SUCCEEDED
    assert run.pages_indexed == 3
    n = Chunk.objects.count()
    assert f"{n} chunks not embedded, retried on the next crawl" in run.notes
    assert _embeddings() == {}
    # Search still answers lexically (the query embedding fails the same way).
    assert search("warehouse in Tampere")[0].url == web.url + "/ship#package"

    embed_server.fail = False
    again = crawl_run(site, fetch_options=FAST)
    assert again.pages_indexed == 0
    assert f"{n} chunks embedded" in again.notes
    assert set(_embeddings()) == set(Chunk.objects.values_list("id", flat=True))


def test_it_keeps_the_lexical_index_when_the_embedding_server_is_gone(
    web, site, embed_server, monkeypatch
):
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:9/v1")  # nothing listens there
    run = crawl_run(site, fetch_options=FAST)
    assert run.status == CrawlRun.Status.SUCCEEDED and run.pages_indexed == 3
    assert "not embedded" in run.notes
    assert search("opening hours weekdays")[0].page_url == web.url + "/open"


def test_it_fuses_dense_results_a_lexical_search_misses(in_site_a, embed_server):
    index_html("https://shop.test/shipping", SHIPPING)
    index_html("https://shop.test/opening", OPENING)
    assert len(_embeddings()) == Chunk.objects.count()
    # "parcel" shares no lexeme with "package": BM25 alone finds nothing.
    assert lexical_rank("parcel", 3) == []
    hits = search("parcel", k=3)
    assert hits and hits[0].url == "https://shop.test/shipping#package"
    # A question both rankings agree on keeps BM25's answer first.
    assert search("opening hours", k=3)[0].page_url == "https://shop.test/opening"


def test_it_gives_each_passage_its_cosine_with_the_query(in_site_a, embed_server, settings):
    index_html("https://shop.test/shipping", SHIPPING)
    index_html("https://shop.test/opening", OPENING)
    stored = _embeddings()
    calls = len(embed_server.inputs)
    hits = search("parcel warehouse", k=3)
    # One embedding call for the query: the similarities reuse it.
    assert len(embed_server.inputs) == calls + 1
    q = toy_embedding("parcel warehouse")
    assert hits
    for hit in hits:
        expected = sum(a * b for a, b in zip(q, stored[hit.chunk_id], strict=True))
        assert hit.similarity == pytest.approx(expected, abs=1e-5)
    assert hits[0].url == "https://shop.test/shipping#package" and hits[0].similarity > 0.3
    settings.CLOOP_EMBEDDING_MODEL = ""
    assert [h.similarity for h in search("warehouse", k=3)] == [None]


def test_it_behaves_exactly_as_before_when_switched_off(in_site_a, embed_server, settings):
    settings.CLOOP_EMBEDDING_MODEL = ""
    index_html("https://shop.test/shipping", SHIPPING)
    index_html("https://shop.test/opening", OPENING)
    assert _embeddings() == {} and embed_server.inputs == []
    assert search("parcel") == []
    hits = search("package delivery Tampere", k=3)
    assert hits[0].url == "https://shop.test/shipping#package"
    assert embed_server.inputs == []
    # Embeddings of a model that is switched off again are not used either.
    settings.CLOOP_EMBEDDING_MODEL = MODEL
    index_html("https://shop.test/opening", OPENING.replace("nine", "ten"))
    assert _embeddings()
    settings.CLOOP_EMBEDDING_MODEL = ""
    calls = len(embed_server.inputs)
    assert search("parcel") == []
    assert [h.chunk_id for h in search("package delivery Tampere", k=3)] == [
        h.chunk_id for h in hits
    ]
    assert len(embed_server.inputs) == calls


def test_it_re_embeds_everything_when_the_model_changes(in_site_a, embed_server, settings):
    index_html("https://shop.test/shipping", SHIPPING)
    first = _embeddings()
    assert first
    settings.CLOOP_EMBEDDING_MODEL = "openai/test-embed-2"
    # Before re-embedding, the index holds another model's vectors: search stays lexical.
    embed_server.inputs.clear()
    assert search("parcel") == []
    index_html("https://shop.test/opening", OPENING)
    stats = IndexStats.objects.get(pk=1)
    assert stats.embedding_model == "openai/test-embed-2"
    stored = _embeddings()
    assert set(stored) == set(
        Chunk.objects.filter(page__url__endswith="/opening").values_list("id", flat=True)
    )
    report = embeddings_update()
    assert report.embedded == len(first) and not report.error
    assert set(_embeddings()) == set(Chunk.objects.values_list("id", flat=True))


def test_it_ranks_the_same_with_the_exact_fallback(in_site_a, embed_server):
    index_html("https://shop.test/shipping", SHIPPING)
    index_html("https://shop.test/opening", OPENING)
    q = toy_embedding("parcel warehouse")
    n = Chunk.objects.count()
    indexed = dense_candidates(q, 50)
    exact = dense_candidates_exact(q, 50)
    assert len(indexed) == len(exact) == n
    # Same chunks with the same similarities, best first (ties may come in either order).
    assert sorted((round(r[2], 4), r[0]) for r in indexed) == sorted(
        (round(r[2], 4), r[0]) for r in exact
    )
    assert [r[2] for r in indexed] == pytest.approx([r[2] for r in exact], abs=1e-5)
    assert exact[0][0] == Chunk.objects.get(anchor="package").id and exact[0][2] > 0.3


def test_it_crawls_other_sites_without_embeddings_leaking(web, site, embed_server, site_b):
    crawl_run(site, fetch_options=FAST)
    with tenant_context(site_b), connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM crawler_embedding")
        assert cur.fetchone()[0] == 0


@pytest.fixture
def array_storage(in_site_a):
    """This schema's embeddings stored as real[], as on a server without pgvector (the
    migration's fallback); rolled back with the test."""
    from crawler import embed

    with connection.cursor() as cur:
        cur.execute("DROP INDEX IF EXISTS crawler_embedding_hnsw")
        cur.execute(
            "ALTER TABLE crawler_embedding ALTER COLUMN embedding TYPE real[] "
            "USING embedding::real[]"
        )
    embed._kinds.pop(connection.schema_name, None)  # the storage kind is cached per schema
    yield in_site_a
    embed._kinds.pop(connection.schema_name, None)


def test_it_searches_exactly_without_pgvector(array_storage, embed_server):
    assert storage_kind() == "array"
    index_html("https://shop.test/shipping", SHIPPING)
    index_html("https://shop.test/opening", OPENING)
    assert set(_embeddings()) == set(Chunk.objects.values_list("id", flat=True))
    hits = search("parcel", k=3)
    assert hits and hits[0].url == "https://shop.test/shipping#package"
    # A changed page keeps the float-array embeddings of its unchanged sections.
    embed_server.inputs.clear()
    index_html("https://shop.test/shipping", SHIPPING.replace("Tampere", "Turku"))
    assert len(embed_server.embedded()) == 1
    assert set(_embeddings()) == set(Chunk.objects.values_list("id", flat=True))


def test_it_leaves_chunks_for_the_next_crawl_when_the_time_budget_is_used(
    in_site_a, embed_server, settings
):
    settings.CLOOP_EMBEDDING_MODEL = ""
    index_html("https://shop.test/shipping", SHIPPING)
    settings.CLOOP_EMBEDDING_MODEL = MODEL
    report = embeddings_update(deadline=time.monotonic() - 1)
    n = Chunk.objects.count()
    assert (report.embedded, report.missing) == (0, n)
    assert f"{n} chunks not embedded, retried on the next crawl" in report.note()
    assert _embeddings() == {} and embed_server.inputs == []
    assert embeddings_update(deadline=time.monotonic() + 60).embedded == n
