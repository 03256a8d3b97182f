"""Checks the later held-out question sets (bench/quality/<corpus>.heldout2.json,
.heldout3.json and .heldout4.json) against the corpora's text, without touching Cloop's
answer path.

Usage: .venv/bin/python bench/quality/check_heldout2.py [--part heldout2|heldout3|heldout4]
(all these parts without --part; needs Django for rendering the demo's templates, and Debian's
python-flask-doc for Flask)

For every answerable question its gold fact must occur in the visible text of its first gold
page (case and whitespace ignored, as bench/answer_quality.py compares). The other gold pages
must hold the fact too, or, where they give the same answer in other words (a Finnish page
for an English question, "2nd floor" for "second floor"), the wording listed in OTHER_WORDING.
Out-of-scope questions are only counted: that no page answers them was checked by hand when
they were written. No question may repeat, word for word (case and punctuation ignored), a
question of any other part of the same corpus (tuning, heldout, heldout2, heldout3, heldout4),
nor, for the demo, a question of tests/conversations/chat/demo_eval.json (the legacy set earlier
work was tuned on). Exit status 1 if any check fails.

The questions were written without running Cloop on them; nothing may be tuned on them
(docs/quality.md, "Held-out discipline"). Do not print or inspect Cloop's answers to them.
"""

import argparse
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
DENTAL = ROOT / "bench" / "corpora" / "dental"
FLASK_DOCS = Path("/usr/share/doc/python-flask-doc/html")
CORPORA = ("demo", "dental", "flask")
PARTS = ("heldout2", "heldout3", "heldout4")
ALL_PARTS = ("tuning", "heldout", *PARTS)

# (question id, gold page) -> the page's own wording of the same answer.
OTHER_WORDING = {
    ("demo-h2-a-9", "city-commuter"): "16.5 kg",
    ("demo-h2-a-23", "e-cruiser"): "two-year warranty",
    ("dental-h2-a-7", "fi/index.html"): "kolme hammaslääkäriä",
    ("dental-h2-a-21", "contact.html"): "2nd floor",
    ("dental-h2-a-21", "fi/index.html"): "toisessa kerroksessa",
    ("dental-h2-a-25", "index.html"): "lift",
    ("dental-h2-a-26", "index.html"): "two dental hygienists",
    ("dental-h2-a-27", "children.html"): "included",
    ("dental-h2-a-28", "booking.html"): "invoice",
    ("dental-h2-a-29", "emergency.html"): "same day",
    ("dental-h3-a-21", "fi/index.html"): "torin vieressä",
    ("dental-h3-a-22", "prices.html"): "Kela card",
    ("dental-h3-a-24", "booking.html"): "8 and 16",
    ("dental-h3-a-25", "booking.html"): "debit",
    ("dental-h3-a-26", "children.html"): "playful",
    ("dental-h4-a-19", "booking.html"): "24 hours",
    ("dental-h4-a-19", "prices.html"): "24 hours",
    ("dental-h4-a-28", "fi/ajanvaraus.html"): "milloin tahansa",
    ("dental-h4-a-30", "emergency.html"): "9 to 15",
}


class _Text(HTMLParser):
    """Visible text of an HTML page: everything outside <script>, <style> and <head>."""

    SKIP = {"script", "style", "head"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return " ".join(parser.parts)


def norm(s: str) -> str:
    """As bench/answer_quality.py compares facts: whitespace removed, lower case."""
    return re.sub(r"\s+", "", s).lower()


def demo_pages() -> dict[str, str]:
    """The demo's pages rendered from templates/demo/ with the context widget.views.demo_page
    gives them (a bare Django template engine: no database, no Cloop settings)."""
    import django
    from django.conf import settings

    sys.path.insert(0, str(ROOT))
    from widget import demo

    settings.configure(
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [str(ROOT / "templates")],
            }
        ]
    )
    django.setup()
    from django.template.loader import render_to_string

    pages = {}
    for slug, entry in demo.PAGES.items():
        context = {
            "page": entry,
            "slug": slug,
            "nav": demo.NAV,
            "all_pages": list(demo.PAGES.items()),
            "widget_src": "/widget.js",
            "widget_site": "demo",
        }
        pages[slug] = render_to_string(f"demo/{slug}.html", context)
    return pages


