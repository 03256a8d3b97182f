"""`ready.has_email`: whether the visitor already left an e-mail on this site."""

import asyncio
import uuid

from tests.conversations.wsclient import ChatClient
from tests.widget.test_consumer import chat_sites  # noqa: F401 - the fixture


def test_it_says_in_ready_whether_the_visitor_left_an_email_on_this_site(chat_sites):  # noqa: F811
    server, site_a, site_b = chat_sites
    vid = str(uuid.uuid4())

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            first = await c.hello(vid)
            await c.send(type="email", email="anna@example.fi", marketing_consent=False)
            saved, _ = await c.until("email_saved")
        async with ChatClient.connect(server, site_a.site_id) as c:
            again = await c.hello(vid)
        async with ChatClient.connect(server, site_b.site_id) as c:
            elsewhere = await c.hello(vid)
        return first, saved, again, elsewhere

    first, saved, again, elsewhere = asyncio.run(scenario())
    assert first["has_email"] is False
    assert saved["type"] == "email_saved"
    assert again["has_email"] is True
    assert elsewhere["has_email"] is False


def test_it_streams_the_paced_offline_answer_in_several_frames(chat_sites, settings):  # noqa: F811
    """With the demo's pace the answer visibly streams despite the 40 ms batching."""
    server, site_a, _ = chat_sites
    settings.CLOOP_OFFLINE_CHUNK_MS = 30

    async def scenario():
        async with ChatClient.connect(server, site_a.site_id) as c:
            await c.hello(str(uuid.uuid4()))
            return await c.ask("How much does the Pro plan cost?", "m1")

    answer, before = asyncio.run(scenario())
    deltas = [f for f in before if f["type"] == "delta"]
    assert not answer.get("refused") and "99 euros" in answer["text"]
    assert len(deltas) >= 3
    assert "".join(d["text"] for d in deltas).startswith(answer["text"].split("[")[0].strip())
