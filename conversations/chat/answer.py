"""The one answer pipeline: retrieval → coverage check → prompt → streamed model → citations.

Who decides that the site does not answer: with the offline answerer, Cloop before the call
(`answer_refused`); with a real model, the model (prompt rule 4: it replies NO_ANSWER), after
a lenient check before the call that stops only questions retrieval found nothing for
(`model_gate_refused`). Either way the visitor gets the same REFUSAL.

Used by the WebSocket consumer, the `ask` command and the tests alike. `answer_question` is a
coroutine: retrieval runs in a small thread pool of its own (its own DB connections, inside
the site's schema), so one chat's search never waits behind another chat's database work,
and the model is awaited on the event loop.
"""

from __future__ import annotations

import inspect
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from conversations.chat.llm import LLMError, llm_decides, llm_model, llm_stream
from conversations.chat.prompt import NO_ANSWER, prompt_build
from conversations.chat.rewrite import query_rewrite
from conversations.chat.streaming import MarkerHold
from conversations.chat.text import (
    ANSWER_MATCH_MIN,
    language_detect,
    query_expand,
    query_terms,
    stems,
    synonym_groups_parse,
    term_found,
    terms_share,
)
from conversations.chat.threads import in_pool, search_pool
from conversations.models import Message, SiteSettings
from crawler.search import search
from crawler.spelling import query_spell_correct
from crawler.titles import source_label, title_parts_shared

log = logging.getLogger(__name__)

SEARCH_K = 5
# Share of the question's words that one passage (with its page title and heading) must hold:
# words scattered over unrelated passages ("bitcoin price today": "price" on the price list,
# "today" in the company story) are not an answer.
PASSAGE_COVERAGE_MIN = 0.5

REFUSAL = {
    "en": (
        "Sorry, I can only answer questions about this website's content, and I couldn't "
        "find that here. Could you rephrase, or ask about something on the site?"
    ),
    "fi": (
        "Valitettavasti voin vastata vain tämän sivuston sisältöä koskeviin kysymyksiin, "
        "enkä löytänyt tähän vastausta. Voisitko muotoilla kysymyksen toisin?"
    ),
}


DeltaCallback = Callable[[str], Awaitable[None] | None]


@dataclass
class AnswerResult:
    text: str = ""
    sources: list[dict] = field(default_factory=list)
    refused: bool = False
    language: str = "en"
    model: str = ""
    error: str = ""  # "" or an error code ("model_timeout", "model_error")
    error_message: str = ""
    retryable: bool = False
    coverage: float = 0.0
    # Best cosine of the question and a retrieved passage; None without an embedding model.
    similarity: float | None = None
    passages: list = field(default_factory=list)
    # The model's search words were used (conversations.chat.rewrite): the question's own
    # words found (almost) nothing. The words themselves are not kept.
    rewritten: bool = False
    retrieval_ms: int = 0
    first_token_ms: int | None = None
    total_ms: int | None = None

    def as_dict(self) -> dict:
        return {
            "answer": self.text,
            "sources": self.sources,
            "refused": self.refused,
            "language": self.language,
            "error": self.error,
        }


def _retrieve(
    site, question: str, conversation_id: int | None, k: int, language: str = "en"
) -> tuple[list, list, list, str]:
    """(passages, history, the site's synonym groups, the question with its misspelt words
    corrected against the site's vocabulary) for the question. Runs in the search pool,
    enters the site's schema.

    Connection handling: see conversations.chat.threads.
    """
    with tenant_context(site):
        # The customer's own synonyms (admin, Site settings), so "cost" finds "price" where
        # the customer said they mean the same.
        synonyms = synonym_groups_parse(SiteSettings.load().synonyms)
        corrected = query_spell_correct(question, language)
        passages = search(query_expand(corrected, synonyms), k)
        history = []
        if conversation_id:
            rows = (
                Message.objects.filter(conversation_id=conversation_id, error="")
                .order_by("-created_at", "-id")
                .values("role", "text")[:5]
            )
            history = list(reversed(rows))
            # The question itself is normally already stored as the latest message.
            if history and history[-1]["role"] == "visitor" and history[-1]["text"] == question:
                history.pop()
        return passages, history, synonyms, corrected


