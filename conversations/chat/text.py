"""Language helpers shared by the answer pipeline, the offline model and phases.

Everything here is general language handling from maintained libraries, never a site's own
vocabulary: Snowball stemmers (PyStemmer, the algorithm family PostgreSQL's text search
uses), stop-word lists per language (the `stopwords` package), language detection with
lingua's models shipped in its wheel (no download), and the site's own synonyms, which the
customer edits in the admin (SiteSettings.synonyms).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import Stemmer
import stopwords as stopword_lists

WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)

# ISO 639-1 code -> Snowball algorithm (PyStemmer's names). Languages without a Snowball
# stemmer are matched on their lower-cased words.
SNOWBALL = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german",
    "el": "greek", "en": "english", "es": "spanish", "et": "estonian", "eu": "basque",
    "fi": "finnish", "fr": "french", "hi": "hindi", "hu": "hungarian", "hy": "armenian",
    "id": "indonesian", "it": "italian", "lt": "lithuanian", "nl": "dutch", "no": "norwegian",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sv": "swedish", "tr": "turkish",
}  # fmt: skip

# Words of chat that carry no question content, beyond the standard stop-word lists
# (greetings, politeness, "tell me"): general language, not any site's words.
CHAT_FILLER = {
    "en": "much many please tell know want like need get hi hello hey thanks thank ok okay "
    "yes no sure also just really",
    "fi": "kiitos hei moi terve kerro kertoa haluan haluaisin voisitteko voisitko "
    "voinko voiko voimmeko saako saanko paljonko kuinka miten mikä mitä onko "
    "oletteko olette olemme ovatko onks teillä teiltä teille meillä",
}


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD_RE.findall(text or "")]


@functools.lru_cache(maxsize=32)
def _stemmer(language: str):
    algorithm = SNOWBALL.get(language)
    return Stemmer.Stemmer(algorithm) if algorithm else None


def stem(word: str, language: str = "en") -> str:
    """The Snowball stem of `word` in `language` (its lower-cased form where there is none)."""
    w = word.lower()
    stemmer = _stemmer(language)
    return stemmer.stemWord(w) if stemmer else w


# A word written with hyphens ("e-mail", "T-paita"), also matched as one word ("email").
HYPHENATED_RE = re.compile(r"[^\W_]+(?:-[^\W_]+)+", re.UNICODE)


def stems(text: str, language: str = "en") -> set[str]:
    """The stems of `text`'s words, and of its hyphenated words written as one."""
    found = {stem(w, language) for w in words(text)}
    for joined in HYPHENATED_RE.findall(text or ""):
        found.add(stem(joined.replace("-", ""), language))
    return found


@functools.lru_cache(maxsize=32)
def stopwords(language: str) -> frozenset[str]:
    """The language's standard stop words plus chat filler (empty for an unknown language)."""
    try:
        listed = set(stopword_lists.get_stopwords(language))
    except Exception:  # the package raises for a language it does not know
        listed = set()
    return frozenset(listed | set(CHAT_FILLER.get(language, "").split()))


def _site_languages() -> tuple[str, ...]:
    from django.conf import settings

    return tuple(code for code, _ in settings.LANGUAGES)


def _all_stopwords() -> frozenset[str]:
    # A visitor may mix languages ("SonicCare hinta?"): a word that is a stop word in any of
    # the site languages carries no content.
    return frozenset().union(*(stopwords(lang) for lang in _site_languages()))


def synonym_groups_parse(text: str) -> list[tuple[str, ...]]:
    """The customer's synonyms: one group per line, words or phrases separated by commas."""
    groups = []
    for line in (text or "").splitlines():
        members = tuple(m.strip().lower() for m in line.split(",") if m.strip())
        if len(members) >= 2:
            groups.append(members)
    return groups


def _synonym_index(groups: Iterable[Iterable[str]], language: str) -> dict[str, frozenset[str]]:
    index: dict[str, frozenset[str]] = {}
    for group in groups:
        group_stems = frozenset(stem(w, language) for member in group for w in words(member))
        for s in group_stems:
            index[s] = index.get(s, frozenset()) | group_stems
    return index


