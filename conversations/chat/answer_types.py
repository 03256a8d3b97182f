"""What kind of answer a question asks for, and whether a sentence gives that kind.

Used by the offline answerer (conversations/chat/offline.py) to pick the sentence that answers
the question's type: an amount of money (a price, a fee), a time or day (opening hours), a
yes/no with its condition, the steps of a how-to, or both items of a comparison. General
language patterns for English and Finnish only; no site's vocabulary.
"""

from __future__ import annotations

import re

AMOUNT, TIME = "amount", "time"
YESNO, HOWTO, COMPARE = "yesno", "howto", "compare"

# "how much does/is …" asks for a price; "how much weight …" does not.
AMOUNT_QUESTION_RE = re.compile(
    r"\b(how much (does|do|is|are|would|will|for)|price|prices|pricing|cost|costs|fee|fees|"
    r"paljonko|hinta|hinnat|hinnan|maksaa|maksavat|maksu)\b",
    re.I,
)
# The words that ask for the amount, not the thing it is the amount of.
AMOUNT_WORDS = (
    "price prices pricing cost costs fee fees charge charged pay hinta hinnat hinnan "
    "maksaa maksavat maksu"
)
# An amount of money: a number with a currency sign or word next to it.
AMOUNT_RE = re.compile(
    r"(\d[\d\s.,–-]*\s?(€|\$|£|eur\b|euros?\b|euroa?\b|usd\b|gbp\b|sek\b|kr\b|dollars?\b|"
    r"pounds?\b)|(€|\$|£)\s?\d)",
    re.I,
)
# "How much does it weigh", "how long does it take": a measure, not money.
MEASURE_RE = re.compile(
    r"\b(weigh\w*|weight|heavy|long|far|big|large|tall|wide|carry|hold|fast|speed|"
    r"paina\w*|kauan|pitkä\w*)\b",
    re.I,
)
# Finnish "maksaa" is both "to cost" and "to pay": after a modal verb ("voinko maksaa
# laskulla?", "can I pay by invoice?") it asks how to pay, not what something costs.
PAYING_RE = re.compile(r"\b(voi|saa)\w*\s+(\w+\s+)?maksaa\b", re.I)
PRICE_WORD_RE = re.compile(r"\b(paljonko|hinta\w*|hinn\w*|price\w*|cost\w*|how much)\b", re.I)
TIME_QUESTION_RE = re.compile(
    r"\b(when|open|opening|hours|closed|what time|aukiolo\w*|auki|avoinna|kiinni|milloin|"
    r"mihin aikaan)\b",
    re.I,
)
TIME_WORDS = "when open opening hours hour closed time auki avoinna kiinni aukioloajat aukioloaika"
# A clock time or a range of hours ("8–18", "9:30", "10 to 16", "klo 8"), a year, a
# weekday or a month.
TIME_RE = re.compile(
    r"\b\d{1,2}([.:]\d{2})?\s?(–|-|to|until)\s?\d{1,2}([.:]\d{2})?\b|\b\d{1,2}[.:]\d{2}\b|"
    r"\bklo\s?\d|\b\d{1,2}\s?(am|pm)\b|\b(1[89]|20)\d{2}\b|"
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekdays?|weekends?|"
    r"january|february|march|april|may|june|july|august|september|october|november|december|"
    r"maanantai\w*|tiistai\w*|keskiviikko\w*|torstai\w*|perjantai\w*|lauantai\w*|"
    r"sunnuntai\w*|arki\w*|viikonloppu\w*|tammikuu\w*|helmikuu\w*|maaliskuu\w*|"
    r"huhtikuu\w*|toukokuu\w*|kesäkuu\w*|heinäkuu\w*|elokuu\w*|syyskuu\w*|lokakuu\w*|"
    r"marraskuu\w*|joulukuu\w*)\b",
    re.I,
)
YESNO_RE = re.compile(
    r"^\W*(can|could|is|are|do|does|did|will|would|may|should|have|has|am|"
    r"\w+(ko|kö))\b",
    re.I,
)
HOWTO_RE = re.compile(
    r"\b(how (do|can|should|would) (i|we|you)|how to|miten|kuinka (voin|saan))\b", re.I
)
COMPARE_RE = re.compile(
    r"\b(difference|differences|compare|compared|comparison|versus|vs|better|ero|erot|"
    r"eroaa|verrattuna)\b",
    re.I,
)
# Words that make a yes or a no depend on something.
CONDITION_RE = re.compile(
    r"\b(but|only|if|unless|except|provided|as long as|must|mutta|jos|paitsi|vain|kunhan|"
    r"ellei|täytyy)\b",
    re.I,
)

NOT_STATED = {
    "en": (
        "I couldn't find that on this website: the pages I found don't state {what}. "
        "Please contact the company directly to ask."
    ),
    "fi": (
        "En löytänyt tätä sivustolta: löytämäni sivut eivät kerro {what}. "
        "Kysy asiaa suoraan yritykseltä."
    ),
}
WHAT = {
    AMOUNT: {"en": "the price asked about", "fi": "kysyttyä hintaa"},
    TIME: {"en": "the times asked about", "fi": "kysyttyjä aikoja"},
}


def question_type(question: str) -> str:
    """compare, amount, time, howto, yesno, or "" (anything else)."""
    if COMPARE_RE.search(question):
        return COMPARE
    if (
        AMOUNT_QUESTION_RE.search(question)
        and not MEASURE_RE.search(question)
        and not (PAYING_RE.search(question) and not PRICE_WORD_RE.search(question))
    ):
        return AMOUNT
    if TIME_QUESTION_RE.search(question):
        return TIME
    if HOWTO_RE.search(question):
        return HOWTO
    if YESNO_RE.search(question):
        return YESNO
    return ""


def gives(kind: str, sentence: str) -> bool:
    """Whether `sentence` states the kind of thing asked for (an amount, a time)."""
    if kind == AMOUNT:
        return bool(AMOUNT_RE.search(sentence))
    if kind == TIME:
        return bool(TIME_RE.search(sentence))
    return True


def not_stated(kind: str, language: str) -> str:
    template = NOT_STATED.get(language, NOT_STATED["en"])
    what = WHAT.get(kind, {})
    return template.format(what=what.get(language, what.get("en", "that")))