def _search_again(site, query: str, synonyms: list, k: int) -> list:
    """Passages for `query` (the question with the model's search words). Runs in the search
    pool, enters the site's schema."""
    with tenant_context(site):
        return search(query_expand(query, synonyms), k)


async def _rewrite_search(
    site, question: str, corrected: str, language: str, synonyms: list, k: int, model: str
) -> tuple[list, Coverage] | None:
    """(passages, coverage) found with the model's search words for `question` (the visitor's
    own words; `corrected`: with typos fixed, as searched first) in the site's language
    (`rewrite.query_rewrite`), or None when the model gave none. The coverage is that of the
    search words, in the site's language: the question's own words are in another language
    or not the page's."""
    site_language = getattr(site, "language", "") or "en"
    search_words = await query_rewrite(question, site_language, model)
    if not search_words:
        return None
    passages = await in_pool(search_pool, _search_again)(
        site, f"{corrected} {search_words}", synonyms, k
    )
    passages = custom_answer_first(corrected, passages, language, synonyms)
    return passages, coverage_measure(search_words, passages, site_language, synonyms)


def custom_answer_first(
    question: str, passages: list, language: str = "en", synonyms: list | tuple = ()
) -> list:
    """`passages` with the best-ranked custom answer that answers the question (at least
    ANSWER_MATCH_MIN of its words in the answer's question and text) moved to the front:
    what the customer wrote for this question is the first source, for any model."""
    for i, p in enumerate(passages):
        if getattr(p, "source", "crawl") != "answer":
            continue
        text = f"{p.title} {p.heading} {p.text}"
        if terms_share(question, text, language, synonyms) >= ANSWER_MATCH_MIN:
            return [p, *passages[:i], *passages[i + 1 :]]
    return passages


class Coverage(NamedTuple):
    """How much of a question's meaningful words the retrieved passages hold (0..1 shares)."""

    union: float  # in all passages together
    best: float  # in the single best passage
    passages: int  # how many passages were measured

    @property
    def score(self) -> float:
        """The offline rule's coverage: the union share, but at most `1 / PASSAGE_COVERAGE_MIN`
        times the best single passage's share, so that words scattered over unrelated
        passages do not add up to an answer."""
        minimum = float(settings.CLOOP_COVERAGE_MIN)
        return min(self.union, self.best * minimum / PASSAGE_COVERAGE_MIN)


def coverage_measure(
    question: str, passages: list, language: str = "en", synonyms: list | tuple = ()
) -> Coverage:
    """The question's coverage by the retrieved passages, each passage stemmed once.

    Each meaningful word of the question (stop words removed) counts as found when its
    Snowball stem in the visitor's `language`, or one of the site's synonyms for it, occurs
    (`text.query_terms`). Both the offline rule (`Coverage.score`) and the lenient gate before
    a model call (`model_gate_refused`, `Coverage.union`) read this one measurement.
    """
    terms = query_terms(question, language, synonyms)
    if not terms or not passages:
        return Coverage(0.0, 0.0, len(passages))
    per_passage = [stems(f"{p.title} {p.heading} {p.text}", language) for p in passages]
    have = set().union(*per_passage)
    union = sum(1 for t in terms if term_found(t, have)) / len(terms)
    best = max(sum(1 for t in terms if term_found(t, s)) for s in per_passage) / len(terms)
    return Coverage(union, best, len(passages))


def coverage_of(
    question: str, passages: list, language: str = "en", synonyms: list | tuple = ()
) -> float:
    """How well the retrieved passages cover the question, 0..1 (`Coverage.score`)."""
    return coverage_measure(question, passages, language, synonyms).score


def similarity_of(passages: list) -> float | None:
    """The best cosine of the question's and a retrieved passage's embeddings (computed by
    search from the query embedding dense retrieval already made), or None when dense
    retrieval did not run: no model, its call failed, or no passage has an embedding."""
    sims = [p.similarity for p in passages if getattr(p, "similarity", None) is not None]
    return max(sims) if sims else None


