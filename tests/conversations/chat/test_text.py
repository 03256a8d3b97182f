"""Query words, stemming, stop words, language detection and the coverage decision (no database)."""

import re
from pathlib import Path
from types import SimpleNamespace

from conversations.chat.answer import coverage_of
from conversations.chat.text import (
    language_detect,
    query_expand,
    query_terms,
    stem,
    synonym_groups_parse,
)

ROOT = Path(__file__).resolve().parents[3]


def passage(text, title="", heading=""):
    return SimpleNamespace(title=title, heading=heading, text=text)


def test_it_stems_english_and_finnish_with_the_snowball_stemmers():
    assert stem("costs", "en") == stem("cost", "en")
    assert stem("opening", "en") == stem("open", "en")
    assert stem("cancellation", "en") == stem("cancelled", "en")
    assert stem("business", "en") != stem("busy", "en") or stem("busy", "en") == "busi"
    assert stem("palvelut", "fi") == stem("palvelun", "fi") == stem("palvelu", "fi")
    assert stem("hinnat", "fi") == stem("hinta", "fi")
    # A language without a Snowball stemmer is matched on its words.
    assert stem("Kuća", "hr") == "kuća"


def test_it_drops_stop_words_and_chat_filler_of_each_language():
    assert len(query_terms("How much does the check-up cost?")) == 2  # check, cost
    assert len(query_terms("Hi! Could you please tell me about your parking?")) == 1
    assert len(query_terms("Paljonko juurihoito maksaa?", "fi")) == 2


def test_it_expands_a_question_only_with_the_sites_own_synonyms():
    groups = synonym_groups_parse("price, cost, fee\n\nsingle\nfilling, tooth repair")
    assert groups == [("price", "cost", "fee"), ("filling", "tooth repair")]
    assert query_expand("What does a crown cost?") == "What does a crown cost?"
    assert query_expand("What does a crown cost?", groups).endswith(" price fee")
    answered = [passage("A porcelain crown is priced at 890 euros.", heading="Crown price")]
    assert coverage_of("What does a crown cost?", answered) < 0.6
    assert coverage_of("What does a crown cost?", answered, "en", groups) == 1.0


def test_it_covers_a_question_in_another_inflection():
    passages = [passage("Palvelut maksavat 90 euroa.", heading="Hinnat")]
    assert coverage_of("Mikä on palvelun hinta?", passages, "fi") == 1.0


def test_it_does_not_add_up_words_scattered_over_unrelated_passages():
    passages = [
        passage("All prices include VAT.", title="Prices"),
        passage("Today we have three clinics and 42 employees.", title="About us"),
    ]
    assert coverage_of("What is the bitcoin price today?", passages) < 0.6
    assert coverage_of("Who won the world cup?", passages) == 0.0


def test_it_detects_english_and_finnish_and_falls_back_to_the_site_language():
    assert language_detect("Delivery to Åland takes up to 8 working days.", "fi") == "en"
    assert language_detect("Paljonko juurihoito maksaa?", "en") == "fi"
    assert language_detect("Onko teillä osamaksu?", "en") == "fi"
    assert language_detect("Are you open on Saturdays?", "fi") == "en"
    assert language_detect("", "fi") == "fi"
    assert language_detect("123", "fi") == "fi"


# Names of the bundled demo website (widget/demo.py, templates/demo/): its products, places,
# people and topics. The answer path must hold on any site, so none of it may be tuned to
# the demo; the demo's own files in widget/ and templates/ are exempt.
DEMO_WORDS = [
    "northwind", "cruiser", "commuter", "trail blazer", "hauler", "kids pedal", "bike",
    "bicycle", "cycling", "pyörä", "pyöräil", "tampere", "helsinki", "turku", "åland",
    "hämeenkatu", "fredrikinkatu", "aurakatu", "studded", "stud tyre", "nastarenk", "kypär",
    "helmet", "pannier", "mid-drive", "mobilepay", "aino virtanen", "mikko laine", "koeaj",
    "test ride", "lobster mitten", "winter snow",
]  # fmt: skip


def test_it_keeps_the_demo_sites_vocabulary_out_of_the_answer_path():
    found = []
    for folder in ("conversations", "crawler", "cloop"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in (".py", ".html", ".txt", ".json") or "migrations" in path.parts:
                continue
            text = path.read_text(errors="replace").lower()
            for word in DEMO_WORDS:
                for match in re.finditer(re.escape(word), text):
                    line = text.count("\n", 0, match.start()) + 1
                    found.append(f"{path.relative_to(ROOT)}:{line}: {word}")
    assert found == []


def test_it_takes_the_sites_language_when_the_detector_cannot_tell():
    # Sloppy English reads almost as well as Finnish to the detector (0.51 / 0.49).
    assert language_detect("whats ur email adress", "en") == "en"
    assert language_detect("whats ur email adress", "fi") == "fi"
    # A clear message keeps its own language whatever the site's.
    assert language_detect("Onko Turun myymälä auki lauantaina?", "en") == "fi"
    assert language_detect("Do you have a shop in Tampere?", "fi") == "en"
