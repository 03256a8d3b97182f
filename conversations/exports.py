"""Lead exports as CSV: streamed in constant memory, safe to open in a spreadsheet.

Preconditions: the caller is inside the site's schema (`tenant_context(site)`) when it builds
the queryset. The row generators re-enter that schema themselves for every page they read,
because a streaming response is consumed after the view returned, possibly on another thread
(ASGI) whose connection is on another schema.

Leads of visitors who objected (Art. 21), and leads whose e-mail is under a done objection
request, never appear in an export.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.db import connection
from django.db.models.functions import Lower
from django.http import StreamingHttpResponse
from django.utils import timezone
from django_tenants.utils import schema_context

from conversations.models import Lead
from conversations.privacy import objected_emails

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


def _lines(rows: list[tuple], writer) -> str:
    return "".join(writer.writerow([csv_safe(v) for v in row]) for row in rows)


def _pages(queryset, schema: str) -> Iterator[list[tuple]]:
    qs = leads_exportable(queryset)
    last = 0
    while True:
        rows = _page(schema, qs, last)
        if not rows:
            return
        last = rows[-1][0]
        yield rows


def leads_csv_iter(queryset=None, *, schema: str | None = None) -> Iterator[str]:
    """CSV text of the exportable leads, one page of rows per chunk (keyset pagination)."""
    # Read the schema now, not when the generator first runs (possibly on another connection).
    return _csv_iter(queryset, schema or connection.schema_name)


def _csv_iter(queryset, schema: str) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([name for name, _ in COLUMNS])
    for rows in _pages(queryset, schema):
        yield _lines(rows, writer)


def leads_csv_aiter(queryset=None, *, schema: str | None = None) -> AsyncIterator[str]:
    """The same rows for an ASGI response: each page is read in the DB thread."""
    return _csv_aiter(queryset, schema or connection.schema_name)


async def _csv_aiter(queryset, schema: str) -> AsyncIterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([name for name, _ in COLUMNS])
    qs = leads_exportable(queryset)
    last = 0
    fetch = sync_to_async(_page)
    while True:
        rows = await fetch(schema, qs, last)
        if not rows:
            return
        last = rows[-1][0]
        yield _lines(rows, writer)


def leads_csv_response(request, queryset=None) -> StreamingHttpResponse:
    """A streaming download of the exportable leads; sync or async iterator to suit the server."""
    from django.core.handlers.asgi import ASGIRequest

    tenant = getattr(connection, "tenant", None)
    if isinstance(request, ASGIRequest):
        content = leads_csv_aiter(queryset)
    else:
        content = leads_csv_iter(queryset)
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    name = f"leads-{getattr(tenant, 'site_id', 'site')}-{timezone.now():%Y%m%d-%H%M}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def leads_csv_write(fileobj, queryset=None) -> int:
    """Write the export to an open text file; returns the number of data rows."""
    writer = csv.writer(_Echo())
    fileobj.write(writer.writerow([name for name, _ in COLUMNS]))
    n = 0
    for rows in _pages(queryset, connection.schema_name):
        fileobj.write(_lines(rows, writer))
        n += len(rows)
    return n
