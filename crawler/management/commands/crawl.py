"""`manage.py crawl <site_id>`: crawl a site now (progress on stderr), or queue it (--queue)."""

from __future__ import annotations

import time
from collections import Counter

from django.core.management.base import CommandError
from django_tenants.utils import tenant_context

from crawler.models import CrawlRun
from crawler.services import CrawlError, crawl_run
from crawler.tasks import crawl_request
from tenants.management.commands._base import StaffCommand, int_between
from tenants.services import site_get_ready


class Command(StaffCommand):
    help = "Crawl a site and update its search index (or hand the crawl to Celery with --queue)."

    def add_command_arguments(self, parser):
        parser.add_argument("site_id")
        parser.add_argument(
            "--concurrency", type=int_between(1), help="connections per host (default: settings)"
        )
        parser.add_argument("--max-pages", type=int_between(1), help="page budget of this crawl")
        parser.add_argument("--queue", action="store_true", help="run it on a Celery worker")

    def run(self, **o):
        site = site_get_ready(o["site_id"])
        if o["concurrency"] and o["concurrency"] > 16:
            raise CommandError("--concurrency is at most 16")
        progress = None if o["json"] or o["queue"] else self._progress()
        try:
            if o["queue"]:
                with tenant_context(site):
                    run = crawl_request(site, "manual")
            else:
                # In this process: carries out the site's queued run (or a running one whose
                # worker died) rather than refuse it; refused (CrawlBusy) while a crawl runs.
                run = crawl_run(
                    site,
                    max_pages=o["max_pages"],
                    concurrency=o["concurrency"],
                    progress=progress,
                )
        except CrawlError as exc:  # CrawlBusy's text is the same at every entry point
            raise CommandError(str(exc)) from exc
        if o["queue"]:
            self._report(site, run, o, queued=True)
            return
        if progress is not None:
            self.stderr.write("")
        self._report(site, run, o)
        if run.status == CrawlRun.Status.FAILED:
            raise CommandError(f"crawl failed: {run.error}")

    def _progress(self):
        last = [0.0]

        def show(run: CrawlRun):
            now = time.monotonic()
            if now - last[0] < 0.2:
                return
            last[0] = now
            self.stderr.write(
                f"\rfetched {run.pages_fetched}  indexed {run.pages_indexed}  "
                f"unchanged {run.pages_unchanged}  skipped {run.pages_skipped}  "
                f"errors {run.errors}",
                ending="",
            )
            self.stderr.flush()

        return show

    def _report(self, site, run: CrawlRun, o, queued=False):
        summary = run.summary(site.site_id)
        if o["json"]:
            self.emit_json(summary)
            return
        if queued:
            self.stdout.write(f"Queued crawl run {run.pk} of {site.site_id}.")
            return
        self.stdout.write(
            f"Crawl {run.pk} of {site.site_id}: {run.status} in {run.seconds:.1f} s — "
            f"{run.pages_fetched} fetched, {run.pages_indexed} indexed, "
            f"{run.pages_unchanged} unchanged, {run.pages_removed} removed, "
            f"{run.pages_skipped} not indexed, {run.errors} errors"
        )
        if run.error:
            self.stdout.write(f"Error: {run.error}")
        if run.notes:
            self.stdout.write("Notes:\n  " + run.notes.replace("\n", "\n  "))
        if run.skipped:
            counts = Counter(s["reason"] for s in run.skipped)
            self.stdout.write(
                "Not indexed: " + ", ".join(f"{r} {n}" for r, n in counts.most_common())
            )
            for s in run.skipped:
                detail = f" ({s['detail']})" if s.get("detail") else ""
                self.stdout.write(f"  {s['reason']:<16} {s['url']}{detail}")
