"""The refusal's semantic check (CLOOP_SEMANTIC_MIN / CLOOP_SEMANTIC_FLOOR): the answer
pipeline on a real index with a model configured, litellm calling a loopback embeddings
server over HTTP. The server's vectors stand for meaning: one dimension per topic, counting
the topic's words, so a question can be near a passage it shares no word with."""

import asyncio
import math
import re

import pytest

from conversations.chat.answer import answer_question
from tests.conversations.pages import index_pages
from tests.crawler.embed_server import EmbeddingServer

MODEL = "openai/test-topics"
TOPICS = (
    {"parcel", "package", "delivery", "shipping", "arrive", "warehouse"},
    {"open", "opening", "hours", "closed", "weekdays", "shop"},
    {"weather", "rain", "forecast", "sunny"},
)

PAGES = {
    "http://site-a.test/shipping": """<html><head><title>Shipping</title></head><body><main>
<h1>Shipping</h1><h2 id="package">Package delivery</h2>
<p>Every package leaves our warehouse in Tampere within two working days.</p>
</main></body></html>""",
    "http://site-a.test/opening": """<html><head><title>Opening hours</title></head><body><main>
<h1>Opening hours</h1><p>The shop is open from nine to five on weekdays.</p>
</main></body></html>""",
}
SHIPPING = "http://site-a.test/shipping#package"
# No word of it is on the site ("when", "will", "my" are stop words); its meaning is shipping.
PARAPHRASE = "When will my parcel arrive?"


def topic_embedding(text: str) -> list[float]:
    words = re.findall(r"[a-z]+", text.lower())
    vec = [float(sum(w in topic for w in words)) for topic in TOPICS] + [0.1]
    norm = math.sqrt(sum(x * x for x in vec))
    return [x / norm for x in vec]


@pytest.fixture
def topics_server(settings, monkeypatch):
    """The loopback embeddings server with topic vectors; CLOOP_EMBEDDING_MODEL points at it."""
    server = EmbeddingServer(embed=topic_embedding).start()
    monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback")
    settings.CLOOP_EMBEDDING_MODEL = MODEL
    yield server
    server.stop()


@pytest.fixture
def shop(live_db, site_a, topics_server):
    """site_a's pages, indexed (and embedded) with the model on."""
    index_pages(site_a, PAGES)
    return site_a


def ask(site, question):
    return asyncio.run(answer_question(question, site=site))


def test_it_answers_a_question_sharing_no_word_with_the_page_when_its_meaning_is_close(shop):
    result = ask(shop, PARAPHRASE)
    assert result.coverage == 0.0
    assert result.similarity > 0.9
    assert not result.refused and not result.error
    assert result.sources and result.sources[0]["url"] == SHIPPING
    assert "leaves our warehouse in Tampere" in result.text and "[1]" in result.text


def test_it_refuses_a_question_far_from_every_passage_though_some_words_overlap(shop):
    # "Tampere" and "weekdays" are on the site; the question is about the weather.
    result = ask(shop, "Is rain forecast in Tampere on weekdays?")
    assert 0.0 < result.coverage < 0.6
    assert result.similarity is not None and result.similarity < 0.6
    assert result.refused and result.sources == []


def test_it_refuses_below_the_floor_even_when_the_words_are_covered(shop, settings):
    question = "Will it rain on two working days in Tampere?"
    covered = ask(shop, question)
    # The words are the shipping passage's, the meaning (rain) is not: the lexical rule
    # answers, and so does the default rule, which has no floor.
    assert covered.coverage >= 0.6 and covered.similarity < 0.1
    assert not covered.refused
    settings.CLOOP_SEMANTIC_FLOOR = 0.3
    floored = ask(shop, question)
    assert floored.refused and floored.sources == []
    assert not ask(shop, PARAPHRASE).refused


def test_it_refuses_by_the_words_alone_without_a_model(shop, topics_server, settings):
    settings.CLOOP_EMBEDDING_MODEL = ""
    topics_server.inputs.clear()
    result = ask(shop, PARAPHRASE)
    assert result.refused and result.similarity is None
    assert topics_server.inputs == []
    answered = ask(shop, "When does the shop open on weekdays?")
    assert not answered.refused and answered.similarity is None
    assert topics_server.inputs == []


def test_it_refuses_by_the_words_alone_when_the_embedding_call_fails(shop, topics_server):
    topics_server.fail = True
    result = ask(shop, PARAPHRASE)
    assert result.refused and result.similarity is None
    assert not ask(shop, "When does the shop open on weekdays?").refused
