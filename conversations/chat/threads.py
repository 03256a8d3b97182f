"""Small thread pools with their own DB connections, for work the event loop must not wait on.

Channels' `database_sync_to_async` sends every DB call of a process to one thread, so a burst
of chats queues there (each chat write waits for a commit's fsync). The chat's DB units are
self-contained (each enters `tenant_context(site)` and its own transaction), so they can run
in a pool instead. A thread borrows a PostgreSQL connection from the process's connection pool
(cloop/db.py) for one call and returns it afterwards, so these threads never hold connections
while idle and the process stays within its connection budget. Retrieval has a thread pool of
its own so a search never waits behind writes.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, reset_queries

P = ParamSpec("P")
R = TypeVar("R")

CHAT_DB_THREADS = settings.CLOOP_CHAT_DB_THREADS
SEARCH_THREADS = settings.CLOOP_SEARCH_THREADS

chat_db_pool = ThreadPoolExecutor(max_workers=CHAT_DB_THREADS, thread_name_prefix="cloop-chat-db")
search_pool = ThreadPoolExecutor(max_workers=SEARCH_THREADS, thread_name_prefix="cloop-search")


def _with_connection(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    finally:
        # Back to the connection pool: an idle thread holds no connection.
        connection.close()
        # Under DEBUG Django logs every query of the thread's connection, and nothing resets
        # the log of a long-lived pool thread (requests reset theirs): up to 9,000 queries each.
        reset_queries()


def in_pool(pool: ThreadPoolExecutor, fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`fn` as a coroutine function running in `pool` (a sync DB function; see module doc)."""
    runner = sync_to_async(_with_connection, thread_sensitive=False, executor=pool)

    @functools.wraps(fn)
    async def call(*args, **kwargs):
        return await runner(fn, *args, **kwargs)

    return call


def chat_db(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Run a chat DB unit in the chat DB pool."""
    return in_pool(chat_db_pool, fn)
