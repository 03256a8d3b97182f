"""Start a crawl from the customer's side (REST API): hand it to the crawler's Celery task.

Preconditions: inside the site's schema (`tenant_context(site)` or a request on its host).
"""

from __future__ import annotations

from crawler.runs import CrawlBusy
from crawler.tasks import crawl_queue

__all__ = ["CrawlBusy", "crawl_start"]


def crawl_start(site):
    """Queue a crawl run of `site`; returns the CrawlRun row the worker will fill in.

    Raises CrawlBusy when the site already has a queued or running crawl (the database
    allows one; crawler.tasks.crawl_queue is the one function that queues).
    """
    return crawl_queue(site, trigger="api")
