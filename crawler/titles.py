"""Page titles and section names as people read them, for citations.

Sites title their pages "Our offices | Acme Oy", the home page often "Acme Oy |
Acme Oy", and the crawler keeps each section's heading ("Espoo"). A citation reads
best as "Our offices › Espoo": the page's own part of the title, then the section.
Plain functions, no database.
"""

from __future__ import annotations

import re

# " | ", " – ", " — ", " - ", " · ", " :: ", " » " between the parts of a <title>.
TITLE_SEPARATORS_RE = re.compile(r"\s+(?:\||–|—|-|·|::|»|/)\s+")
SECTION_SEPARATOR = " \u203a "  # ›


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().casefold()


def title_parts(title: str) -> list[str]:
    """The parts of a title, each once ("A | A" → ["A"]), in order."""
    seen: set[str] = set()
    out = []
    for part in TITLE_SEPARATORS_RE.split(title or ""):
        part = part.strip()
        if part and _key(part) not in seen:
            seen.add(_key(part))
            out.append(part)
    return out


def title_parts_shared(titles_by_page: dict[str, str]) -> set[str]:
    """Parts (as keys) found in the titles of two or more different pages: the site's name
    ("… | Acme Oy"), which says nothing about the page."""
    counts: dict[str, int] = {}
    for title in titles_by_page.values():
        for key in {_key(p) for p in title_parts(title)}:
            counts[key] = counts.get(key, 0) + 1
    return {key for key, n in counts.items() if n >= 2}


def title_clean(title: str, site_name: str = "", shared: set[str] | frozenset = frozenset()) -> str:
    """The title without repeated parts ("A | A" → "A") and, when something else is left,
    without the parts naming the site: a part the site's name starts with ("Our offices |
    Acme Oy" → "Our offices" for the site "Acme Oy (demo)"), or a part other
    pages' titles share (`shared`, from title_parts_shared)."""
    unique = title_parts(title)
    site = _key(site_name)
    own = [p for p in unique if _key(p) not in shared and not (site and site.startswith(_key(p)))]
    unique = own or unique
    return " | ".join(unique) if unique else (title or "").strip()


def source_label(
    title: str, heading: str = "", site_name: str = "", shared: set[str] | frozenset = frozenset()
) -> str:
    """A citation's label: the cleaned page title, then the section's heading if it says
    something the title does not ("Our offices › Espoo"). A heading equal to a part of the
    title is the page's own name (its <h1>): the label is just that ("Our offices")."""
    heading = (heading or "").strip()
    for part in title_parts(title):
        if heading and _key(part) == _key(heading):
            return part
    page = title_clean(title, site_name, shared)
    if not heading:
        return page
    if not page:
        return heading
    return f"{page}{SECTION_SEPARATOR}{heading}"
