"""The offline answerer answers the question's type, on small pages written here."""

from types import SimpleNamespace

from conversations.chat.answer_types import question_type
from conversations.chat.offline import extractive_answer
from conversations.chat.prompt import prompt_build


def passage(text, heading="", title="Clinic", url="https://clinic.example/"):
    return SimpleNamespace(url=url, page_url=url, title=title, heading=heading, text=text)


def answer(question, passages, language="en"):
    return extractive_answer(
        prompt_build(question, passages, language=language, site_name="Clinic")
    )


PRICES = passage(
    "Root canal treatment costs 420 to 690 euros depending on the number of roots. "
    "An appointment cancelled less than 24 hours before is charged 45 euros.",
    heading="Prices",
)


def test_it_tells_the_question_types_apart():
    assert question_type("How much does a root canal cost?") == "amount"
    assert question_type("Paljonko juurihoito maksaa?") == "amount"
    assert question_type("Mitä juurihoito maksaa?") == "amount"
    assert question_type("Voinko maksaa laskulla?") == "yesno"  # to pay, not to cost
    assert question_type("Saako kortilla maksaa?") == "yesno"
    assert question_type("Are you open on Saturdays?") == "time"
    assert question_type("Can I bring my 3-year-old?") == "yesno"
    assert question_type("How do I book an appointment?") == "howto"
    assert question_type("What is the difference between A 300 and A 500?") == "compare"


def test_it_answers_a_price_with_the_amount_of_the_thing_asked_about():
    text = answer("How much does a root canal cost?", [PRICES])
    assert "420 to 690 euros" in text and "45" not in text


def test_it_says_so_and_offers_contact_when_no_sentence_states_the_price():
    fees = passage("An appointment cancelled late is charged 45 euros.", heading="Fees")
    text = answer("How much does a root canal cost?", [fees])
    assert "45" not in text and "[1]" not in text
    assert "don't state" in text and "contact" in text
    fi = answer("Paljonko juurihoito maksaa?", [fees], language="fi")
    assert "45" not in fi and "Kysy asiaa suoraan yritykseltä" in fi


def test_it_answers_opening_hours_rather_than_a_phone_lines_hours():
    phone = passage(
        "Outside our opening hours, call the emergency line on +358 17 555 0299. "
        "On weekends the line is answered from 9 to 15.",
        heading="Emergencies",
    )
    hours = passage(
        "The clinic is open Monday to Thursday 8–18 and Friday 8–15. On Saturdays we are "
        "closed, except on the first Saturday of each month, when we are open 9–13.",
        heading="Opening hours",
    )
    text = answer("Are you open on Saturdays?", [phone, hours])
    assert "first Saturday" in text and "0299" not in text


def test_it_keeps_the_condition_of_a_yes():
    faq = passage(
        "Yes, children from age 2 can wait in our play corner. But a second adult must look "
        "after them during your treatment. Parking is free for two hours.",
        heading="Children at your appointment",
    )
    text = answer("Can I bring my 3-year-old child to my appointment?", [faq])
    assert "play corner" in text and "second adult" in text and "Parking" not in text


def test_it_gives_both_items_of_a_comparison():
    shop = passage(
        "We sell two electric toothbrushes. The SonicCare 300 has one cleaning mode. "
        "Interdental brushes cost 6 euros. The SonicCare 500 has three modes and a pressure "
        "sensor.",
        heading="Toothbrushes",
    )
    text = answer("What is the difference between the SonicCare 300 and the 500?", [shop])
    assert "one cleaning mode" in text and "pressure sensor" in text


def test_it_answers_with_the_sentence_holding_the_rare_word_of_the_question():
    # The delivery sentences share "deliver" with the question; the one that answers names
    # the country and says "ship". Both match one word: the rarer one among them decides.
    shipping = [
        passage(
            "Orders are delivered within 3 working days. Delivery is free over 80 euros.",
            heading="Delivery times",
            title="Delivery",
        ),
        passage(
            "Parcels are delivered to your door or a pick-up point of your choice.",
            heading="Delivery options",
            title="Delivery",
        ),
        passage(
            "We also ship to Norway and Iceland for 25 euros per parcel.",
            heading="Abroad",
            title="Delivery",
        ),
    ]
    text = answer("Do you deliver to Iceland?", shipping)
    assert text.startswith("We also ship to Norway and Iceland") and "[3]" in text
    assert "working days" not in text


def test_it_answers_a_weight_with_the_weight_not_the_price():
    # "How much … weigh" asks for a measure: the word asked about is inflected on the page
    # ("weigh" / "Weight"), and the price is another number on the same page.
    specs = passage(
        "The Rover 5 is a folding scooter for city commuting. The Rover 5 costs 690 euros. "
        "Weight: 11 kg, folded in three seconds.",
        heading="Rover 5",
        title="Rover 5",
    )
    text = answer("How much does the Rover 5 weigh?", [specs])
    assert "11 kg" in text and "690" not in text


def test_it_matches_a_word_written_with_or_without_its_hyphen():
    from conversations.chat.text import terms_share

    page = "Our e-scooters are serviced in the workshop."
    assert terms_share("escooter service", page) == 1.0
    text = answer("Do you service escooters?", [passage(page + " Parking is free.")])
    assert text.startswith("Our e-scooters are serviced")


def test_it_prefers_the_sentence_naming_the_country_asked_about():
    # Retrieval found two passages; each sentence matches one word of the question. The
    # capitalised name is the thing asked about.
    assembly = passage(
        "Bikes are delivered almost fully assembled. A tool is included.",
        heading="Assembly",
        title="Delivery",
    )
    abroad = passage(
        "We ship to Sweden and Estonia for 99 euros. We do not ship outside the EU.",
        heading="Abroad",
        title="Delivery",
    )
    text = answer("Do you deliver to Sweden?", [assembly, abroad])
    assert text.startswith("We ship to Sweden") and "assembled" not in text
