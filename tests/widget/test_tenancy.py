"""The WebSocket's site look-up (widget/tenancy.py) against the real public schema."""

import asyncio

from widget import tenancy
from widget.tenancy import SITE_CACHE_SIZE, site_cache_clear, site_resolve


def test_it_holds_a_bounded_number_of_site_ids_after_many_misses(live_db, site_a):
    """Site ids come from the socket's path, i.e. from anyone: misses must not pile up."""
    site_cache_clear()

    async def scenario():
        for i in range(SITE_CACHE_SIZE + 100):
            assert await site_resolve(f"missing-{i}") is None
        return await site_resolve(site_a.site_id), await site_resolve(site_a.site_id)

    try:
        first, again = asyncio.run(scenario())
        assert first.pk == site_a.pk and again is first  # the second one is a cache hit
        assert len(tenancy._site_cache) <= SITE_CACHE_SIZE
    finally:
        site_cache_clear()
