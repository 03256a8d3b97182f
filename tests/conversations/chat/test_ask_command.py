import io
import json

import pytest
from django.core.management import CommandError, call_command


def ask(*args):
    out = io.StringIO()
    call_command("ask", *args, stdout=out)
    return out.getvalue()


def test_it_prints_the_answer_as_json(indexed_sites):
    data = json.loads(ask("site-a", "How much does the Pro plan cost?", "--json").splitlines()[-1])
    assert set(data) == {"answer", "sources", "refused", "phase"}
    assert "99 euros" in data["answer"]
    assert data["sources"][0] == {"url": "http://site-a.test/pricing", "title": "Pricing"}
    assert data["refused"] is False
    assert data["phase"] == "learning"


def test_it_reports_a_refusal_as_json(indexed_sites):
    data = json.loads(ask("site-a", "What is the capital of France?", "--json").splitlines()[-1])
    assert data["refused"] is True and data["sources"] == []


def test_it_prints_the_answer_to_the_terminal(indexed_sites):
    out = ask("site-b", "How much is a day of sailing?")
    assert "300 euros" in out
    assert "http://site-b.test/boats" in out


def test_it_fails_clearly_for_an_unknown_site(db):
    with pytest.raises(CommandError, match="nope"):
        ask("nope", "hello")


def test_it_fails_clearly_when_the_model_fails(indexed_sites, openai_server):
    openai_server.mode = "error"
    with pytest.raises(CommandError, match="model_error"):
        ask("site-a", "How much does the Pro plan cost?", "--json")


def test_it_numbers_the_printed_sources_as_the_answer_cites_them(indexed_sites, openai_server):
    """The model cites passage 2 first: the terminal shows it as [1], listed first (the raw
    passage numbers used to be printed while the list was renumbered)."""
    openai_server.reply = "Plans differ [2]. Pro is the bigger one [1]."
    question = "How much does the Pro plan cost?"
    data = json.loads(ask("site-a", question, "--json").splitlines()[-1])
    assert data["answer"] == "Plans differ [1]. Pro is the bigger one [2]."
    assert len(data["sources"]) == 2
    lines = ask("site-a", question).splitlines()
    assert lines[0] == "Plans differ [1]. Pro is the bigger one [2]."
    for n, source in enumerate(data["sources"], start=1):
        assert f"  [{n}] {source['title']} — {source['url']}" in lines
