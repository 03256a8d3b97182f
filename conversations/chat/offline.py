"""`cloop-offline/extractive`: the default model, an offline answerer registered with litellm.

It lets everything run without an API key. It reads the same messages any other model gets
(see `prompt.py`), picks the passage sentences that best match the question and streams them
with [n] citations. It never follows instructions found in passages: it only copies sentences.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import AsyncIterator, Iterator

import litellm
from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import GenericStreamingChunk, ModelResponse

from conversations.chat.answer_types import (
    AMOUNT,
    AMOUNT_WORDS,
    COMPARE,
    CONDITION_RE,
    HOWTO,
    MEASURE_RE,
    TIME,
    TIME_WORDS,
    YESNO,
    gives,
    not_stated,
    question_type,
)
from conversations.chat.prompt import prompt_parse
from conversations.chat.text import (
    ANSWER_MATCH_MIN,
    WORD_RE,
    language_detect,
    query_term_pairs,
    stem,
    stems,
    term_found,
    terms_share,
    words,
)

PROVIDER = "cloop-offline"
MAX_SENTENCES = 3
MAX_WORDS = 90
# A custom answer is the customer's own wording for the question: quoted whole up to this.
MAX_CUSTOM_WORDS = 150
# A further sentence is kept only if it scores at least this share of the best one, so a
# weak match is not tacked onto a good answer.
KEEP_SHARE = 0.7
SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")
# A capitalised word that does not open the question or a sentence of it: a name, weighing
# this much more.
NAME_WEIGHT = 1.5
# A table cell holding a value (price, hours, weight …): "2,490 €", "10–18", "24 kg".
VALUE_RE = re.compile(
    r"^[\d\s.,:–-]*\d[\d\s.,:–-]*\s?(€|e|eur|euros?|%|kg|km|wh|w|h|cm|mm|min)?$", re.I
)
NUMBER_RE = re.compile(r"\d[\d.,]*")
# Stand-ins among a sentence's stems for "states an amount of money" / "states a time".
AMOUNT_STEM, TIME_STEM = "\x00amount", "\x00time"
# Questions answered by a figure: sentences with a number get a small bonus.
FIGURE_QUESTION_RE = re.compile(
    r"\b(how (much|many|long|far|heavy|big)|when|hours|price|cost|paljonko|kuinka|milloin|"
    r"montako|aukiolo\w*|hinta)\b",
    re.I,
)
DURATION_QUESTION_RE = re.compile(r"\b(how long|kuinka kauan|milloin)\b", re.I)
DURATION_WORDS = "day days week weeks hour hours minute minutes month months year years time times"

# Before sentences quoted in another language than the visitor's (a Finnish question, an
# English-only site).
# In the visitor's language: the site's text is in another language, quoted as written.
OTHER_LANGUAGE_LEAD = {
    "en": "This website's text on this is in {name}, so here it is as written: ",
    "fi": "Sivuston teksti tästä on {name}, joten lainaan sen sellaisenaan: ",
}
LANGUAGE_NAMES = {
    "en": {"en": "English", "fi": "Finnish", "sv": "Swedish"},
    "fi": {"en": "englanniksi", "fi": "suomeksi", "sv": "ruotsiksi"},
}

NOTHING_FOUND = {
    "en": "I can only answer questions about this website's content, and I found nothing on that.",
    "fi": "Voin vastata vain tämän sivuston sisältöä koskeviin kysymyksiin, enkä löytänyt tästä tietoa.",
}


def _is_cell(line: str) -> bool:
    """A short line without sentence punctuation: a table cell or a label as extracted."""
    return len(line.split()) <= 5 and not line.rstrip().endswith((".", "!", "?", ":", ";"))


def passage_sentences(text: str) -> list[str]:
    """The readable sentences of a passage's text, in order.

    The crawler extracts a table as one cell per line ("Item\\nPrice\\nCheck-up\\n69 €"),
    which reads as a run-on when flattened. A label cell followed by a value cell becomes
    one row, "Check-up: 69 €."; other cells of a table (its header) are dropped.
    """
    # Link and emphasis text leaves a space before punctuation ("see Service plans .").
    text = re.sub(r"[ \t]+([,.;:!?)])", r"\1", text)
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    rows: list[tuple[int, str]] = []
    used: set[int] = set()
    for i in range(len(lines) - 1):
        label, value = lines[i], lines[i + 1]
        if i in used or not _is_cell(label) or VALUE_RE.match(label):
            continue
        if VALUE_RE.match(value):
            rows.append((i, f"{label}: {value}."))
            used |= {i, i + 1}
    table = len(rows) >= 2
    out: list[str] = []
    row_at = dict(rows)
    for i, line in enumerate(lines):
        if i in row_at:
            out.append(row_at[i])
        elif i in used or (table and _is_cell(line)):
            continue
        else:
            out.extend(s.strip() for s in SENTENCE_RE.split(line) if s.strip())
    return out


def _page_title(title: str) -> str:
    """The page's own title without the site name ("Prices | Example Shop" → "Prices"),
    which would otherwise make every page look like it is about the site's name."""
    return re.split(r"\s+[|–—-]\s+", title, maxsplit=1)[0]


