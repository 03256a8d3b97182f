"""Start a crawl from the customer's side (REST API): hand it to the crawler's Celery task.

Preconditions: inside the site's schema (`tenant_context(site)` or a request on its host).
"""

from __future__ import annotations


class CrawlBusy(Exception):
    """A crawl of this site is already queued or running."""


def crawl_start(site):
    """Queue a crawl run of `site`; returns the CrawlRun row the worker will fill in."""
    from crawler import tasks

    busy = tasks.crawl_busy()
    if busy is not None:
        raise CrawlBusy(f"crawl run {busy.pk} is already {busy.status}")
    return tasks.crawl_queue(site, trigger="api")
