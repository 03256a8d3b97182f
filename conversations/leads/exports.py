"""Lead exports: `leads_export(site, sink, actor)`, the one way leads leave the system.

Every entry point calls it (the admin's "Export all as CSV" and selected-rows action, `GET
/api/v1/leads.csv`, `manage.py export_leads`): it fixes the rows, counts them, records the
export once in the access log (conversations.privacy.access_log) and streams the rows into the sink,
in constant memory (keyset pagination, PAGE_SIZE rows per query), as CSV that is safe to open
in a spreadsheet (`CsvFile`, `CsvDownload`) or as JSON (`JsonFile`).

Leads of visitors who objected (Art. 21), and leads whose e-mail is under a done objection
request, never appear in an export.

The row readers re-enter the site's schema themselves for every page they read, because a
streaming response is consumed after the view returned, possibly on another thread (ASGI)
whose connection is on another schema.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator, Iterator
from typing import Protocol

from asgiref.sync import sync_to_async
from django.db import connection
from django.db.models import Count, Max
from django.db.models.functions import Lower
from django.http import StreamingHttpResponse
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from conversations.models import Lead
from conversations.privacy.access_log import Action, Actor, access_record
from conversations.privacy.privacy import objected_emails

PAGE_SIZE = 5000
# Cells a spreadsheet would read as a formula (CSV injection, OWASP): prefixed with a quote.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

COLUMNS = (
    ("id", "id"),
    ("email", "email"),
    ("marketing_consent", "marketing_consent"),
    ("consent_text", "consent_text"),
    ("consent_at", "consent_at"),
    ("source", "source"),
    ("created_at", "created_at"),
    ("conversation_id", "conversation_id"),
    ("start_page_url", "conversation__start_page_url"),
    ("visitor_id", "visitor_id"),
)


def csv_safe(value) -> str:
    """A cell as text, neutralised if a spreadsheet would evaluate it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def leads_exportable(queryset=None):
    """Leads that may leave the system: objected visitors and e-mails excluded."""
    qs = Lead.objects.all() if queryset is None else queryset
    return (
        qs.exclude(visitor__objected=True)
        .annotate(_email_l=Lower("email"))
        .exclude(_email_l__in=objected_emails())
    )


class Sink(Protocol):
    """Where an export's rows go. `deliver` is called once, inside the site's schema, with
    the fixed rows (`pages()` yields them a page at a time) and their count."""

    def deliver(self, rows: Rows, count: int) -> None: ...


def leads_export(site, sink: Sink, actor: Actor, *, queryset=None) -> int:
    """Export the site's exportable leads (those of `queryset` only, if given: a selection)
    into `sink`, record it once in the access log as `actor`'s, and return the row count.

    The rows are fixed before anything is recorded or sent (the exportable leads up to the
    newest id now), so the count logged is the count streamed: a lead saved meanwhile is
    neither counted nor exported. Precondition: sync code; enters `tenant_context(site)`
    itself (a request on the site's host is already in it).
    """
    with tenant_context(site):
        qs = leads_exportable(queryset)
        fixed = qs.aggregate(count=Count("pk"), last=Max("pk"))
        schema = connection.schema_name  # type: ignore[attr-defined]  # django-tenants' connection
        rows = Rows(qs.filter(pk__lte=fixed["last"] or 0), schema)
        access_record(
            channel=actor.channel,
            action=Action.LEAD_EXPORT,
            user=actor.user,
            username=actor.username,
            object_type="lead",
            object_id="all" if queryset is None else "selected",
            rows=fixed["count"],
        )
        sink.deliver(rows, fixed["count"])
    return fixed["count"]


class _Echo:
    """csv.writer target that hands back each formatted line instead of buffering it."""

    def write(self, value):
        return value


def _page(schema: str, queryset, after_pk: int) -> list[tuple]:
    """One page of rows after `after_pk`, in the given schema.

    Runs the ORM's SQL on a plain cursor: Django's per-value converters cost three times the
    query itself here, and csv_safe formats the database's own types (aware datetimes, UUIDs).
    """
    page = (
        queryset.filter(pk__gt=after_pk)
        .order_by("pk")
        .values_list(*(f for _, f in COLUMNS))[:PAGE_SIZE]
    )
    with schema_context(schema):
        sql, params = page.query.sql_with_params()
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()


class Rows:
    """An export's fixed rows, read a page at a time (keyset pagination) in `schema`,
    whichever thread or connection reads them."""

    def __init__(self, queryset, schema: str):
        self.queryset, self.schema = queryset, schema

    def pages(self) -> Iterator[list[tuple]]:
        last = 0
        while rows := _page(self.schema, self.queryset, last):
            last = rows[-1][0]
            yield rows

    async def apages(self) -> AsyncIterator[list[tuple]]:
        """The same pages for an ASGI response: each one is read in the DB thread."""
        fetch, last = sync_to_async(_page), 0
        while rows := await fetch(self.schema, self.queryset, last):
            last = rows[-1][0]
            yield rows


def _csv_lines(rows: list[tuple], writer) -> str:
    return "".join(writer.writerow([csv_safe(v) for v in row]) for row in rows)


def _csv_chunks(pages: Iterator[list[tuple]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([name for name, _ in COLUMNS])
    for rows in pages:
        yield _csv_lines(rows, writer)


async def _csv_achunks(pages: AsyncIterator[list[tuple]]) -> AsyncIterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([name for name, _ in COLUMNS])
    async for rows in pages:
        yield _csv_lines(rows, writer)


class CsvFile:
    """Sink: CSV into an open text file (the staff command, the benchmark)."""

    def __init__(self, fileobj):
        self.fileobj = fileobj

    def deliver(self, rows: Rows, count: int) -> None:
        for chunk in _csv_chunks(rows.pages()):
            self.fileobj.write(chunk)


def _json_value(value):
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


class JsonFile:
    """Sink: the rows as a JSON array of objects (column name: value) into an open text file,
    on one line and a page at a time. Values are JSON's own (true/false, null, ISO times):
    no spreadsheet opens it, so nothing is neutralised."""

    def __init__(self, fileobj):
        self.fileobj = fileobj

    def deliver(self, rows: Rows, count: int) -> None:
        names = [name for name, _ in COLUMNS]
        self.fileobj.write("[")
        separator = ""
        for page in rows.pages():
            for row in page:
                obj = dict(zip(names, row, strict=True))
                text = json.dumps(obj, ensure_ascii=False, default=_json_value)
                self.fileobj.write(separator + text)
                separator = ", "
        self.fileobj.write("]")


class CsvDownload:
    """Sink: a streamed CSV download answering `request` (the admin, the API); `response`
    once delivered. Under ASGI its content is an async iterator, so no thread waits on the
    client while it reads."""

    def __init__(self, request):
        self.request = request
        self.response: StreamingHttpResponse | None = None

    def deliver(self, rows: Rows, count: int) -> None:
        from django.core.handlers.asgi import ASGIRequest

        content: Iterator[str] | AsyncIterator[str]
        if isinstance(self.request, ASGIRequest):
            content = _csv_achunks(rows.apages())
        else:
            content = _csv_chunks(rows.pages())
        response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
        site_id = getattr(getattr(connection, "tenant", None), "site_id", "site")
        name = f"leads-{site_id}-{timezone.now():%Y%m%d-%H%M}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "no-store"
        self.response = response
