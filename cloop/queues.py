"""Celery queues: long work and short work never wait behind each other.

A crawl (fetching, extracting, chunking, embedding and re-indexing a whole site) can run for
25 minutes; a visitor's summary e-mail, a data-request reminder, the retention purge and the
scheduled checks (`crawl_due`, `crawl_stale`) take milliseconds to seconds. On one queue a
worker busy with two large crawls would hold a summary e-mail for half an hour, so crawls go to
`crawl` and everything else to `default`, and every deployment runs a worker per queue
(`make run`, the README's production commands, deploy/compose.yaml, deploy/k8s/).

cloop/settings.py builds CELERY_TASK_QUEUES / CELERY_TASK_ROUTES from this module; a worker
started without `-Q` consumes both (tests, a one-worker development setup).

No Django imports: cloop/db.py and cloop/run.py use it before settings are loaded.
"""

from __future__ import annotations

SHORT = "default"
CRAWL = "crawl"
QUEUES = (SHORT, CRAWL)

# Task name -> queue; unlisted tasks go to SHORT (CELERY_TASK_DEFAULT_QUEUE). Embedding and
# re-indexing happen inside crawler.crawl_site, so that one task is all the long work there is.
ROUTES = {"crawler.crawl_site": CRAWL}

# Pool processes of each queue's worker under `make run` (each holds one PostgreSQL connection
# at most, cloop/db.py). Two crawls of different sites run side by side; two short tasks too.
CONCURRENCY = {SHORT: 2, CRAWL: 2}


def worker_name(queue: str) -> str:
    """The process name (`CLOOP_PROCESS`, `application_name`) of the worker serving `queue`."""
    return f"cloop-worker-{queue}"
