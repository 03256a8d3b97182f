"""Page titles and section names as people read them, for citations.

Sites title their pages "Our stores | Northwind Bikes", the home page often "Northwind Bikes |
Northwind Bikes", and the crawler keeps each section's heading ("Helsinki"). A citation reads
best as "Our stores › Helsinki": the page's own part of the title, then the section.
Plain functions, no database.
"""

from __future__ import annotations

import re

# " | ", " – ", " — ", " - ", " · ", " :: ", " » " between the parts of a <title>.
TITLE_SEPARATORS_RE = re.compile(r"\s+(?:\||–|—|-|·|::|»|/)\s+")
SECTION_SEPARATOR = " \u203a "  # ›


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().casefold()


def title_clean(title: str, site_name: str = "") -> str:
    """The title without repeated parts ("A | A" → "A") and, when something else is left,
    without the part naming the site ("Our stores | Northwind Bikes" → "Our stores" for the
    site "Northwind Bikes (demo)": a part the site's name starts with, or equal to it)."""
    parts = [p.strip() for p in TITLE_SEPARATORS_RE.split(title or "") if p.strip()]
    seen: set[str] = set()
    unique = []
    for part in parts:
        if _key(part) not in seen:
            seen.add(_key(part))
            unique.append(part)
    site = _key(site_name)
    if site:
        own = [p for p in unique if not (_key(p) and site.startswith(_key(p)))]
        unique = own or unique
    return " | ".join(unique) if unique else (title or "").strip()


def source_label(title: str, heading: str = "", site_name: str = "") -> str:
    """A citation's label: the cleaned page title, then the section's heading if it says
    something the title does not ("Our stores › Helsinki"; the top section, whose heading is
    usually the page's <h1>, is just "Our stores")."""
    page = title_clean(title, site_name)
    heading = (heading or "").strip()
    if not heading or _key(heading) in (_key(page), _key(title)):
        return page or heading
    if not page:
        return heading
    return f"{page}{SECTION_SEPARATOR}{heading}"