def answer_refused(coverage: float, similarity: float | None) -> bool:
    """Whether the retrieved passages leave the question uncovered (refuse, no model call).

    Without a semantic signal (`similarity` None: no embedding model, or its call failed):
    coverage below CLOOP_COVERAGE_MIN, exactly the lexical rule. With one: answered when the
    words are covered or the meaning is close (CLOOP_SEMANTIC_MIN: a paraphrase), but never
    when the meaning is far (below CLOOP_SEMANTIC_FLOOR: the site's words on another subject),
    whatever the words. Both are cosines of the configured model (cloop/settings.py says for
    which model they were calibrated; docs/quality.md how).
    """
    minimum = float(settings.CLOOP_COVERAGE_MIN)
    if similarity is None:
        return coverage < minimum
    if similarity < settings.CLOOP_SEMANTIC_FLOOR:
        return True
    return coverage < minimum and similarity < settings.CLOOP_SEMANTIC_MIN


def model_gate_refused(coverage: Coverage, similarity: float | None = None) -> bool:
    """With a model that decides (`llm.llm_decides`), whether to refuse before the call.

    Only when retrieval found nothing, or all retrieved passages together hold less than
    CLOOP_MODEL_COVERAGE_MIN of the question's meaningful words (`coverage.union`) and, with
    an embedding model, the best cosine is below CLOOP_SEMANTIC_MIN. Everything else goes to
    the model, which reads the passages and replies NO_ANSWER when they do not answer: this
    gate only saves calls for questions the passages share (almost) nothing with.
    """
    if not coverage.passages:
        return True
    if coverage.union >= settings.CLOOP_MODEL_COVERAGE_MIN:
        return False
    return similarity is None or similarity < settings.CLOOP_SEMANTIC_MIN


CITATION_RE = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
MD_IMAGE_RE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
MD_LINK_RE = re.compile(r"\[([^\]]*)\]\((\S*?)\)")
URL_RE = re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+", re.I)


def citations_resolve(text: str, passages: list, site_name: str = "") -> tuple[str, list[dict]]:
    """(clean text, sources) from a model's raw answer.

    Sources are the passages the answer cites with [n], in order of first citation, one per
    URL; the markers in the returned text are renumbered so that [n] is `sources[n-1]`. Only URLs of passages retrieved for this answer can appear: numbers out of range are
    removed from the text, images are removed, and links/URLs that were not retrieved are
    reduced to their text, so a manipulated model cannot point a visitor elsewhere.
    """
    allowed = {p.url for p in passages} | {p.page_url for p in passages}
    # Title parts several retrieved pages share are the site's name, not the page's.
    shared = title_parts_shared({p.page_url: p.title for p in passages})
    sources: list[dict] = []
    seen: dict[str, int] = {}  # url -> its number in `sources` (1-based)

    def cite(match: re.Match) -> str:
        kept: list[int] = []
        for raw in match.group(1).split(","):
            n = int(raw.strip())
            if 1 <= n <= len(passages):
                p = passages[n - 1]
                if p.url not in seen:
                    seen[p.url] = len(sources) + 1
                    # "Our offices › Espoo": the page's part of its title, then the section.
                    label = source_label(p.title, getattr(p, "heading", ""), site_name, shared)
                    sources.append({"url": p.url, "title": label or p.url})
                if seen[p.url] not in kept:
                    kept.append(seen[p.url])
        return "".join(f"[{n}]" for n in kept)

    text = MD_IMAGE_RE.sub("", text)
    text = MD_LINK_RE.sub(lambda m: m.group(0) if m.group(2) in allowed else m.group(1), text)
    text = URL_RE.sub(lambda m: m.group(0) if m.group(0) in allowed else "", text)
    text = CITATION_RE.sub(cite, text)
    text = re.sub(r"[ \t]{2,}", " ", text).strip()
    return text, sources


async def _emit(on_delta: DeltaCallback | None, text: str) -> None:
    if on_delta is None:
        return
    result = on_delta(text)
    if inspect.isawaitable(result):
        await result


