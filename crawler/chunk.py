"""Chunking: a page's sections into passages of a few hundred words, heading kept with text.

A section longer than the target is split at paragraph (then sentence) boundaries and every
piece keeps the section's heading and anchor, so a citation still points at `page#section`.
Pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.extract import Section

TARGET_WORDS = 220
MAX_WORDS = 350
SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")


@dataclass
class ChunkText:
    heading: str
    anchor: str
    text: str


def _words(s: str) -> int:
    return len(s.split())


def _pieces(text: str) -> list[str]:
    """Paragraphs, with over-long ones cut at sentence ends (or hard at MAX_WORDS)."""
    out: list[str] = []
    for para in text.split("\n"):
        para = para.strip()
        if not para:
            continue
        if _words(para) <= MAX_WORDS:
            out.append(para)
            continue
        buf: list[str] = []
        for sent in SENTENCE_RE.split(para):
            words = sent.split()
            while len(words) > MAX_WORDS:
                out.append(" ".join(words[:MAX_WORDS]))
                words = words[MAX_WORDS:]
            sent = " ".join(words)
            if buf and _words(" ".join(buf)) + len(words) > TARGET_WORDS:
                out.append(" ".join(buf))
                buf = []
            if sent:
                buf.append(sent)
        if buf:
            out.append(" ".join(buf))
    return out


def chunk_sections(sections: list[Section]) -> list[ChunkText]:
    chunks: list[ChunkText] = []
    for sec in sections:
        buf: list[str] = []
        count = 0
        for piece in _pieces(sec.text):
            n = _words(piece)
            if buf and count + n > TARGET_WORDS:
                chunks.append(ChunkText(sec.heading, sec.anchor, "\n".join(buf)))
                buf, count = [], 0
            buf.append(piece)
            count += n
        if buf:
            chunks.append(ChunkText(sec.heading, sec.anchor, "\n".join(buf)))
    return _merge_tiny(chunks)


def _merge_tiny(chunks: list[ChunkText], min_words: int = 25) -> list[ChunkText]:
    """Fold a very short chunk into the previous one of the same section, where there is one.

    Short sections with their own heading stay separate: their anchor is worth citing.
    """
    out: list[ChunkText] = []
    for c in chunks:
        if (
            out
            and _words(c.text) < min_words
            and out[-1].anchor == c.anchor
            and out[-1].heading == c.heading
            and _words(out[-1].text) + _words(c.text) <= MAX_WORDS
        ):
            out[-1] = ChunkText(c.heading, c.anchor, out[-1].text + "\n" + c.text)
        else:
            out.append(c)
    return out
