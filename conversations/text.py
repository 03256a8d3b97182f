"""Small, dependency-free text helpers shared by the answer pipeline, the offline model and phases.

Only English and Finnish are handled explicitly; anything else falls back to the site's language.
"""

from __future__ import annotations

import re

WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = {
    "en": _wordset(
        """
    a an the and or but if of to in on at by for with about from as into is are was were
    be been being do does did doing have has had having i me my we our you your he she
    it its they them their this that these those what which who whom whose when where
    why how can could would should will shall may might must there here please tell me
    know want like get any some all not no yes so than then too very just also more most
    much many one ok okay hi hello hey thanks thank
    """
    ),
    "fi": _wordset(
        """
    ja tai mutta jos että on ovat oli olivat ole olla olen olet olemme olette ei en et
    emme ette eivät se ne tämä tuo nämä nuo mikä mitä mitkä kuka ketkä kenen missä mistä
    mihin milloin miksi miten kuinka paljon voi voiko voinko voitteko voisitteko saa
    saako kanssa myös kun niin vain hyvin minä sinä hän me te he minun sinun meidän
    teidän heidän kertoa kerro haluan haluaisin onko onks hei moi kiitos terve
    """
    ),
}

# Words and letters that mark a Finnish sentence; cheap and good enough to pick en vs fi.
FI_HINTS = _wordset(
    """
    ja on ei se että mitä miten kuinka onko voiko mikä missä kun paljon paljonko hinta
    hinnat maksaa maksaako palvelu palvelut yritys kiitos hei moi haluan haluaisin
    voisitteko tarjous yhteyttä ovat oletteko teillä teidän minulle meille
    """
)
FI_ENDINGS = ("ko", "kö", "ssa", "ssä", "sta", "stä", "lla", "llä", "lle", "aan", "ään", "ksi")
EN_HINTS = _wordset(
    """
    the and is are what how does do can you your price prices service services company
    thanks hello want would could contact please
    """
)


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD_RE.findall(text or "")]


def stem(word: str) -> str:
    """A crude prefix stem: enough to match Finnish inflections (hinta/hintaa, palvelu/palvelut)."""
    return word[:5]


def content_stems(text: str, language: str | None = None) -> list[str]:
    """Stems of the meaningful words in `text` (stopwords of both languages removed), in order."""
    stops = STOPWORDS["en"] | STOPWORDS["fi"]
    seen: dict[str, None] = {}
    for w in words(text):
        if w in stops or (len(w) < 3 and not w.isdigit()):
            continue
        seen.setdefault(stem(w), None)
    return list(seen)


def language_detect(text: str, default: str = "en") -> str:
    """ "fi" or "en" for a visitor's message; `default` (the site's language) when unsure."""
    ws = words(text)
    if not ws:
        return default if default in ("en", "fi") else "en"
    fi = sum(1 for w in ws if w in FI_HINTS)
    fi += 2 if any(ch in "äöå" for ch in text.lower()) else 0
    # Finnish inflection endings (case endings, the -ko/-kö question suffix).
    fi += sum(1 for w in ws if len(w) > 4 and w.endswith(FI_ENDINGS))
    en = sum(1 for w in ws if w in EN_HINTS)
    if fi > en:
        return "fi"
    if en > fi:
        return "en"
    return default if default in ("en", "fi") else "en"
