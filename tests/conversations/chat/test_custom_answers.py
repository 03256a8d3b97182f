"""Custom answers: indexed with the site's pages, preferred and cited, removed at once, and
written from a transcript ("Improve this answer"); the answer's language framing and the
LLM's language instruction."""

import asyncio
import re

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from conversations.chat import custom_answers
from conversations.chat.answer import answer_question
from conversations.models import Conversation, CustomAnswer, Message, Visitor
from crawler.models import Page
from crawler.search import search
from tests.conversations.pages import PAGES_A, index_pages

GIFT_Q = "Do you sell gift cards?"
GIFT_A = "Yes: gift cards from 20 to 500 euros, sold at the office and valid for two years."


def ask(site, question, **kw):
    return asyncio.run(answer_question(question, site=site, **kw))


def _answer(site, **fields) -> CustomAnswer:
    with tenant_context(site):
        return custom_answers.custom_answer_save(CustomAnswer(**fields))


@pytest.fixture
def site_with_gift_answer(live_db, site_a):
    index_pages(site_a, PAGES_A)
    answer = _answer(site_a, question=GIFT_Q, answer=GIFT_A)
    return site_a, answer


def test_it_answers_from_a_custom_answer_and_cites_its_own_page(site_with_gift_answer):
    site_a, answer = site_with_gift_answer
    url = f"http://site-a.localhost:8000/answers/{answer.pk}/"
    with tenant_context(site_a):
        assert custom_answers.custom_answer_url(answer) == url
        # A page of the index like the crawled ones, ranked by the same search.
        page = Page.objects.get(url=url)
        assert page.source == "answer"
        assert search("gift cards", 3)[0].page_url == url
    result = ask(site_a, "Are gift cards available?")
    assert not result.refused
    assert result.sources[0]["url"] == url
    # Quoted whole by the offline answerer, as the customer wrote it.
    assert result.text == f"{GIFT_A} [1]"


def test_it_puts_a_matching_custom_answer_first_for_the_model(site_with_gift_answer, openai_server):
    site_a, answer = site_with_gift_answer
    ask(site_a, "Do you have gift cards?")
    user = openai_server.requests[0]["messages"][-1]["content"]
    first = re.search(r'<passage id="1"[^>]*>', user).group(0)
    assert 'source="answer"' in first and "gift cards" in first
    # Crawled passages carry no mark.
    assert user.count('source="answer"') == 1
    system = openai_server.requests[0]["messages"][0]["content"]
    assert 'source="answer" was written by the website\'s owner' in system


def test_it_cites_the_link_given_instead(live_db, site_a):
    index_pages(site_a, PAGES_A)
    _answer(
        site_a,
        question="Where can I park?",
        answer="Free parking behind the building.",
        link="http://site-a.test/services#support",
    )
    result = ask(site_a, "Where can I park my car?")
    assert result.sources == [
        {"url": "http://site-a.test/services#support", "title": "Where can I park?"}
    ]


def test_it_removes_a_deactivated_or_deleted_answer_from_the_index_at_once(
    site_with_gift_answer,
):
    site_a, answer = site_with_gift_answer
    with tenant_context(site_a):
        answer.active = False
        custom_answers.custom_answer_save(answer)
        assert not Page.objects.filter(source="answer").exists()
        assert all(p.source != "answer" for p in search("gift cards", 5))
    assert ask(site_a, GIFT_Q).refused
    with tenant_context(site_a):
        answer.active = True
        custom_answers.custom_answer_save(answer)
        assert search("gift cards", 1)[0].source == "answer"
        custom_answers.custom_answer_delete(answer)
        assert not Page.objects.filter(source="answer").exists()
        assert not CustomAnswer.objects.exists()
    assert ask(site_a, GIFT_Q).refused


