"""Answer claims: one socket answers a stored question; a dead process's claim is void at once.

The same message on several sockets of one visitor (tabs, a reconnect racing the old socket) is
stored once (`chat.question_store`) and answered by the one socket that claims it in Redis.

A claim names the process that holds it. Each process that claims holds, for its lifetime, a
subscription to a Redis channel of its own (`cloop:alive:<token>`), and Redis drops a
subscription the moment the process's connection closes — also when the process is killed
outright (SIGKILL, OOM), since the kernel closes its sockets. A claim whose holder has no
subscriber is therefore void, and the next claimant takes it over in the same atomic script.
Without that, a visitor whose web process died mid-answer, reconnecting through the load
balancer to another process and resending the message, would be told `in_progress` until the
claim's TTL ran out (ANSWER_CLAIM_SECONDS).

Fails open without Redis: the constraint `message_one_answer` still keeps one answer
(`chat.answer_store`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
import weakref

from conversations.chat.limits import _redis

log = logging.getLogger(__name__)

# How long one socket may hold the answering of a stored question (longer than any answer);
# only a backstop now that a dead holder's claim is void at once.
ANSWER_CLAIM_SECONDS = 300
ALIVE_PREFIX = "cloop:alive:"

# -1: our own liveness subscription is missing (re-subscribe and retry); 0: a live process
# holds the claim; 1: claimed (free, or taken over from a dead process).
_CLAIM_SCRIPT = """
if redis.call('PUBSUB', 'NUMSUB', ARGV[3] .. ARGV[1])[2] == 0 then return -1 end
local holder = redis.call('GET', KEYS[1])
if holder and redis.call('PUBSUB', 'NUMSUB', ARGV[3] .. holder)[2] > 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
return 1
"""
# Only the holder ends its claim: one taken over from this process is not its to delete.
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_token: tuple[int, str] | None = None
# One subscription per event loop (a redis.asyncio connection belongs to the loop that opened
# it); any one of them keeps the process's claims alive.
_subscriptions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_subscribing: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def process_token() -> str:
    """This process's claim token (a fresh one in a forked child)."""
    global _token
    if _token is None or _token[0] != os.getpid():
        _token = (os.getpid(), uuid.uuid4().hex)
    return _token[1]


async def _alive_subscribe(renew: bool = False) -> None:
    """Hold this process's liveness subscription on the running loop's Redis client."""
    loop = asyncio.get_running_loop()
    lock = _subscribing.setdefault(loop, asyncio.Lock())
    async with lock:  # the first answers of a fresh process arrive together: subscribe once
        pubsub = _subscriptions.get(loop)
        if pubsub is not None and not renew:
            return
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
        pubsub = _redis().pubsub()
        await pubsub.subscribe(ALIVE_PREFIX + process_token())
        # Read the confirmation: once Redis sent it, every connection sees the subscriber.
        await pubsub.get_message(timeout=2)
        _subscriptions[loop] = pubsub


def _claim_key(schema: str, message_id: int) -> str:
    return f"cloop:answering:{schema}:{message_id}"


async def answer_claim(schema: str, message_id: int) -> bool:
    """Claim the answering of a stored question; False if a live socket is answering it.

    A claim held by a process that has died is taken over. The claim ends with
    `answer_release`, or after ANSWER_CLAIM_SECONDS.
    """
    try:
        await _alive_subscribe()
        args = [process_token(), ANSWER_CLAIM_SECONDS, ALIVE_PREFIX]
        key = _claim_key(schema, message_id)
        got = await _redis().eval(_CLAIM_SCRIPT, 1, key, *args)
        if got == -1:
            # Our subscription's connection was lost (a Redis restart): subscribe again.
            await _alive_subscribe(renew=True)
            got = await _redis().eval(_CLAIM_SCRIPT, 1, key, *args)
    except Exception as exc:  # noqa: BLE001 - fail open, see the module docstring
        log.warning("answer claim store unavailable: %s", type(exc).__name__)
        return True
    return got != 0


async def answer_release(schema: str, message_id: int) -> None:
    """End a claim taken by `answer_claim` (a lost release only delays a resend's answer)."""
    try:
        await _redis().eval(_RELEASE_SCRIPT, 1, _claim_key(schema, message_id), process_token())
    except Exception as exc:  # noqa: BLE001 - the claim expires by itself
        log.warning("answer claim store unavailable: %s", type(exc).__name__)
