"""Answer claims in the real Redis: one live claimant; a dead process's claim is taken over."""

import asyncio
import uuid

import redis.asyncio as aioredis
from django.conf import settings

from conversations.chat import claims


async def _held_by(token: str, key: str) -> None:
    client = aioredis.from_url(settings.REDIS_URL)
    await client.set(key, token, ex=60)
    await client.aclose()


async def _claims_against(holder_alive: bool) -> tuple[bool, bool]:
    """Another process's token holds message 1's claim; is it alive (subscribed) or not?"""
    schema, message_id = f"s_claims_{uuid.uuid4().hex[:8]}", 1
    other = uuid.uuid4().hex
    await _held_by(other, claims._claim_key(schema, message_id))
    watcher = aioredis.from_url(settings.REDIS_URL)
    pubsub = watcher.pubsub()
    try:
        if holder_alive:
            await pubsub.subscribe(claims.ALIVE_PREFIX + other)
            # Subscribed once Redis confirms (a claim checked before that would find no one).
            confirmed = await pubsub.get_message(timeout=30)
            assert confirmed and confirmed["type"] == "subscribe"
        first = await claims.answer_claim(schema, message_id)
        # Whoever holds it now, a second claimant in this process is refused while it lives.
        second = await claims.answer_claim(schema, message_id)
        await claims.answer_release(schema, message_id)
        return first, second
    finally:
        await pubsub.aclose()
        await watcher.aclose()


def test_it_refuses_a_claim_held_by_a_live_process():
    assert asyncio.run(_claims_against(holder_alive=True)) == (False, False)


def test_it_takes_over_a_claim_whose_process_is_gone():
    assert asyncio.run(_claims_against(holder_alive=False)) == (True, False)


async def _release_by_another_process_keeps_the_claim() -> bool:
    schema, message_id = f"s_claims_{uuid.uuid4().hex[:8]}", 2
    assert await claims.answer_claim(schema, message_id)
    key = claims._claim_key(schema, message_id)
    client = aioredis.from_url(settings.REDIS_URL)
    try:
        # A process whose claim was taken over ends "its" claim: the new holder keeps it.
        await client.eval(claims._RELEASE_SCRIPT, 1, key, uuid.uuid4().hex)
        return await client.get(key) == claims.process_token().encode()
    finally:
        await client.delete(key)
        await client.aclose()


def test_it_lets_only_the_holder_end_a_claim():
    assert asyncio.run(_release_by_another_process_keeps_the_claim())
