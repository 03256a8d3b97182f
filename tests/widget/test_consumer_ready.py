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
