"""The offline extractive model: readable sentences from table text, no repeats, paced stream."""

import asyncio
from types import SimpleNamespace

from conversations.chat.llm import llm_stream
from conversations.chat.offline import extractive_answer, passage_sentences
from conversations.chat.prompt import prompt_build

TABLE = "Bike\nPrice\nCity Commuter 7\n749 €\nE-Cruiser\n2,490 €\nCargo Hauler\n3,890 €"


def passage(text, heading="Price", title="E-Cruiser electric bike"):
    return SimpleNamespace(title=title, heading=heading, text=text)


def messages(question, passages):
    return prompt_build(question, passages, language="en", site_name="Northwind")


def test_it_reads_a_table_as_rows_and_drops_its_header():
    assert passage_sentences(TABLE) == [
        "City Commuter 7: 749 €.",
        "E-Cruiser: 2,490 €.",
        "Cargo Hauler: 3,890 €.",
    ]


def test_it_answers_a_price_from_a_table_row_without_repeating_the_fact():
    answer = extractive_answer(
        messages(
            "How much does the E-Cruiser cost?",
            [
                passage(TABLE, heading="Bike prices", title="Prices"),
                passage("The E-Cruiser costs 2,490 euros. A spare battery costs 590 euros."),
            ],
        )
    )
    assert "2,490" in answer
    assert answer.count("2,490") == 1
    assert "Bike Price" not in answer and "749" not in answer
    assert "[1]" in answer or "[2]" in answer


def test_it_paces_the_stream_by_the_setting(settings, monkeypatch):
    """The pauses the stream asks for, recorded instead of slept: what the setting decides,
    whatever the machine's speed (a measured gap would also count the machine's stalls)."""
    from conversations.chat import offline

    text = "The E-Cruiser costs 2,490 euros and has a 500 Wh battery with a long range."
    msgs = messages("What does the E-Cruiser cost?", [passage(text)])
    real_sleep = asyncio.sleep

    async def collect():
        pauses, pieces = [], []

        async def sleep(seconds, *args):
            pauses.append(seconds)
            await real_sleep(0)  # still yields to the event loop, as the real pause does

        monkeypatch.setattr(offline, "asyncio", SimpleNamespace(sleep=sleep))
        async for piece in llm_stream(msgs, model="cloop-offline/extractive"):
            pieces.append((len(pauses), piece))
        return pauses, pieces

    settings.CLOOP_OFFLINE_CHUNK_MS = 30
    paced, pieces = asyncio.run(collect())
    assert len(pieces) >= 4
    # Before each piece, one pause: none before the first, the setting's before every other.
    assert paced == [0] + [0.03] * (len(paced) - 1)
    assert [n for n, _ in pieces] == list(range(1, len(pieces) + 1))
    settings.CLOOP_OFFLINE_CHUNK_MS = 0
    fast, same = asyncio.run(collect())
    assert [p for _, p in same] == [p for _, p in pieces]
    assert fast == [0] * len(paced)


def test_it_keeps_to_the_thing_asked_about():
    answer = extractive_answer(
        messages(
            "How much does the E-Cruiser cost?",
            [
                passage("The E-Cruiser costs 2,490 euros."),
                passage(
                    "A basic service costs 79 euros and a full service 149 euros.",
                    heading="Service prices",
                    title="Prices",
                ),
            ],
        )
    )
    assert answer == "The E-Cruiser costs 2,490 euros. [1]"


def test_it_answers_from_an_faq_entry_whose_heading_asks_the_question():
    answer = extractive_answer(
        messages(
            "What payment methods do you accept?",
            [
                passage(
                    "We work with employers' bike benefit schemes: you pay from gross salary.",
                    heading="Employee bike benefit",
                    title="Financing",
                ),
                passage(
                    "Cards, MobilePay, online banks and invoice (see Financing ).",
                    heading="Which payment methods do you accept?",
                    title="FAQ",
                ),
            ],
        )
    )
    assert answer == "Cards, MobilePay, online banks and invoice (see Financing). [2]"


def test_it_says_so_when_it_quotes_english_to_a_finnish_visitor():
    msgs = prompt_build(
        "Paljonko E-Cruiser maksaa?",
        [passage("The E-Cruiser costs 2,490 euros.")],
        language="fi",
        site_name="Northwind",
    )
    assert extractive_answer(msgs) == (
        "Sivuston teksti tästä on englanniksi, joten lainaan sen sellaisenaan: "
        "The E-Cruiser costs 2,490 euros. [1]"
    )


def test_it_says_so_when_it_quotes_finnish_to_an_english_visitor():
    msgs = prompt_build(
        "How much is the SonicCare 500?",
        [passage("SonicCare 500 maksaa 99 euroa, ja siinä on kolme tilaa.", title="Kauppa")],
        language="en",
        site_name="Klinikka",
    )
    assert extractive_answer(msgs) == (
        "This website's text on this is in Finnish, so here it is as written: "
        "SonicCare 500 maksaa 99 euroa, ja siinä on kolme tilaa. [1]"
    )


def test_it_says_so_in_english_to_a_visitor_of_another_language():
    msgs = prompt_build(
        "Hur mycket kostar SonicCare 500?",
        [passage("SonicCare 500 maksaa 99 euroa, ja siinä on kolme tilaa.", title="Kauppa")],
        language="sv",
        site_name="Klinikka",
    )
    assert extractive_answer(msgs).startswith(
        "This website's text on this is in Finnish, so here it is as written: SonicCare 500"
    )


def test_it_quotes_a_matching_custom_answer_whole():
    msgs = prompt_build(
        "Are gift cards available?",
        [
            SimpleNamespace(
                title="Do you sell gift cards?",
                heading="Do you sell gift cards?",
                text="Yes. From 20 to 500 euros. Valid for two years. Sold at the office.",
                source="answer",
            ),
            passage("Gift wrapping costs 2 euros."),
        ],
        language="en",
        site_name="Shop",
    )
    assert extractive_answer(msgs) == (
        "Yes. From 20 to 500 euros. Valid for two years. Sold at the office. [1]"
    )
    # Asked something else, it is one passage among the others.
    msgs[-1]["content"] = msgs[-1]["content"].replace(
        "Are gift cards available?", "How much is gift wrapping?"
    )
    assert extractive_answer(msgs) == "Gift wrapping costs 2 euros. [2]"


def test_it_quotes_the_best_passage_when_no_sentence_shares_a_word_with_the_question():
    # A paraphrase answered on meaning (an embedding model; tests/conversations/
    # test_answer_semantic.py): the best passage's opening, cited.
    answer = extractive_answer(
        messages(
            "When will my parcel arrive?",
            [
                passage("", heading="Shipping", title="Shipping"),
                passage(
                    "Every package leaves our warehouse within two working days. "
                    "Tracking links come by e-mail.",
                    heading="Package delivery",
                    title="Shipping",
                ),
            ],
        )
    )
    assert answer == (
        "Every package leaves our warehouse within two working days. [2] "
        "Tracking links come by e-mail. [2]"
    )
    assert extractive_answer(messages("When will my parcel arrive?", [])).startswith(
        "I can only answer"
    )
