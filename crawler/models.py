"""Crawl settings, crawl runs, pages and their chunks.

Every model here lives in each site's own schema (crawler is a TENANT_APP): a query always
runs inside the site's `tenant_context`, so one site's index can never answer for another.
"""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Left, Length

from tenants.scoping import SiteSingleton


def _str_list(**kwargs):
    return ArrayField(models.CharField(max_length=500), default=list, blank=True, **kwargs)


class CrawlSettings(SiteSingleton):
    """What to crawl and how politely: one row per site (pk 1), editable by the customer."""

    start_urls = _str_list(
        help_text="Where the crawl starts, one URL per line. Empty: the site's public URL.",
    )
    allowed_hosts = _str_list(
        help_text="Host names the crawler may visit. Empty: the hosts of the start URLs.",
    )
    include_patterns = _str_list(
        help_text="Only paths matching one of these patterns are crawled (shell-style, e.g. "
        "/docs/*). Empty: every path.",
    )
    exclude_patterns = _str_list(
        help_text="Paths matching any of these patterns are skipped (e.g. /cart/*, */print/*).",
    )
    max_pages = models.PositiveIntegerField(
        default=1000,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
        help_text="Page budget of one crawl.",
    )
    recrawl_interval_hours = models.PositiveIntegerField(
        default=24,
        validators=[MaxValueValidator(24 * 365)],
        help_text="Re-crawl the site automatically this often. 0 turns scheduled crawls off.",
    )
    connections_per_host = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(16)],
        help_text="Parallel connections to each host. robots.txt Crawl-delay is always honoured.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "crawl settings"
        verbose_name_plural = "crawl settings"

    def __str__(self):
        return "Crawl settings"


class CrawlRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        INTERRUPTED = "interrupted"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=16, default="manual", help_text="manual, schedule, task")
    task_id = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    pages_fetched = models.PositiveIntegerField(default=0)
    pages_indexed = models.PositiveIntegerField(default=0)
    pages_unchanged = models.PositiveIntegerField(default=0)
    pages_skipped = models.PositiveIntegerField(default=0)
    pages_removed = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    # [{"url", "reason", "detail"}] for every URL that was not indexed.
    skipped = models.JSONField(default=list, blank=True)
    # {rule: number of URLs} of the URL-trap rules that fired (crawler.traps.RULES).
    traps = models.JSONField(default=dict, blank=True)
    # Resume state of an interrupted crawl: URLs still to visit and URLs already done.
    frontier = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # Remarks about robots.txt and sitemaps (unreachable, unparseable) for the report.
    notes = models.TextField(blank=True)

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one queued or running run per site (each site has its own table): a
            # unique index on a constant over the active rows. crawler.runs.crawl_run_create
            # turns the violation into "already queued or running".
            models.UniqueConstraint(
                models.Value(True),
                name="crawler_crawlrun_one_active",
                condition=models.Q(status__in=["queued", "running"]),
            )
        ]

    def __str__(self):
        return f"Crawl {self.pk} ({self.status})"

    @property
    def seconds(self) -> float:
        if self.started_at and self.finished_at:
            return round((self.finished_at - self.started_at).total_seconds(), 3)
        return 0.0

    def summary(self, site_id: str) -> dict:
        """The staff command's JSON line (docs/crawler.md)."""
        return {
            "site_id": site_id,
            "status": self.status,
            "pages_fetched": self.pages_fetched,
            "pages_indexed": self.pages_indexed,
            "pages_skipped": self.pages_skipped,
            "errors": self.errors,
            "seconds": self.seconds,
            "traps": dict(self.traps),
            "notes": self.notes.splitlines(),
        }


class Page(models.Model):
    class Source(models.TextChoices):
        CRAWL = "crawl", "Crawled"
        ANSWER = "answer", "Custom answer"

    url = models.CharField(max_length=2000, unique=True)
    # Where the page came from. A crawl only ever removes the pages it crawled: a customer's
    # custom answer (conversations.CustomAnswer) is indexed here beside them, ranked the same
    # way, and lives until the customer deletes or deactivates it.
    source = models.CharField(
        max_length=16, choices=Source.choices, default=Source.CRAWL, db_default=Source.CRAWL
    )
    # The URL an answer cites for this page when it is not `url` itself (a custom answer's
    # own link); blank: `url` (with the section's anchor).
    cite_url = models.CharField(max_length=2000, blank=True, db_default="")
    title = models.CharField(max_length=500, blank=True)
    language = models.CharField(max_length=16, blank=True)
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    # Links found on the page: a 304 on re-crawl still leads the crawl on to them.
    links = models.JSONField(default=list, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["url"]

    def __str__(self):
        return self.url


class Chunk(models.Model):
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="chunks")
    ordinal = models.PositiveIntegerField()
    heading = models.CharField(max_length=500, blank=True)
    anchor = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    # Title and heading at weight A, body at D, in the site's text search configuration.
    search_vector = SearchVectorField(null=True)
    # Number of lexeme positions: the document length of BM25.
    length = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["page_id", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["page", "ordinal"], name="crawler_chunk_page_ordinal")
        ]
        indexes = [GinIndex(fields=["search_vector"], name="crawler_chunk_sv_gin")]

    def __str__(self):
        return f"{self.page.url}#{self.anchor}" if self.anchor else self.page.url


# crawler_posting (lexeme, chunk_id, page_id, tf, dl) is the inverted index BM25 reads: one
# row per lexeme per chunk, covered by an index on (lexeme, chunk_id) INCLUDE (page_id, tf,
# dl) so a query term's postings are one index-only range scan. It has no Django model (no
# primary key is needed, and Django's cascade would scan it row by row): migration 0004
# creates it, crawler.index writes it, crawler.search reads it.


# crawler_embedding (chunk_id, page_id, digest, embedding) holds one embedding per chunk
# when CLOOP_EMBEDDING_MODEL is set: a pgvector `vector` where the extension exists, a
# `real[]` otherwise (migration 0006 decides). No Django model either: crawler.embed owns it.


class Term(models.Model):
    """Document frequency of each lexeme over this site's chunks (BM25's IDF).

    Kept up to date by crawler.index in the same transaction as the chunks, and rebuilt from
    the chunks at the end of every crawl so that any drift is bounded.
    """

    lexeme = models.TextField(primary_key=True)
    df = models.IntegerField(default=0)

    class Meta:
        indexes = [
            # crawler.spelling looks up the lexemes of a typo's first letter and about its
            # length: an index scan, not a scan of the whole vocabulary, on large sites.
            models.Index(Left("lexeme", 1), Length("lexeme"), name="crawler_term_spelling_idx"),
        ]

    def __str__(self):
        return f"{self.lexeme} ({self.df})"


class IndexStats(models.Model):
    """Chunk count and total length of this site's index (pk 1): BM25's N and avgdl."""

    chunks = models.BigIntegerField(default=0)
    total_length = models.BigIntegerField(default=0)
    # The embedding model the stored chunk embeddings come from and its dimension (0: not
    # known yet). A different CLOOP_EMBEDDING_MODEL makes crawler.embed re-embed everything.
    embedding_model = models.CharField(max_length=200, blank=True, db_default="")
    embedding_dim = models.PositiveIntegerField(default=0, db_default=0)

    def __str__(self):
        return f"{self.chunks} chunks"