def _numbers(text: str) -> set[str]:
    return {n.rstrip(".,") for n in NUMBER_RE.findall(text)}


def _repeats(sentence: str, chosen: list[str]) -> bool:
    """True if `sentence` states what a chosen sentence already says (same figures or words)."""
    numbers = _numbers(sentence)
    stems = set(words(sentence))
    for other in chosen:
        if numbers and numbers <= _numbers(other):
            return True
        other_stems = set(words(other))
        if stems and len(stems & other_stems) / len(stems | other_stems) > 0.6:
            return True
    return False


def extractive_answer(messages: list[dict]) -> str:
    """The answer text for prompt `messages`: the 1–3 best-matching sentences, each with its [n].

    A sentence scores 1 for each question word it contains, 0.5 for a synonym or translation
    of one, plus a little for words of its page title and heading; earlier passages (better
    retrieved) and earlier sentences (summaries come first) win ties.
    """
    question, passages, language = prompt_parse(messages)
    custom = _custom_answer(question, passages, language)
    if custom is not None:
        return custom
    kind = question_type(question)
    pairs = query_term_pairs(question, language)
    originals = [orig for orig, _ in pairs]
    terms = [alts for _, alts in pairs]
    weights = [1.0] * len(terms)
    # The thing asked about: the question's words other than those asking for the amount
    # or the time ("root canal" in "how much does a root canal cost").
    type_words = {AMOUNT: AMOUNT_WORDS, TIME: TIME_WORDS}.get(kind, "")
    type_stems = {stem(w, language) for w in type_words.split()}
    thing = frozenset(i for i, o in enumerate(originals) if o not in type_stems)
    # What the question asks for (a price, a time, a duration) weighs more than the words
    # naming the thing, and any word of it counts fully: "costs 349 euros" answers "how much".
    if kind == AMOUNT:
        terms.append(frozenset({AMOUNT_STEM}))
        originals.append("")
        weights.append(1.5)
    if kind == TIME:
        terms.append(frozenset({TIME_STEM}))
        originals.append("")
        weights.append(1.0)
    if DURATION_QUESTION_RE.search(question):
        terms.append(frozenset(stem(w, language) for w in DURATION_WORDS.split()))
        originals.append("")
        weights.append(1.5)
    figure = bool(FIGURE_QUESTION_RE.search(question))
    # The question's words naming a measure ("weigh", "far"): what a figure must be of.
    measure_stems = {stem(w, language) for w in words(question) if MEASURE_RE.fullmatch(w)}
    measured = frozenset(i for i, o in enumerate(originals) if o and o in measure_stems)
    contexts = [
        (
            p,
            {stem(w, language) for w in words(_page_title(p.title))},
            {stem(w, language) for w in words(p.heading)},
        )
        for p in passages
    ]
    sentences_of = {p.number: passage_sentences(p.text) for p in passages}
    stems_of = {
        (p.number, pos): stems(sentence, language)
        for p in passages
        for pos, sentence in enumerate(sentences_of[p.number])
    }
    weights[: len(pairs)] = term_rarity(terms[: len(pairs)], list(stems_of.values()))
    # A name the visitor capitalised ("Sweden", "Pro") names the thing asked about more
    # surely than a common word the page uses everywhere ("deliver").
    names = {stem(w, language) for w in _names(question)}
    for i, orig in enumerate(originals[: len(pairs)]):
        if orig in names:
            weights[i] *= NAME_WEIGHT
    scored = []
    for p, title, heading in contexts:
        # The passage's language, not each sentence's: a short sentence full of names ("We
        # ship to Sweden and Estonia") is easily taken for another language.
        detected = language_detect(p.text, default="en")
        if detected != language_detect(p.text, default="fi"):
            detected = ""  # too short to tell
        context = title | heading
        heading_hits = sum(w for t, w in zip(terms, weights, strict=True) if t & context)
        # A heading that asks the question (an FAQ entry) makes its whole passage the answer.
        about = (
            p.heading.rstrip().endswith("?")
            and len(terms) >= 2
            and sum(1 for o in originals if o in heading) >= 0.6 * len(terms)
        )
        for pos, sentence in enumerate(sentences_of[p.number]):
            if len(sentence) < 12:
                continue
            have = set(stems_of[(p.number, pos)])
            if gives(AMOUNT, sentence):
                have.add(AMOUNT_STEM)
            if gives(TIME, sentence):
                have.add(TIME_STEM)
            hits = 0.0
            covered = set()
            for i, (orig, t) in enumerate(zip(originals, terms, strict=True)):
                if (orig and term_found(frozenset({orig}), have)) or (not orig and t & have):
                    # The word itself, inflected or compounded ("weigh" in "weight") too.
                    hits += weights[i]
                elif term_found(t, have):
                    hits += 0.5 * weights[i]
                elif orig and orig in title or t & heading:
                    # A sentence on a product's own page is about that product, named or not.
                    hits += 0.4 * weights[i]
                else:
                    continue
                covered.add(i)
            if not hits and not about:
                continue
            score = hits + (0.8 if about else 0.2) * heading_hits
            if figure:
                # "How much/how long …" is answered by a figure.
                score = score + 0.5 if NUMBER_RE.search(sentence) else score * 0.8
            # Earlier passages rank higher in retrieval; earlier sentences summarise better.
            score = max(0.1, score - 0.01 * pos - 0.05 * p.number)
            scored.append((score, p.number, pos, sentence, frozenset(covered), detected))
    # Prefer sentences in the visitor's language when there are any (a factor, so a site
    # written only in another language still gets its best sentences in order).
    if any(item[5] == language for item in scored):
        scored = [(sc * 0.4 if d and d != language else sc, *rest, d) for sc, *rest, d in scored]
    if not scored:
        return _opening(passages, language)
    if kind in (AMOUNT, TIME):
        # Only a sentence stating an amount (a time) of the thing asked about answers it;
        # another number on the same page (a fee, a phone line's hours) does not.
        fitting = [s for s in scored if gives(kind, s[3]) and (not thing or s[4] & thing)]
        if not fitting:
            return not_stated(kind, language)
        scored = fitting
    elif measured:
        # "How much does it weigh", "how far …" asks for a measure: a sentence giving a
        # figure of it answers; failing one, anything but a price beside it.
        fitting = [s for s in scored if s[4] & measured and NUMBER_RE.search(s[3])]
        scored = fitting or [s for s in scored if not gives(AMOUNT, s[3])] or scored
    scored.sort(key=lambda s: -s[0])
    chosen = _choose(scored)
    if kind == COMPARE:
        # Both (all) items compared: add the best sentence for each item not yet covered.
        for i in sorted(thing):
            if any(i in c[4] for c in chosen):
                continue
            extra = next((s for s in scored if i in s[4] and s not in chosen), None)
            if extra is not None:
                chosen.append(extra)
    elif kind in (YESNO, HOWTO) and chosen:
        # A yes/no keeps the condition that follows it ("Yes, but only …"); a how-to keeps
        # the steps that follow its best sentence, in order.
        _, number, pos, _, covered, d = chosen[0]
        following = sentences_of.get(number, [])[pos + 1 : pos + (2 if kind == YESNO else 3)]
        for offset, sentence in enumerate(following, 1):
            if kind == YESNO and not CONDITION_RE.search(sentence):
                break
            if all(c[3] != sentence for c in chosen):
                chosen.append((0.0, number, pos + offset, sentence, covered, d))
    # Best passage first; within a passage, reading order.
    rank = {}
    for c in chosen:
        rank.setdefault(c[1], len(rank))
    chosen.sort(key=lambda c: (rank[c[1]], c[2]))
    text = " ".join(f"{c[3]} [{c[1]}]" for c in chosen)
    return _framed(text, " ".join(c[3] for c in chosen), language, chosen[0][5])


