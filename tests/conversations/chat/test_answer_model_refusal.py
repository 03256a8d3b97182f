"""With a real model configured, the model decides the refusal (prompt rule 4, NO_ANSWER);
before the call only the lenient gate (`answer.model_gate_refused`) stops a question.

The model is the loopback OpenAI-compatible server (tests/conversations/llm_server.py)."""

import asyncio

import pytest
from django.conf import settings

from conversations.chat.answer import REFUSAL, answer_question
from conversations.chat.prompt import NO_ANSWER
from conversations.chat.rewrite import REWRITE_SYSTEM

# The pricing page says "cancel your plan at any time without fees": only "Pro" and "plan"
# of this question's words are on the site, too few for the lexical check.
PARAPHRASE = "Is there a penalty if I quit the Pro plan early?"


def rewrite_calls(server) -> int:
    """Requests for search words (conversations.chat.rewrite), not for an answer."""
    return sum(REWRITE_SYSTEM[:40] in r["messages"][0]["content"] for r in server.requests)


def answer_calls(server) -> int:
    return len(server.requests) - rewrite_calls(server)


def ask(site, question, **kw):
    deltas: list[str] = []
    result = asyncio.run(answer_question(question, site=site, on_delta=deltas.append, **kw))
    return result, deltas


def test_it_refuses_in_the_visitors_language_when_the_model_says_no_answer(
    indexed_sites, openai_server
):
    site_a, _ = indexed_sites
    openai_server.reply = NO_ANSWER
    for question, language in [
        ("How much does the Pro plan cost?", "en"),
        ("Paljonko Pro-paketti maksaa kuukaudessa?", "fi"),
    ]:
        result, deltas = ask(site_a, question)
        assert result.refused and not result.error
        assert result.language == language
        assert result.text == REFUSAL[language]
        assert result.sources == []
        # The transcript shows the model decided: its name is kept.
        assert result.model == "openai/gpt-4o-mini"
        assert deltas == [REFUSAL[language]]  # nothing of the marker reached the visitor
    assert len(openai_server.requests) == 2
    assert NO_ANSWER in openai_server.requests[0]["messages"][0]["content"]


def test_it_recognises_the_marker_split_over_pieces_and_wrapped(indexed_sites, openai_server):
    site_a, _ = indexed_sites
    # The loopback server streams word by word: " ", "`NO_ANSWER`\n".
    openai_server.reply = " `NO_ANSWER`\n"
    result, deltas = ask(site_a, "How much does the Pro plan cost?")
    assert result.refused and result.text == REFUSAL["en"]
    assert deltas == [REFUSAL["en"]]


def test_it_streams_an_answer_whose_first_pieces_are_held_in_full_and_in_order(
    indexed_sites, openai_server
):
    site_a, _ = indexed_sites
    # The first piece (" ") could still become the marker, so it waits for the second.
    openai_server.reply = " No, you can cancel your plan at any time without fees [1]."
    result, deltas = ask(site_a, "Can I cancel my plan at any time?")
    assert not result.refused and not result.error
    assert "".join(deltas) == openai_server.reply
    assert deltas[0] == " No, "
    assert deltas[1:] == [w + " " for w in openai_server.reply.split(" ")[2:-1]] + ["[1]."]
    assert result.text.startswith("No, you can cancel") and result.sources


def test_it_keeps_an_answer_that_cites_nothing(indexed_sites, openai_server):
    site_a, _ = indexed_sites
    openai_server.reply = "NO, that is not possible."
    result, deltas = ask(site_a, "How much does the Pro plan cost?")
    assert not result.refused
    assert result.text == openai_server.reply == "".join(deltas)
    assert result.sources == []


def test_it_lets_the_model_read_a_paraphrase_the_offline_path_refuses(indexed_sites, openai_server):
    site_a, _ = indexed_sites
    offline, _ = ask(site_a, PARAPHRASE, model="cloop-offline/extractive")
    assert offline.refused and offline.model == ""
    assert settings.CLOOP_MODEL_COVERAGE_MIN <= offline.coverage < settings.CLOOP_COVERAGE_MIN
    assert openai_server.requests == []
    result, deltas = ask(site_a, PARAPHRASE)
    assert len(openai_server.requests) == 1
    assert PARAPHRASE in openai_server.requests[0]["messages"][-1]["content"]
    assert not result.refused and "".join(deltas) == openai_server.reply


def test_it_refuses_without_an_answer_call_when_retrieval_finds_nothing(
    indexed_sites, openai_server
):
    site_a, _ = indexed_sites
    # The model's search words find nothing either.
    openai_server.replies = ["Mona Lisa painter Leonardo da Vinci"]
    result, deltas = ask(site_a, "Who painted the Mona Lisa?")
    assert result.passages == [] and result.rewritten
    assert result.refused and result.text == REFUSAL["en"] and deltas == [result.text]
    assert result.model == ""  # nobody was asked for an answer
    assert rewrite_calls(openai_server) == 1 and answer_calls(openai_server) == 0


