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
    much many one ok okay hi hello hey thanks thank today now long take takes
    offer offers provide
    """
    ),
    "fi": _wordset(
        """
    ja tai mutta jos että on ovat oli olivat ole olla olen olet olemme olette ei en et
    emme ette eivät se ne tämä tuo nämä nuo mikä mitä mitkä kuka ketkä kenen missä mistä
    mihin milloin miksi miten kuinka paljon voi voiko voinko voitteko voisitteko saa
    saako kanssa myös kun niin vain hyvin minä sinä hän me te he minun sinun meidän
    teidän heidän kertoa kerro haluan haluaisin onko onks hei moi kiitos terve
    teillä teiltä meillä kauan kestää kestääkö mitkä minkä voinko voimmeko
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
    """A crude stem: English inflections off (costs/cost, opening/open, carries/carry), then a
    5-letter prefix, enough to match Finnish inflections (hinta/hintaa, palvelu/palvelut)."""
    w = word.lower()
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 5 and w.endswith("ing"):
        w = w[:-3]
    elif len(w) > 4 and w.endswith("ed"):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouyäö":
        w = w[:-1]  # shipp(ing) -> ship
    return w[:5]


# Words a visitor uses for what a site calls something else. Each group is one concept: a
# question word from a group is covered by any word of its group, and retrieval also looks
# for the others. Kept to general shop/service vocabulary, not any one site's content.
SYNONYM_GROUPS = [
    "price prices pricing cost costs euro euros € fee fees",
    "delivery deliver shipping ship shipped",
    "return returns refund exchange",
    "hours open opening monday friday saturday sunday",
    "store stores shop shops showroom",
    "book booking reserve appointment",
    "warranty guarantee covered",
    "repair repairs workshop fix",
    "service servicing maintenance",
    "instalments instalment installments financing finance leasing lease",
    "carry load capacity",
    "weight weigh weighs heavy",
    "pay payment payments",
    "contact phone e-mail email",
    "winter snow ice studded",
    "bike bikes bicycle bicycles cycling ride riding",
]

# Finnish question words → English words the site may use (prefix of the Finnish word →
# English words); lets a Finnish question find an English site's pages and be judged covered.
FI_EN = {
    "hint": "price",
    "hinn": "price",
    "maksa": "price cost pay",
    "paljon": "price",
    "takuu": "warranty",
    "talv": "winter",
    "pyöräil": "ride cycling",
    "pyör": "bike",
    "aukiol": "opening hours open",
    "auki": "open",
    "toimit": "delivery",
    "lähety": "shipping",
    "palaut": "return",
    "vaihd": "exchange",
    "vaihto": "exchange",
    "koeaj": "test ride",
    "varat": "book",
    "varaa": "book",
    "varau": "booking",
    "huol": "service",
    "korja": "repair",
    "osamaks": "instalments",
    "rahoit": "financing",
    "leasing": "leasing",
    "myymäl": "store",
    "kaupp": "store",
    "liike": "store",
    "yhtey": "contact",
    "puhel": "phone",
    "sähköpost": "e-mail",
    "koko": "size",
    "akku": "battery",
    "akun": "battery",
    "kantam": "range",
    "lahjakort": "gift card",
    "kypär": "helmet",
    "lukko": "lock",
    "nastarenk": "studded tyres",
    "renka": "tyres",
    "sähköpyör": "e-bike electric",
    "maksutap": "payment methods",
    "kauan": "long time days",
    "kestää": "take",
    "milloin": "when",
}


def _synonym_index() -> dict[str, frozenset[str]]:
    index: dict[str, frozenset[str]] = {}
    for group in SYNONYM_GROUPS:
        stems = frozenset(stem(w) for g in group.split() for w in words(g) or [g])
        for s in stems:
            index[s] = index.get(s, frozenset()) | stems
    return index


_SYNONYMS = _synonym_index()


def _translations(word: str) -> list[str]:
    for prefix in sorted(FI_EN, key=len, reverse=True):
        if word.startswith(prefix):
            return FI_EN[prefix].split()
    return []


def query_terms(text: str) -> list[frozenset[str]]:
    """The question's meaningful words, each as the set of stems that count as that word
    (itself, its synonyms, its English translations), in order, one per concept."""
    return [alts for _, alts in query_term_pairs(text)]


def query_term_pairs(text: str) -> list[tuple[str, frozenset[str]]]:
    """(the word's own stem, its set of stems as in `query_terms`) for each concept."""
    terms: list[tuple[str, frozenset[str]]] = []
    seen: set[frozenset[str]] = set()
    for s, w in content_words(text):
        alts = {s} | _SYNONYMS.get(s, frozenset())
        for english in _translations(w):
            es = stem(english)
            alts |= {es} | _SYNONYMS.get(es, frozenset())
        # "opening hours" is one thing asked about, not two.
        if any(s in other for other in seen):
            continue
        alts = frozenset(alts)
        seen.add(alts)
        terms.append((s, alts))
    return terms


def query_expand(text: str) -> str:
    """`text` plus the synonyms and English translations of its words (for retrieval)."""
    extra: list[str] = []
    # Finnish question words ("kauan" → long time) help retrieval even where coverage
    # ignores them as stopwords.
    for w in words(text):
        if w in STOPWORDS["fi"]:
            extra.extend(_translations(w))
    for s, w in content_words(text):
        english = _translations(w)
        extra.extend(english)
        for group in SYNONYM_GROUPS:
            members = group.split()
            if any(stem(m) == s for m in members) or any(
                stem(m) == stem(e) for m in members for e in english
            ):
                extra.extend(members[:3])
    if not extra:
        return text
    return text + " " + " ".join(dict.fromkeys(extra))


def content_words(text: str) -> list[tuple[str, str]]:
    """(stem, word) for each meaningful word of `text` (stopwords of both languages removed)."""
    stops = STOPWORDS["en"] | STOPWORDS["fi"]
    return [(stem(w), w) for w in words(text) if w not in stops and (len(w) >= 3 or w.isdigit())]


def language_detect(text: str, default: str = "en") -> str:
    """ "fi" or "en" for a visitor's message; `default` (the site's language) when unsure."""
    ws = words(text)
    if not ws:
        return default if default in ("en", "fi") else "en"
    fi = sum(1 for w in ws if w in FI_HINTS)
    fi += 2 if any(ch in "äö" for ch in text.lower()) else 0  # not å: Swedish (Åland)
    # Finnish inflection endings (case endings, the -ko/-kö question suffix).
    fi += sum(1 for w in ws if len(w) > 4 and w.endswith(FI_ENDINGS))
    en = sum(1 for w in ws if w in EN_HINTS)
    if fi > en:
        return "fi"
    if en > fi:
        return "en"
    return default if default in ("en", "fi") else "en"
