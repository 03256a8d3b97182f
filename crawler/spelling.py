"""Misspelt question words corrected against the site's own vocabulary.

Visitors type fast: "wieght", "comuter", "adress". Neither the search (exact lexemes) nor the
coverage check (Snowball stems) finds a misspelt word, so the question loses its most
specific word or is refused. A word whose lexeme the site never uses is replaced by the
site's lexeme closest to it, when one is close enough to be a typo (one edit for short words,
two for long ones; a swap of two neighbouring letters counts as one edit). The vocabulary is
the site's own (`crawler_term`, the lexemes of its indexed chunks), so the correction can
only ever point at words the site uses; no site's word list is in the code.

A real word is only ever changed into another form of itself ("weigh" to the site's
"weight": one lexeme starts with the other), never into another word: "laser" on a site that
says "later", or "train" on one selling "trail" shoes, are other questions, and an
out-of-scope question must not be made to look like the site's subject. Whether a word is a
word comes from pyspellchecker's word lists (English, German, Spanish, French, Italian, Dutch,
Portuguese and a few more). In a language it has no list for (Finnish), only long words are
taken for typos (UNLISTED_MIN_LENGTH), where a typo is far likelier than another real word one
edit away. Short words are never changed: at four letters and fewer almost every word is one
edit from another ("rust" / "just").

Runs in the current schema (call inside the site's `tenant_context`).
"""

from __future__ import annotations

import functools
import re

from django.db import connection
from rapidfuzz.distance import OSA

from crawler.index import text_config

# Lexemes shorter than this are left alone; from LONG_WORD letters on, two edits are allowed.
MIN_LENGTH = 5
LONG_WORD = 8
# In a language without a word list, the shortest lexeme corrected.
UNLISTED_MIN_LENGTH = 7
MAX_WORDS = 16
WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)


def _max_edits(lexeme: str) -> int:
    return 2 if len(lexeme) >= LONG_WORD else 1


@functools.lru_cache(maxsize=4)
def _word_list(language: str) -> frozenset[str] | None:
    """The words of `language` long enough to be corrected, or None without a list. Only
    the words are kept (about 12 MB for English), not the checker and its frequencies."""
    from spellchecker import SpellChecker

    try:
        checker = SpellChecker(language=language, distance=1)
    except ValueError:  # no list for this language
        return None
    return frozenset(w for w in checker.word_frequency if len(w) >= MIN_LENGTH)


def _kind(word: str, lexeme: str, language: str) -> str:
    """How `word` (its `lexeme` unknown to the site) may be corrected: "typo" (to any close
    lexeme), "form" (a real word: only to another form of it, "weigh" / "weight", one
    lexeme starting with the other) or "" (not at all)."""
    if len(lexeme) < MIN_LENGTH:
        return ""
    known = _word_list(language)
    if known is None:
        return "typo" if len(lexeme) >= UNLISTED_MIN_LENGTH else "form"
    return "form" if word in known else "typo"


def query_spell_correct(query: str, language: str = "en") -> str:
    """`query` with each word whose lexeme the site does not use, and that is a typo's
    distance from one it does use, replaced by that lexeme (the most frequent of the closest).
    `language` is the visitor's: its word list tells a typo from a real word.

    Two queries: the words' lexemes with their document frequencies, then, only when some
    word is unknown, the site's lexemes of similar length starting with the same letter.
    """
    found = list(dict.fromkeys(w.lower() for w in WORD_RE.findall(query or "")))[:MAX_WORDS]
    if not found:
        return query
    config = text_config()
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT w.word, l.lexeme, t.df
            FROM unnest(%s::text[]) AS w(word)
            CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector(%s::regconfig, w.word)))
                AS l(lexeme)
            LEFT JOIN crawler_term t ON t.lexeme = l.lexeme AND t.df > 0
            """,
            [found, config],
        )
        unknown = {
            word: (lexeme, kind)
            for word, lexeme, df in cur.fetchall()
            if df is None and (kind := _kind(word, lexeme, language))
        }
    if not unknown:
        return query
    corrections = _closest(unknown)
    if not corrections:
        return query

    def fix(match: re.Match) -> str:
        return corrections.get(match.group(0).lower(), match.group(0))

    return WORD_RE.sub(fix, query)


def _closest(unknown: dict[str, tuple[str, str]]) -> dict[str, str]:
    """{word: the site's closest lexeme} for the unknown words that have one within reach."""
    clauses, params = [], []
    for lexeme in {lexeme for lexeme, _ in unknown.values()}:
        clauses.append("(left(lexeme, 1) = %s AND length(lexeme) BETWEEN %s AND %s)")
        edits = _max_edits(lexeme)
        params += [lexeme[0], len(lexeme) - edits, len(lexeme) + edits]
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT lexeme, df FROM crawler_term WHERE df > 0 AND ({' OR '.join(clauses)})",  # noqa: S608 - only placeholders are joined
            params,
        )
        vocabulary = cur.fetchall()
    out = {}
    for word, (lexeme, kind) in unknown.items():
        limit = _max_edits(lexeme)
        best = None
        for candidate, df in vocabulary:
            if (
                candidate[0] != lexeme[0]
                or abs(len(candidate) - len(lexeme)) > limit
                or len(candidate) < MIN_LENGTH  # "paint" is no typo of "pain"
            ):
                continue
            if kind == "form" and not (
                candidate.startswith(lexeme) or lexeme.startswith(candidate)
            ):
                continue
            distance = OSA.distance(lexeme, candidate, score_cutoff=limit)
            if distance <= limit and (best is None or (distance, -df) < best[:2]):
                best = (distance, -df, candidate)
        if best is not None:
            out[word] = best[2]
    return out