def test_it_refuses_without_a_call_when_the_passages_share_almost_nothing(
    indexed_sites, openai_server
):
    site_a, _ = indexed_sites
    # One word of fourteen ("support") is on the site: retrieval finds its passages.
    question = (
        "Explain quantum chromodynamics, gluon confinement, lattice simulations, asymptotic "
        "freedom, renormalisation and hadron spectroscopy support for graduate physicists"
    )
    openai_server.replies = ["quantum chromodynamics gluon confinement lattice QCD"]
    result, _ = ask(site_a, question)
    assert result.passages
    assert result.refused and result.model == ""
    assert answer_calls(openai_server) == 0


def test_it_lets_a_close_meaning_through_the_gate_when_no_word_is_shared():
    from types import SimpleNamespace

    from conversations.chat.answer import coverage_measure, model_gate_refused

    # What dense retrieval returns for a paraphrase: the right passage, no word in common.
    found = [SimpleNamespace(title="Careers", heading="Open positions", text="Join our team.")]
    coverage = coverage_measure("Are you hiring?", found)
    assert model_gate_refused(coverage)  # lexical only: nothing shared
    assert not model_gate_refused(coverage, similarity=settings.CLOOP_SEMANTIC_MIN)
    assert model_gate_refused(coverage, similarity=settings.CLOOP_SEMANTIC_MIN - 0.1)
    assert model_gate_refused(coverage_measure("Are you hiring?", []), similarity=1.0)


def test_it_measures_coverage_once_for_both_rules():
    from types import SimpleNamespace

    from conversations.chat.answer import coverage_measure, model_gate_refused

    # Two of the question's three words, each in a different passage: together they hold
    # two thirds, no single passage more than one third.
    found = [
        SimpleNamespace(title="", heading="", text="Crowns are made in our own laboratory."),
        SimpleNamespace(title="", heading="", text="Prices are listed per treatment."),
    ]
    coverage = coverage_measure("crown price warranty", found)
    assert coverage.union == pytest.approx(2 / 3)
    assert coverage.best == pytest.approx(1 / 3)
    assert coverage.score < coverage.union  # scattered words do not add up for the offline rule
    assert not model_gate_refused(coverage)  # but the model gets to read them


def test_it_searches_again_with_the_models_words_for_a_question_in_another_language(
    indexed_sites, openai_server
):
    _, site_b = indexed_sites  # an English site
    question = "Paljonko purjeveneen vuokraus maksaa päivässä?"
    openai_server.replies = [
        "sailing boat rental price per day cost",
        "Purjehduspäivä maksaa 300 euroa [1].",
    ]
    result, deltas = ask(site_b, question)
    assert result.rewritten and not result.refused and not result.error
    assert [s["url"] for s in result.sources] == ["http://site-b.test/boats"]
    assert "".join(deltas) == "Purjehduspäivä maksaa 300 euroa [1]."
    rewrite, answer = openai_server.requests
    # Asked for search words in the site's language, the question as data.
    assert "search words in English" in rewrite["messages"][0]["content"]
    assert question in rewrite["messages"][1]["content"]
    # The answer prompt holds the visitor's own words, never the search words.
    prompt = answer["messages"][-1]["content"]
    assert question in prompt and "sailing boats" in prompt
    assert "per day cost" not in prompt
    assert "Finnish" in answer["messages"][0]["content"]


def test_it_refuses_as_before_when_the_model_gives_no_search_words(indexed_sites, openai_server):
    _, site_b = indexed_sites
    openai_server.mode = "error"
    result, deltas = ask(site_b, "Paljonko purjeveneen vuokraus maksaa päivässä?")
    assert result.refused and not result.error and not result.rewritten
    assert result.text == REFUSAL["fi"] and deltas == [result.text]
    assert len(openai_server.requests) == 1  # the failed rewrite, then no answer call


def test_it_asks_for_no_search_words_when_the_question_finds_the_page(
    indexed_sites, openai_server, settings
):
    site_a, _ = indexed_sites
    result, _ = ask(site_a, "How much does the Pro plan cost?")
    assert not result.rewritten and rewrite_calls(openai_server) == 0
    assert answer_calls(openai_server) == 1


def test_it_never_rewrites_when_turned_off(indexed_sites, openai_server, settings):
    _, site_b = indexed_sites
    settings.CLOOP_QUERY_REWRITE = False
    result, _ = ask(site_b, "Paljonko purjeveneen vuokraus maksaa päivässä?")
    assert result.refused and not result.rewritten
    assert openai_server.requests == []