def content_words(text: str, language: str = "en") -> list[tuple[str, str]]:
    """(stem, word) for each meaningful word of `text` (stop words and 1-2 letter words out)."""
    stops = _all_stopwords()
    return [
        (stem(w, language), w)
        for w in words(text)
        if w not in stops and (len(w) >= 3 or w.isdigit())
    ]


def query_term_pairs(
    text: str, language: str = "en", synonyms: Iterable[Iterable[str]] = ()
) -> list[tuple[str, frozenset[str]]]:
    """(the word's own stem, the stems that count as that word) for each concept asked about,
    in order: the word itself and, from the site's own synonym groups, its synonyms."""
    index = _synonym_index(synonyms, language)
    terms: list[tuple[str, frozenset[str]]] = []
    seen: set[str] = set()
    for s, _ in content_words(text, language):
        if s in seen:
            continue
        alts = frozenset({s} | index.get(s, frozenset()))
        seen |= alts
        terms.append((s, alts))
    return terms


def query_terms(
    text: str, language: str = "en", synonyms: Iterable[Iterable[str]] = ()
) -> list[frozenset[str]]:
    """The question's meaningful words, each as the set of stems that count as that word."""
    return [alts for _, alts in query_term_pairs(text, language, synonyms)]


# Shortest stem matched as a prefix: an inflected or compound form the stemmer leaves apart
# ("lauantai" / "lauantaisin") still counts as the word.
PREFIX_MIN = 5


def term_found(alternatives: frozenset[str], stems_: set[str]) -> bool:
    """Whether a question term (its set of stems) occurs among `stems_`: exactly, or as the
    start of a longer word for stems of at least PREFIX_MIN letters."""
    if alternatives & stems_:
        return True
    long_ = [a for a in alternatives if len(a) >= PREFIX_MIN]
    return bool(long_) and any(w.startswith(a) for w in stems_ for a in long_ if len(w) > len(a))


def query_expand(text: str, synonyms: Iterable[Iterable[str]] = ()) -> str:
    """`text` plus the members of the site's synonym groups its words belong to (retrieval)."""
    extra: list[str] = []
    have = set(words(text))
    for group in synonyms:
        if any(set(words(member)) <= have for member in group):
            extra.extend(m for m in group if not set(words(m)) <= have)
    if not extra:
        return text
    return text + " " + " ".join(dict.fromkeys(extra))


@functools.lru_cache(maxsize=4)
def _detector(languages: tuple[str, ...]):
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, code.upper()) for code in languages]
    if len(codes) < 2:
        return None
    # Low accuracy mode: trigram models only, loaded in a fraction of a second; on the
    # short messages of a chat it still tells the site languages apart.
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_low_accuracy_mode().build()


# Below this confidence of the likeliest language, a message is taken to be in the site's.
DETECT_CONFIDENCE_MIN = 0.55


def language_detect(text: str, default: str = "en") -> str:
    """The language of a visitor's message among the site languages (settings.LANGUAGES);
    `default` (the site's language) when the text is too short or mixed to tell."""
    languages = _site_languages()
    fallback = default if default in languages else languages[0]
    detector = _detector(languages)
    if detector is None or not words(text):
        return fallback
    ranked = detector.compute_language_confidence_values(text)
    if not ranked or ranked[0].value < DETECT_CONFIDENCE_MIN:
        # A coin toss ("whats ur email adress": 0.51 Finnish) is no reason to answer a
        # visitor in another language than the site's.
        return fallback
    code = ranked[0].language.iso_code_639_1.name.lower()
    return code if code in languages else fallback


# Share of a question's meaningful words a customer's custom answer (its question and answer
# text) must hold to count as answering it: then it is put first among the sources and the
# offline answerer quotes it whole (conversations.chat.answer, conversations.chat.offline).
ANSWER_MATCH_MIN = 0.6


def terms_share(
    question: str, text: str, language: str = "en", synonyms: Iterable[Iterable[str]] = ()
) -> float:
    """Share of the question's meaningful words (`query_terms`) found in `text`, 0..1."""
    terms = query_terms(question, language, synonyms)
    if not terms:
        return 0.0
    have = stems(text, language)
    return sum(1 for t in terms if term_found(t, have)) / len(terms)
