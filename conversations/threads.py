"""Small thread pools with their own DB connections, for work the event loop must not wait on.

Channels' `database_sync_to_async` sends every DB call of a process to one thread, so a burst
of chats queues there (each chat write waits for a commit's fsync). The chat's DB units are
self-contained (each enters `tenant_context(site)` and its own transaction), so they can run
in a pool instead; each pool thread keeps its own connection (closed and reopened per
CONN_MAX_AGE by `close_old_connections`; closed after every call under tests, so no thread
holds a connection to the test database when it is dropped). Retrieval has a pool of its own
so a search never waits behind writes.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection

P = ParamSpec("P")
R = TypeVar("R")

CHAT_DB_THREADS = int(getattr(settings, "CLOOP_CHAT_DB_THREADS", 4))
SEARCH_THREADS = int(getattr(settings, "CLOOP_SEARCH_THREADS", 4))

chat_db_pool = ThreadPoolExecutor(max_workers=CHAT_DB_THREADS, thread_name_prefix="cloop-chat-db")
search_pool = ThreadPoolExecutor(max_workers=SEARCH_THREADS, thread_name_prefix="cloop-search")


def _with_connection(fn, *args, **kwargs):
    close_old_connections()
    try:
        return fn(*args, **kwargs)
    finally:
        if settings.TESTING:
            connection.close()


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