def static_pages(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): p.read_text(errors="replace")
        for p in directory.rglob("*.html")
        if "_sources" not in p.parts
    }


def question_key(q: str) -> str:
    """A question with case, punctuation and whitespace ignored, for spotting repeats."""
    return re.sub(r"[\W_]+", "", q.lower())


def questions(corpus: str, part: str) -> list[dict]:
    data = json.loads((HERE / f"{corpus}.{part}.json").read_text())
    return data["answerable"] + data["out_of_scope"]


def legacy_questions(corpus: str) -> list[dict]:
    """The demo's legacy questions (tests/conversations/chat/demo_eval.json), as
    {"q", "id"}; none for the other corpora. Its off-topic list holds bare strings."""
    if corpus != "demo":
        return []
    data = json.loads((ROOT / "tests" / "conversations" / "chat" / "demo_eval.json").read_text())
    return [
        {"q": item if isinstance(item, str) else item["q"], "id": f"{key}[{n}]"}
        for key, items in data.items()
        if isinstance(items, list)
        for n, item in enumerate(items)
    ]


def check(corpus: str, part: str, pages: dict[str, str]) -> int:
    data = json.loads((HERE / f"{corpus}.{part}.json").read_text())
    assert data["corpus"] == corpus and data["part"] == part
    text = {name: norm(visible_text(html)) for name, html in pages.items()}
    failures = 0
    other_wording = 0
    ids = [i["id"] for i in data["answerable"] + data["out_of_scope"]]
    if len(ids) != len(set(ids)):
        print(f"{corpus} {part}: duplicate ids")
        failures += 1
    asked = {
        question_key(i["q"]): f"{other} {i['id']}"
        for other in ALL_PARTS
        if other != part
        for i in questions(corpus, other)
    }
    asked |= {question_key(i["q"]): f"demo_eval {i['id']}" for i in legacy_questions(corpus)}
    for item in data["answerable"] + data["out_of_scope"]:
        if question_key(item["q"]) in asked:
            print(f"{item['id']}: repeats {asked[question_key(item['q'])]} ({item['q']})")
            failures += 1
    for item in data["answerable"]:
        for n, page in enumerate(item["pages"]):
            if page not in text:
                print(f"{item['id']}: no page {page!r} in the corpus")
                failures += 1
                continue
            if norm(item["fact"]) in text[page]:
                continue
            alt = OTHER_WORDING.get((item["id"], page))
            if n > 0 and alt is not None and norm(alt) in text[page]:
                other_wording += 1
                continue
            print(f"{item['id']}: fact {item['fact']!r} not on {page} ({item['q']})")
            failures += 1
    gold = sum(len(i["pages"]) for i in data["answerable"])
    print(
        f"{corpus} {part}: {len(data['answerable'])} answerable ({gold} gold pages, "
        f"{gold - other_wording} with the fact verbatim, {other_wording} in their own words), "
        f"{len(data['out_of_scope'])} out of scope, {failures} failed"
    )
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=PARTS, help="check only this part (default: all)")
    part = parser.parse_args().part
    parts = [part] if part else list(PARTS)
    loaders = {
        "demo": demo_pages,
        "dental": lambda: static_pages(DENTAL),
        "flask": lambda: static_pages(FLASK_DOCS),
    }
    failures = 0
    for corpus in CORPORA:
        pages = loaders[corpus]()
        failures += sum(check(corpus, part, pages) for part in parts)
    print("all facts found" if not failures else f"{failures} checks failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
