"""CSV export of N leads: time and peak Python memory, at two sizes to show memory is flat.

Usage: .venv/bin/python bench/export_leads.py [N ...]   (default: 10000 100000)
Uses the embedded servers unless DATABASE_URL is set; creates the site `bench-export`, fills
its leads table with COPY-speed bulk inserts, runs the same export the admin and
`export_leads` use (conversations.leads.exports.leads_export into a CsvFile) into /dev/null, and
deletes the site afterwards (with the access-log entries the exports left). Peak memory is
tracemalloc's peak during the export (Python allocations).
"""

import os
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloop.settings")


def fill(n: int) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("TRUNCATE conversations_lead RESTART IDENTITY CASCADE")
        cur.execute(
            """
            INSERT INTO conversations_lead
              (email, marketing_consent, consent_text, consent_at, source, created_at)
            SELECT 'lead' || g || '@example.com', g %% 2 = 0,
                   CASE WHEN g %% 10 = 0 THEN '=HYPERLINK("http://x")' ELSE 'Send me news, please' END,
                   now(), 'widget', now()
            FROM generate_series(1, %s) g
            """,
            [n],
        )
        # What autovacuum would do after a bulk load; keeps the plan an index walk on id.
        cur.execute("ANALYZE conversations_lead")


def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(sizes: list[int]) -> None:
    import django

    from cloop import embedded

    embedded.start()  # the embedded servers, unless DATABASE_URL / REDIS_URL are set
    django.setup()
    from django_tenants.utils import tenant_context

    from conversations.leads.exports import CsvFile, leads_export
    from conversations.privacy.access_log import Actor, Channel
    from tenants.services import SiteError, base_schema_ensure, site_create, site_delete, site_get

    base_schema_ensure()
    try:
        site = site_get("bench-export")
    except SiteError:
        site = site_create("bench-export", name="Bench", url="https://bench.example/").site
    try:
        bench = Actor(Channel.COMMAND, username="bench/export_leads.py")
        for n in sizes:
            with tenant_context(site):
                fill(n)
            # Timed without tracing (tracemalloc slows Python down), then traced for memory.
            with open(os.devnull, "w") as out:
                t = time.perf_counter()
                rows = leads_export(site, CsvFile(out), bench)
                seconds = time.perf_counter() - t
            with open(os.devnull, "w") as out:
                tracemalloc.start()
                leads_export(site, CsvFile(out), bench)
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
            assert rows == n, (rows, n)
            print(
                f"{n:>8} leads: {seconds:6.2f} s, {n / seconds:,.0f} rows/s, "
                f"peak Python memory {peak / 1e6:.1f} MB, max RSS {_rss_mb():.0f} MB"
            )
    finally:
        site_delete("bench-export")


if __name__ == "__main__":
    main([int(x) for x in sys.argv[1:]] or [10_000, 100_000])
