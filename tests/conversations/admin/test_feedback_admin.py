"""Visitors' thumbs in the customer's admin: the overview's "answers marked unhelpful" and the
conversations list's feedback filter."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from conversations.models import Conversation, Message, Visitor


@pytest.fixture
def owner(in_site_a, site_a):
    user = get_user_model().objects.create_superuser("owner@a.test", "owner@a.test", "pw-123456")
    client = Client(HTTP_HOST=site_a.host)
    client.force_login(user)
    return client


def _exchange(question: str, answer: str, feedback: str = "") -> Conversation:
    conv = Conversation.objects.create(visitor=Visitor.objects.create())
    q = Message.objects.create(conversation=conv, role="visitor", text=question)
    Message.objects.create(
        conversation=conv, role="assistant", reply_to=q, text=answer, feedback=feedback
    )
    return conv


def test_it_lists_unhelpful_answers_beside_the_unanswered_and_filters_by_them(owner):
    bad = _exchange("Can I pay by invoice?", "Our plans start at 49 euros.", "down")
    good = _exchange("How much is Pro?", "99 euros.", "up")
    plain = _exchange("Hello?", "Hi!")
    response = owner.get("/admin/conversations/conversation/overview/")
    html = response.content.decode()
    listed = re.search(r'<ul data-cloop="unhelpful">(.*?)</ul>', html, re.S).group(1)
    assert f"/admin/conversations/conversation/{bad.pk}/change/" in listed
    assert "Can I pay by invoice?" in listed and "How much is Pro?" not in listed
    assert "?question=Can%20I%20pay%20by%20invoice%3F" in listed  # Improve this answer
    assert response.context["feedback"] == {"up": 1, "down": 1}
    down = owner.get("/admin/conversations/conversation/?feedback=down").context["cl"]
    assert [c.pk for c in down.result_list] == [bad.pk]
    up = owner.get("/admin/conversations/conversation/?feedback=up").context["cl"]
    assert [c.pk for c in up.result_list] == [good.pk]
    everyone = owner.get("/admin/conversations/conversation/").context["cl"]
    assert {c.pk for c in everyone.result_list} == {bad.pk, good.pk, plain.pk}
    transcript = owner.get(f"/admin/conversations/conversation/{bad.pk}/change/").content
    assert b"visitor: not helpful" in transcript
