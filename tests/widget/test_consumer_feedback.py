"""Thumbs up / down on answers: the `feedback` frame over a real socket, stored on the message,
only on the visitor's own answers."""

import asyncio
import uuid

import pytest
from django_tenants.utils import tenant_context

from conversations.chat.feedback import FeedbackError, message_feedback_set
from conversations.models import Conversation, Message, Visitor
from tests.conversations.pages import PAGES_A, index_pages
from tests.conversations.wsclient import ChatClient
from widget.chat_data import settings_cache_clear
from widget.tenancy import site_cache_clear


def _feedback_of(site, message_id: int) -> str:
    with tenant_context(site):
        return Message.objects.get(pk=message_id).feedback


def test_it_stores_changes_and_clears_feedback_over_the_socket(live_server, site_a):
    index_pages(site_a, PAGES_A)
    site_cache_clear()
    settings_cache_clear()
    vid, other = str(uuid.uuid4()), str(uuid.uuid4())

    async def scenario():
        async with ChatClient.connect(live_server, site_a.site_id) as c:
            await c.hello(vid)
            answer, _ = await c.ask("How much does the Pro plan cost?", "m1")
            mid = answer["message_id"]
            out = {"mid": mid}
            await c.send(type="feedback", message_id=mid, value="down")
            out["down"] = await c.recv()
            out["stored_down"] = await asyncio.to_thread(_feedback_of, site_a, mid)
            await c.send(type="feedback", message_id=mid, value="up")
            out["up"] = await c.recv()
            await c.send(type="feedback", message_id=mid, value="sideways")
            out["bad_value"] = await c.recv()
            await c.send(type="feedback", message_id="12", value="up")
            out["bad_id"] = await c.recv()
            # The visitor's own question is no answer to rate.
            await c.send(type="feedback", message_id=mid - 1, value="up")
            out["question"] = await c.recv()
        async with ChatClient.connect(live_server, site_a.site_id) as c:
            # Reloaded, the history shows the thumb given.
            out["history"] = (await c.hello(vid))["history"]
        async with ChatClient.connect(live_server, site_a.site_id) as c:
            await c.hello(other)
            await c.send(type="feedback", message_id=mid, value="down")
            out["other_visitor"] = await c.recv()
        async with ChatClient.connect(live_server, site_a.site_id) as c:
            await c.hello(vid)
            await c.send(type="feedback", message_id=mid, value=None)
            out["cleared"] = await c.recv()
        return out

    out = asyncio.run(scenario())
    mid = out["mid"]
    assert out["down"] == {"type": "feedback_saved", "message_id": mid, "value": "down"}
    assert out["stored_down"] == "down"
    assert out["up"] == {"type": "feedback_saved", "message_id": mid, "value": "up"}
    assert (out["bad_value"]["code"], out["bad_value"]["message_id"]) == ("invalid_feedback", mid)
    assert out["bad_id"]["code"] == "invalid_feedback" and "message_id" not in out["bad_id"]
    assert out["question"]["code"] == "not_found"
    assert out["history"][-1]["message_id"] == mid and out["history"][-1]["feedback"] == "up"
    assert out["history"][0]["feedback"] is None
    # Another visitor cannot rate (or learn about) this visitor's answer.
    assert out["other_visitor"]["code"] == "not_found"
    assert out["cleared"] == {"type": "feedback_saved", "message_id": mid, "value": None}
    assert _feedback_of(site_a, mid) == ""


def test_it_refuses_feedback_on_a_failed_answer_or_another_sites_message(in_site_a, site_b):
    visitor = Visitor.objects.create()
    conv = Conversation.objects.create(visitor=visitor)
    failed = Message.objects.create(conversation=conv, role="assistant", error="model_timeout")
    ok = Message.objects.create(conversation=conv, role="assistant", text="Yes.")
    with pytest.raises(FeedbackError) as exc:
        message_feedback_set(in_site_a, visitor_id=visitor.pk, message_id=failed.pk, value="up")
    assert exc.value.code == "not_found"
    with pytest.raises(FeedbackError):
        message_feedback_set(site_b, visitor_id=visitor.pk, message_id=ok.pk, value="up")
    for message_id, value in ((True, "up"), (ok.pk, ["up"]), (ok.pk, "UP")):
        with pytest.raises(FeedbackError) as exc:
            message_feedback_set(
                in_site_a, visitor_id=visitor.pk, message_id=message_id, value=value
            )
        assert exc.value.code == "invalid_feedback"
    assert message_feedback_set(in_site_a, visitor_id=visitor.pk, message_id=ok.pk, value="up")
    ok.refresh_from_db()
    assert ok.feedback == "up"
