"""Query words, synonyms, translations and the coverage decision (no database)."""

from types import SimpleNamespace

from conversations.answer import coverage_of
from conversations.text import language_detect, query_expand, query_terms, stem


def passage(text, title="", heading=""):
    return SimpleNamespace(title=title, heading=heading, text=text)


def test_it_stems_english_inflections_and_finnish_prefixes_alike():
    assert stem("costs") == stem("cost")
    assert stem("opening") == stem("open")
    assert stem("shipping") == stem("ship")
    assert stem("carries") == stem("carry")
    assert stem("hintaa") == stem("hinta")
    assert stem("business") != stem("busy")


def test_it_drops_filler_words_and_groups_synonyms():
    terms = query_terms("How much does the E-Cruiser cost?")
    assert len(terms) == 2  # "much", "does", "the" are not asked about
    assert stem("price") in terms[1]
    # "opening hours" is one thing asked about.
    assert len(query_terms("What are your opening hours?")) == 1


def test_it_translates_finnish_question_words_to_english():
    (term,) = query_terms("Mikä on takuu?")
    assert stem("warranty") in term
    expanded = query_expand("Kuinka kauan toimitus kestää?")
    assert "delivery" in expanded and "time" in expanded


def test_it_covers_a_question_answered_in_other_words():
    passages = [passage("The E-Cruiser costs 2,490 euros.", title="E-Cruiser", heading="Price")]
    assert coverage_of("How much does the E-Cruiser cost?", passages) == 1.0
    assert coverage_of("Paljonko E-Cruiser maksaa?", passages) == 1.0


def test_it_does_not_add_up_words_scattered_over_unrelated_passages():
    passages = [
        passage("All prices include VAT.", title="Prices"),
        passage("Today we have three stores and 42 employees.", title="About us"),
    ]
    assert coverage_of("What is the bitcoin price today?", passages) < 0.6
    assert coverage_of("Who won the world cup?", passages) == 0.0


def test_it_does_not_take_a_swedish_place_name_for_finnish():
    assert language_detect("Delivery to Åland takes up to 8 working days.", "en") == "en"
    assert language_detect("Paljonko pyörä maksaa?", "en") == "fi"