def _names(question: str) -> list[str]:
    """The capitalised words of `question` that do not open it or one of its sentences."""
    found, end = [], None
    for m in WORD_RE.finditer(question):
        # A word opens a sentence when nothing but spaces and .!? lie before it since the
        # previous word's end and one of those is a sentence end (or it is the first word).
        opens = end is None or any(c in ".!?" for c in question[end : m.start()])
        if m.group(0)[0].isupper() and not opens:
            found.append(m.group(0))
        end = m.end()
    return found


def term_rarity(terms: list[frozenset[str]], sentences: list[set[str]]) -> list[float]:
    """A weight per question term from how few of the retrieved sentences hold it, averaging 1.

    The word that sets the question apart is the rare one among the passages retrieval found
    for it: in "do you deliver to <country>?" every sentence of a shipping page holds a form
    of "deliver", one holds the country. Plain inverse document frequency over the sentences,
    normalised so that a question whose words are all equally common scores as before.
    """
    if not terms:
        return []
    n = len(sentences)
    raw = [
        1.0 + math.log((n + 1) / (1 + sum(1 for s in sentences if term_found(alts, s))))
        for alts in terms
    ]
    mean = sum(raw) / len(raw)
    return [r / mean for r in raw]


def _framed(text: str, quoted_text: str, language: str, quoted: str = "") -> str:
    """`text` (the quoted sentences with their [n]), led by a polite note in the visitor's
    language when the quoted site text is in another one. Visitor languages without a note
    of their own get the English one. `quoted`: the language of the passages quoted, when
    known (a passage tells its language more surely than a sentence of names and figures);
    else it is detected from `quoted_text`."""
    quoted = quoted or language_detect(quoted_text, default=language)
    if language not in OTHER_LANGUAGE_LEAD:
        language = "en"
    lead = OTHER_LANGUAGE_LEAD[language]
    name = LANGUAGE_NAMES.get(language, {}).get(quoted)
    if quoted != language and name:
        # This model cannot translate; say politely that the site's own words follow.
        text = lead.format(name=name) + text
    return text


