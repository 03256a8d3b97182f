import pytest

from conversations.chat.phases import PhaseInput, RuleClassifier, phase_next
from conversations.models import Phase


def step(text, current=Phase.EXPLORING, answered=1, language="en"):
    return phase_next(
        PhaseInput(text=text, language=language, current=current, answered_questions=answered)
    )


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("What do you do?", "en", Phase.EXPLORING),
        ("Tell me about your company", "en", Phase.EXPLORING),
        ("How does the billing work?", "en", Phase.LEARNING),
        ("What is the difference between Basic and Pro?", "en", Phase.LEARNING),
        ("How much does the Pro plan cost?", "en", Phase.LEARNING),
        ("Can someone contact me about a quote?", "en", Phase.REQUESTING_CONTACT),
        ("I'd like to book a demo", "en", Phase.REQUESTING_CONTACT),
        ("Please call me tomorrow", "en", Phase.REQUESTING_CONTACT),
        ("Mitä te teette?", "fi", Phase.EXPLORING),
        ("Miten laskutus toimii?", "fi", Phase.LEARNING),
        ("Paljonko Pro-paketti maksaa?", "fi", Phase.LEARNING),
        ("Ottakaa yhteyttä, haluan tarjouksen", "fi", Phase.REQUESTING_CONTACT),
        ("Voisitteko soittaa minulle?", "fi", Phase.REQUESTING_CONTACT),
    ],
)
def test_it_classifies_phases_in_english_and_finnish(text, language, expected):
    assert step(text, language=language) == expected


def test_it_moves_to_learning_after_several_answered_questions():
    assert step("Tell me about your company", answered=2) == Phase.EXPLORING
    assert step("Tell me about your company", answered=3) == Phase.LEARNING


def test_it_never_moves_a_phase_backwards():
    assert step("What do you do?", current=Phase.LEARNING) == Phase.LEARNING
    assert step("What do you do?", current=Phase.REQUESTING_CONTACT) == Phase.REQUESTING_CONTACT


class AlwaysContact:
    def classify(self, data):
        return Phase.REQUESTING_CONTACT


def test_it_uses_the_classifier_named_in_settings(settings):
    settings.CLOOP_PHASE_CLASSIFIER = "tests.conversations.chat.test_phases.AlwaysContact"
    assert step("What do you do?") == Phase.REQUESTING_CONTACT
    assert (
        phase_next(
            PhaseInput("What do you do?", "en", Phase.EXPLORING, 0), classifier=RuleClassifier()
        )
        == Phase.EXPLORING
    )


def test_it_moves_the_phase_after_an_answer_in_one_place():
    from conversations.chat.phases import PhaseStep, phase_after_answer

    def after(question, *, current=Phase.EXPLORING, before=0, **kw):
        args = {"refused": False, "failed": False, "has_lead": False, **kw}
        return phase_after_answer(
            question=question, language="en", current=current, answered_before=before, **args
        )

    # Entering requesting_contact asks for an e-mail, unless one is known or it was there.
    assert after("Can you send me a quote?") == PhaseStep(Phase.REQUESTING_CONTACT, True, 1)
    assert not after("Can you send me a quote?", has_lead=True).ask_email
    assert not after("A quote please", current=Phase.REQUESTING_CONTACT).ask_email
    # Only real answers count towards learning; a failed answer leaves the phase alone.
    assert after("Tell me more", before=2) == PhaseStep(Phase.LEARNING, False, 3)
    assert after("Tell me more", before=2, refused=True) == PhaseStep(Phase.EXPLORING, False, 2)
    assert after("Send me a quote", failed=True) == PhaseStep(Phase.EXPLORING, False, 0)
    # The `ask` command shows what the chat would do with the same answer.
    assert after("Can you send me a quote?").phase == step("Can you send me a quote?")


def test_it_reports_a_phase_classifier_that_cannot_be_imported_at_start(settings):
    from django.core import checks

    assert checks.run_checks(tags=["cloop"]) == []
    settings.CLOOP_PHASE_CLASSIFIER = "conversations.phases.RuleClassifier"  # a stale path
    found = checks.run_checks(tags=["cloop"])
    assert [m.id for m in found] == ["cloop.E010"]
    assert "conversations.phases.RuleClassifier" in found[0].msg