def test_it_serves_an_active_answer_on_the_sites_host_only(site_with_gift_answer):
    site_a, answer = site_with_gift_answer
    client = Client(HTTP_HOST=site_a.host)
    r = client.get(f"/answers/{answer.pk}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert GIFT_Q in html and "valid for two years" in html
    assert Client(HTTP_HOST="site-b.localhost").get(f"/answers/{answer.pk}/").status_code == 404
    with tenant_context(site_a):
        answer.active = False
        custom_answers.custom_answer_save(answer)
    assert client.get(f"/answers/{answer.pk}/").status_code == 404


def test_it_refuses_a_link_outside_the_site(in_site_a):
    why = custom_answers.custom_answer_link_check("https://evil.example/x")
    assert why == "The chat only links to your own website: use a page of http://site-a.test."
    assert custom_answers.custom_answer_link_check("http://site-a.test/pricing") is None


def test_it_reindexes_answers_under_the_sites_current_host(in_site_a):
    kept = custom_answers.custom_answer_save(CustomAnswer(question="Q one?", answer="One."))
    gone = custom_answers.custom_answer_save(CustomAnswer(question="Q two?", answer="Two."))
    # As if the site's Cloop host had changed, and an answer deleted behind the index's back.
    for page in Page.objects.filter(source="answer"):
        page.url = page.url.replace("site-a.localhost:8000", "site-a.old.example")
        page.save()
    CustomAnswer.objects.filter(pk=gone.pk).delete()
    assert custom_answers.custom_answers_reindex() == 1
    assert list(Page.objects.filter(source="answer").values_list("url", flat=True)) == [
        custom_answers.custom_answer_url(kept)
    ]


def test_it_opens_a_custom_answer_prefilled_from_a_transcript(owner_a):
    conv = Conversation.objects.create(visitor=Visitor.objects.create())
    q = Message.objects.create(conversation=conv, role="visitor", text="Do you sell gift cards?")
    Message.objects.create(conversation=conv, role="assistant", reply_to=q, text="Sorry…")
    html = owner_a.get(f"/admin/conversations/conversation/{conv.pk}/change/").content.decode()
    link = re.search(r'<a data-cloop="improve" href="([^"]+)">Improve this answer</a>', html)
    assert link is not None
    href = link.group(1).replace("&amp;", "&")
    assert (
        href == "/admin/conversations/customanswer/add/?question=Do%20you%20sell%20gift%20cards%3F"
    )
    form = owner_a.get(href).context["adminform"].form
    assert form.initial["question"] == "Do you sell gift cards?"
    # Saved from the admin, it is in the index at once.
    r = owner_a.post(
        "/admin/conversations/customanswer/add/",
        {"question": "Do you sell gift cards?", "answer": GIFT_A, "link": "", "active": "on"},
    )
    assert r.status_code == 302
    answer = CustomAnswer.objects.get()
    assert Page.objects.get(source="answer").url.endswith(f"/answers/{answer.pk}/")
    owner_a.post(
        f"/admin/conversations/customanswer/{answer.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert not Page.objects.filter(source="answer").exists()


def test_it_asks_the_model_to_answer_in_the_visitors_language(live_db, site_a, openai_server):
    index_pages(site_a, PAGES_A)
    ask(site_a, "Paljonko Pro-paketti maksaa kuukaudessa?")
    system = openai_server.requests[0]["messages"][0]["content"]
    assert "Answer in Finnish (suomi), the language the visitor wrote in" in system
    ask(site_a, "How much does the Pro plan cost?")
    assert "Answer in English, the language" in openai_server.requests[1]["messages"][0]["content"]


def test_it_frames_an_english_page_in_finnish_for_a_finnish_visitor(live_db, site_b):
    index_pages(
        site_b,
        {
            "http://site-b.test/boats": "<html><head><title>Boats</title></head><body><main>"
            "<h1>Boat rental</h1><p>The SeaBird 24 sailing boat costs 300 euros a day."
            "</p></main></body></html>"
        },
    )
    # A Finnish question shares only the boat's name with the English page.
    result = ask(site_b, "Paljonko SeaBird 24 maksaa?")
    assert result.language == "fi" and not result.refused
    assert result.text.startswith("Sivuston teksti tästä on englanniksi, joten lainaan sen")
    assert "costs 300 euros a day. [1]" in result.text