def _opening(passages: list, language: str) -> str:
    """The first sentences of the best passage, for a question none of whose words a passage
    holds. The answer pipeline asks then when the passages were found by meaning (an
    embedding model: conversations.chat.answer.answer_refused answers a paraphrase), so the best
    of them (the first with a sentence) is the answer this model can quote."""
    for p in passages:
        sentences = [s for s in passage_sentences(p.text) if len(s) >= 12]
        if sentences:
            break
    else:
        return NOTHING_FOUND.get(language, NOTHING_FOUND["en"])
    chosen, total = [], 0
    for sentence in sentences[:MAX_SENTENCES]:
        total += len(sentence.split())
        if chosen and total > MAX_WORDS:
            break
        chosen.append(sentence)
    text = " ".join(f"{s} [{p.number}]" for s in chosen)
    return _framed(text, " ".join(chosen), language)


def _custom_answer(question: str, passages: list, language: str) -> str | None:
    """The customer's own answer, quoted whole, when the first passage is a custom answer
    that answers the question (conversations.chat.answer put it first); else None."""
    if not passages or passages[0].source != "answer":
        return None
    p = passages[0]
    if terms_share(question, f"{p.title} {p.heading} {p.text}", language) < ANSWER_MATCH_MIN:
        return None
    body = " ".join(p.text.split())
    cut = body.split(" ")
    if len(cut) > MAX_CUSTOM_WORDS:
        body = " ".join(cut[:MAX_CUSTOM_WORDS]) + " …"
    return _framed(f"{body} [{p.number}]", body, language)


