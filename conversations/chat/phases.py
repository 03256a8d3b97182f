"""Conversation phases: exploring → learning → requesting_contact, by deterministic rules.

The phase only moves forward within a conversation. Rules (English and Finnish):
- requesting_contact: the visitor asks to be contacted, for an offer/quote/demo/meeting, or
  how to buy or sign up;
- learning: the visitor asks a how/why/compare question or about prices and terms, or has
  asked `LEARNING_AFTER` questions that got real answers;
- exploring: anything else (the start).

The classifier is pluggable: `settings.CLOOP_PHASE_CLASSIFIER` names a class implementing
`PhaseClassifier`; the default is `RuleClassifier`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from conversations.models import Phase

ORDER = [Phase.EXPLORING, Phase.LEARNING, Phase.REQUESTING_CONTACT]
LEARNING_AFTER = 3

CONTACT_PATTERNS = {
    "en": [
        r"\bcontact (me|us)\b",
        r"\b(call|email|e-mail|phone|reach) me\b",
        r"\bget in touch\b",
        r"\b(talk|speak) (to|with) (a |an |your )?(human|person|sales|someone|salesperson|expert)",
        r"\b(quote|quotation|offer|proposal)\b",
        r"\b(book|schedule|request|arrange) (a |an )?(demo|meeting|call|consultation)",
        r"\bdemo\b",
        r"\b(buy|purchase|sign up|subscribe)\b",
        r"\bsales\b",
    ],
    "fi": [
        r"\bota(kaa)? yhteyttä\b",
        r"\byhteydenotto",
        r"\b(soita|soittakaa|soittaa)\b",
        r"\b(tarjous|tarjouksen|tarjousta|tarjouspyyntö)",
        r"\b(demo|demon|esittely)",
        r"\b(tapaaminen|tapaamisen|palaveri)",
        r"\b(ostaa|ostaisin|tilata|tilaan|tilaisin|haluan ostaa)\b",
        r"\bmyyjä|\bmyynti",
    ],
}
LEARNING_PATTERNS = {
    "en": [
        r"\bhow (do|does|can|to|much|long|many)\b",
        r"\bwhy\b",
        r"\b(difference|compare|comparison|versus|vs\.?)\b",
        r"\b(price|prices|pricing|cost|costs|plan|plans|fee|fees)\b",
        r"\b(include|includes|included|support|warranty|terms|cancel)\b",
    ],
    "fi": [
        r"\b(miten|kuinka|miksi)\b",
        r"\b(ero|erot|eroa|vertailu|verrattuna)\b",
        r"\b(hinta|hinnat|hinnasto|maksaa|maksaako|paljonko|kustannu)",
        r"\b(sisältää|sisältyy|tuki|takuu|ehdot|peru)",
    ],
}


@dataclass(frozen=True)
class PhaseInput:
    text: str  # the visitor's latest message
    language: str  # "en" | "fi"
    current: str  # the conversation's phase before this message
    answered_questions: int  # visitor questions answered (not refused) so far, this one included


class PhaseClassifier(Protocol):
    def classify(self, data: PhaseInput) -> str:
        """The phase the conversation is in after this message (may be the current one)."""


def _matches(patterns: dict[str, list[str]], text: str) -> bool:
    lowered = text.lower()
    # Both languages: visitors mix them, and the rules do not overlap in meaning.
    return any(re.search(p, lowered) for lang in ("en", "fi") for p in patterns[lang])


class RuleClassifier:
    """Deterministic keyword rules; see the module docstring."""

    def classify(self, data: PhaseInput) -> str:
        if _matches(CONTACT_PATTERNS, data.text):
            return Phase.REQUESTING_CONTACT
        if _matches(LEARNING_PATTERNS, data.text) or data.answered_questions >= LEARNING_AFTER:
            return Phase.LEARNING
        return Phase.EXPLORING


def phase_classifier() -> PhaseClassifier:
    return import_string(settings.CLOOP_PHASE_CLASSIFIER)()


def phase_next(data: PhaseInput, classifier: PhaseClassifier | None = None) -> str:
    """The new phase: the classifier's verdict, but never moving backwards."""
    proposed = (classifier or phase_classifier()).classify(data)
    current = data.current if data.current in ORDER else Phase.EXPLORING
    if proposed not in ORDER:
        return str(current)
    return str(max(current, proposed, key=ORDER.index))


@dataclass(frozen=True)
class PhaseStep:
    """Where an answer leaves the conversation (`phase_after_answer`)."""

    phase: str  # the conversation's phase after this answer
    ask_email: bool  # this answer moved it into requesting_contact and no e-mail is known
    answered: int  # visitor questions answered (not refused, not failed) so far, this one included


def phase_after_answer(
    *,
    question: str,
    language: str,
    current: str,
    answered_before: int,
    refused: bool,
    failed: bool,
    has_lead: bool,
    classifier: PhaseClassifier | None = None,
) -> PhaseStep:
    """The phase after answering `question`: the one place it is computed (the chat's
    `chat.answer_store`, the `ask` command). A failed answer leaves the phase as it was; only a
    real answer counts towards `LEARNING_AFTER`."""
    answered = answered_before + (0 if (refused or failed) else 1)
    phase = str(current)
    if not failed:
        phase = phase_next(
            PhaseInput(
                text=question, language=language, current=current, answered_questions=answered
            ),
            classifier,
        )
    ask_email = (
        phase == Phase.REQUESTING_CONTACT and current != Phase.REQUESTING_CONTACT and not has_lead
    )
    return PhaseStep(phase=phase, ask_email=ask_email, answered=answered)


@checks.register("cloop")
def phase_classifier_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """CLOOP_PHASE_CLASSIFIER is an env var: a wrong path fails at start (every manage.py
    command, the ASGI server), not at a visitor's first answer."""
    try:
        import_string(settings.CLOOP_PHASE_CLASSIFIER)
    except ImportError as exc:
        return [
            checks.Error(
                f"CLOOP_PHASE_CLASSIFIER={settings.CLOOP_PHASE_CLASSIFIER!r} cannot be "
                f"imported: {exc}",
                hint="Unset it for the built-in conversations.chat.phases.RuleClassifier, or "
                "name a class with a classify(data) method.",
                id="cloop.E010",
            )
        ]
    return []
