import asyncio
import uuid

from tests.conversations.pages import PAGES_A, index_pages
from tests.conversations.wsclient import ChatClient


def run(coro):
    return asyncio.run(coro)


def test_it_answers_with_deltas_then_a_cited_answer(live_server, site_a, site_b):
    index_pages(site_a, PAGES_A)
    vid = str(uuid.uuid4())

    async def scenario():
        async with ChatClient.connect(live_server, site_a.site_id) as c:
            ready = await c.hello(vid, page_url="http://site-a.test/pricing?utm=x#top")
            answer, before = await c.ask("How much does the Pro plan cost?", "m1")
            return ready, answer, before

    ready, answer, before = run(scenario())
    assert ready["type"] == "ready" and ready["history"] == [] and ready["visitor_id"] == vid
    print(answer, before)
    assert before and all(f["type"] == "delta" for f in before)
    assert answer["type"] == "answer"
    assert "".join(f["text"] for f in before).strip() != ""
    assert answer["sources"]
