"""`cloop-offline/extractive`: the default model, an offline answerer registered with litellm.

It lets everything run without an API key. It reads the same messages any other model gets
(see `prompt.py`), picks the passage sentences that best match the question and streams them
with [n] citations. It never follows instructions found in passages: it only copies sentences.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterator

import litellm
from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import GenericStreamingChunk, ModelResponse

from conversations.prompt import prompt_parse
from conversations.text import content_stems, language_detect, stem, words

PROVIDER = "cloop-offline"
MAX_SENTENCES = 3
MAX_WORDS = 90
SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")

NOTHING_FOUND = {
    "en": "I can only answer questions about this website's content, and I found nothing on that.",
    "fi": "Voin vastata vain tämän sivuston sisältöä koskeviin kysymyksiin, enkä löytänyt tästä tietoa.",
}


def extractive_answer(messages: list[dict]) -> str:
    """The answer text for prompt `messages`: best-matching sentences, each with its [n]."""
    question, passages, language = prompt_parse(messages)
    wanted = set(content_stems(question))
    scored = []
    for p in passages:
        flat = re.sub(r"\s+", " ", p.text)
        for pos, sentence in enumerate(SENTENCE_RE.split(flat)):
            sentence = sentence.strip()
            if len(sentence) < 12:
                continue
            stems = {stem(w) for w in words(sentence)}
            hits = len(wanted & stems)
            heading_hits = len(wanted & {stem(w) for w in words(p.heading + " " + p.title)})
            if hits:
                # Earlier passages rank higher in retrieval; earlier sentences summarise better.
                score = hits + 0.5 * heading_hits - 0.01 * pos - 0.05 * p.number
                # Prefer sentences in the language the visitor writes in.
                if language_detect(sentence, default=language) != language:
                    score -= 1.5
                scored.append((score, p.number, pos, sentence))
    if not scored:
        return NOTHING_FOUND.get(language, NOTHING_FOUND["en"])
    scored.sort(key=lambda s: -s[0])
    chosen, total = [], 0
    for _, number, pos, sentence in scored:
        n = len(sentence.split())
        if chosen and total + n > MAX_WORDS:
            break
        chosen.append((number, pos, sentence))
        total += n
        if len(chosen) >= MAX_SENTENCES:
            break
    # Keep the chosen sentences in reading order (by passage, then position).
    chosen.sort(key=lambda c: (c[0], c[1]))
    return " ".join(f"{sentence} [{number}]" for number, _, sentence in chosen)


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


class OfflineExtractiveLLM(CustomLLM):
    """litellm custom provider; `token_delay` (seconds) paces streaming for demos and benches."""

    token_delay: float = 0.0

    def completion(self, model, messages, *args, **kwargs) -> ModelResponse:
        return litellm.completion(
            model="openai/offline", messages=messages, mock_response=extractive_answer(messages)
        )

    async def acompletion(self, model, messages, *args, **kwargs) -> ModelResponse:
        return self.completion(model, messages)

    def streaming(self, model, messages, *args, **kwargs) -> Iterator[GenericStreamingChunk]:
        for piece in _tokens(extractive_answer(messages)):
            if self.token_delay:
                time.sleep(self.token_delay)
            yield _chunk(piece, False)
        yield _chunk("", True)

    async def astreaming(
        self, model, messages, *args, **kwargs
    ) -> AsyncIterator[GenericStreamingChunk]:
        for piece in _tokens(extractive_answer(messages)):
            # Yield to the event loop between tokens like a network stream would.
            await asyncio.sleep(self.token_delay)
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