def _choose(scored: list[tuple]) -> list[tuple]:
    """The best sentences of `scored` (best first): at most MAX_SENTENCES and MAX_WORDS, each
    at least KEEP_SHARE of the best, none repeating another."""
    best, top_covered = scored[0][0], scored[0][4]
    chosen: list[tuple] = []
    total = 0
    for item in scored:
        score, number, _, sentence, covered, _ = item
        n = len(sentence.split())
        if chosen and (score < best * KEEP_SHARE or total + n > MAX_WORDS):
            break
        # From another passage, a sentence must answer every question word the best one
        # answers, or it is about something else ("a cleaning costs 95 euros" is no answer
        # to what a crown costs).
        if chosen and not top_covered <= covered and all(c[1] != number for c in chosen):
            continue
        if _repeats(sentence, [c[3] for c in chosen]):
            continue
        chosen.append(item)
        total += n
        if len(chosen) >= MAX_SENTENCES:
            break
    return chosen


WORDS_PER_CHUNK = 3


def _tokens(text: str) -> list[str]:
    """Split into pieces of a few words that concatenate back to exactly `text`.

    A few words per chunk is about what hosted models send per event, and keeps the
    per-chunk cost (litellm, JSON, WebSocket frame) in proportion.
    """
    words_ = re.findall(r"\S+\s*|\s+", text)
    return [
        "".join(words_[i : i + WORDS_PER_CHUNK]) for i in range(0, len(words_), WORDS_PER_CHUNK)
    ]


def _chunk(text: str, finished: bool) -> GenericStreamingChunk:
    return {
        "text": text,
        "tool_use": None,
        "is_finished": finished,
        "finish_reason": "stop" if finished else "",
        "usage": None,
        "index": 0,
    }


def chunk_delay() -> float:
    """Seconds between streamed chunks: `CLOOP_OFFLINE_CHUNK_MS` (default 25 ms; the suite sets 0).

    The offline model has its answer at once; without a pause the consumer's 40 ms batching
    would deliver it in one frame and the demo would not look like a streaming chat.
    """
    from django.conf import settings

    return max(0.0, float(settings.CLOOP_OFFLINE_CHUNK_MS) / 1000)


class OfflineExtractiveLLM(CustomLLM):
    """litellm custom provider; paced by `chunk_delay()` (the first chunk goes at once)."""

    def completion(self, model, messages, *args, **kwargs) -> ModelResponse:
        return litellm.completion(
            model="openai/offline", messages=messages, mock_response=extractive_answer(messages)
        )

    async def acompletion(self, model, messages, *args, **kwargs) -> ModelResponse:
        return self.completion(model, messages)

    def streaming(self, model, messages, *args, **kwargs) -> Iterator[GenericStreamingChunk]:
        delay = chunk_delay()
        for i, piece in enumerate(_tokens(extractive_answer(messages))):
            if i and delay:
                time.sleep(delay)
            yield _chunk(piece, False)
        yield _chunk("", True)

    async def astreaming(
        self, model, messages, *args, **kwargs
    ) -> AsyncIterator[GenericStreamingChunk]:
        delay = chunk_delay()
        for i, piece in enumerate(_tokens(extractive_answer(messages))):
            # Yield to the event loop between chunks like a network stream would.
            await asyncio.sleep(delay if i else 0)
            yield _chunk(piece, False)
        yield _chunk("", True)


handler = OfflineExtractiveLLM()


def offline_register() -> None:
    """Register the provider with litellm once per process (idempotent)."""
    if not any(item.get("provider") == PROVIDER for item in litellm.custom_provider_map):
        litellm.custom_provider_map = [
            *litellm.custom_provider_map,
            {"provider": PROVIDER, "custom_handler": handler},
        ]