async def _refuse(result: AnswerResult, on_delta: DeltaCallback | None, started: float):
    """`result` as a refusal: the REFUSAL in the visitor's language, streamed as one piece."""
    result.refused = True
    result.text = REFUSAL.get(result.language, REFUSAL["en"])
    result.sources = []
    await _emit(on_delta, result.text)
    result.total_ms = int((time.perf_counter() - started) * 1000)
    if result.first_token_ms is None:  # nothing was shown before the refusal
        result.first_token_ms = result.total_ms
    return result


async def answer_question(
    question: str,
    *,
    conversation=None,
    language: str | None = None,
    on_delta: DeltaCallback | None = None,
    site=None,
    model: str | None = None,
    k: int = SEARCH_K,
) -> AnswerResult:
    """Answer `question` from the site's indexed content.

    - `site`: the tenant; defaults to the calling thread's current tenant (sync callers inside
      `tenant_context`). Async callers must pass it.
    - `conversation`: a Conversation (or its id) whose last messages give the model context.
    - `language`: "en"/"fi"; detected from the question, falling back to the site's language.
    - `on_delta(text)`: called (sync or async) with each streamed piece, in order.
    Never raises for model failures: the result then has `error` set and `retryable` true.
    Stores nothing; the caller stores the visitor message before and the answer after.
    Retrieval reads through its own pool connection, so the index must be committed (tests:
    the `live_db` fixture).
    """
    started = time.perf_counter()
    site = site or connection.tenant  # type: ignore[attr-defined]  # django-tenants' connection
    language = language or language_detect(question, getattr(site, "language", "en"))
    conversation_id = getattr(conversation, "pk", conversation)
    result = AnswerResult(language=language, model=model or llm_model())

    passages, history, synonyms, corrected = await in_pool(search_pool, _retrieve)(
        site, question, conversation_id, k, language
    )
    # Retrieval, coverage and the offline answerer read the question with its typos fixed
    # (crawler.spelling); a real model reads the visitor's own words.
    passages = custom_answer_first(corrected, passages, language, synonyms)
    result.passages = passages
    result.retrieval_ms = int((time.perf_counter() - started) * 1000)
    coverage = coverage_measure(corrected, passages, language, synonyms)
    result.coverage = coverage.score
    result.similarity = similarity_of(passages)
    if llm_decides(result.model):
        refused = model_gate_refused(coverage, result.similarity)
        if refused and settings.CLOOP_QUERY_REWRITE:
            # One more chance with the model's own search words (another language, the
            # page's words for a paraphrase) before refusing without asking it.
            found = await _rewrite_search(
                site, question, corrected, language, synonyms, k, result.model
            )
            if found is not None:
                passages, coverage = found
                result.rewritten = True
                result.passages = passages
                result.coverage = coverage.score
                result.similarity = similarity_of(passages)
                refused = model_gate_refused(coverage, result.similarity)
            result.retrieval_ms = int((time.perf_counter() - started) * 1000)
    else:
        refused = answer_refused(result.coverage, result.similarity)
    if refused:
        result.model = ""
        return await _refuse(result, on_delta, started)

    prompted = question if llm_decides(result.model) else corrected
    messages = prompt_build(
        prompted, passages, language=language, site_name=site.name, history=history
    )
    pieces: list[str] = []
    # The model's NO_ANSWER must never reach the visitor: its first characters wait until
    # they cannot be the marker (a few characters), then everything streams as it comes.
    hold = MarkerHold(NO_ANSWER)

    async def show(text: str) -> None:
        if text:
            if result.first_token_ms is None:
                result.first_token_ms = int((time.perf_counter() - started) * 1000)
            await _emit(on_delta, text)

    try:
        async for piece in llm_stream(messages, model=result.model):
            pieces.append(piece)
            await show(hold.feed(piece))
    except LLMError as exc:
        result.error, result.error_message, result.retryable = exc.code, exc.message, True
        result.total_ms = int((time.perf_counter() - started) * 1000)
        return result
    if hold.said_marker:
        # The model read the passages and found no answer: the same refusal as before the
        # call, with the model's name kept (the transcript shows the model decided).
        return await _refuse(result, on_delta, started)
    await show(hold.end())
    result.text, result.sources = citations_resolve(
        "".join(pieces), passages, getattr(site, "name", "")
    )
    result.total_ms = int((time.perf_counter() - started) * 1000)
    return result
