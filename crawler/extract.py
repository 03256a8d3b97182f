"""Extraction: the main content of one HTML page, as sections with their anchors.

The page's own structure comes first: a `<main>`, `[role=main]` or single `<article>` region
is the content, with navigation, headers, footers, asides, forms, cookie banners and scripts
removed. Pages without such a region are handed to trafilatura, which finds the main text
by its own heuristics; their headings are then matched back to the anchors in the original
document so citations can still point at `page#section`.

Pure functions: no database, no network.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from crawler.titles import title_clean

# trafilatura logs every page it cannot use at ERROR; the crawl report says it once.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
BLOCKS = {
    "p",
    "li",
    "dd",
    "dt",
    "pre",
    "blockquote",
    "td",
    "th",
    "figcaption",
    "caption",
    "summary",
}
# Elements never part of the content.
DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "canvas",
    "iframe",
    "object",
    "embed",
    "form",
    "button",
    "select",
    "input",
    "textarea",
    "nav",
    "aside",
    "header",
    "footer",
    "dialog",
)
# Class/id words of boilerplate blocks (cookie banners, share bars, breadcrumbs, sidebars).
BOILERPLATE_RE = re.compile(
    r"(^|[\s_-])(cookie|cookies|consent|gdpr|banner|breadcrumbs?|sidebar|sphinxsidebar|"
    r"related|share|social|newsletter|subscribe|skip-?link|navbar|menu|toc|footer|header|"
    r"advert|ads|popup|modal)($|[\s_-])",
    re.I,
)
BOILERPLATE_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog"}
ANY_WS_RE = re.compile(r"\s+")
WS_RE = re.compile(r"[ \t\r\f\v]+")
# Control characters and replacement characters: what binary junk decodes to.
JUNK_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]+")
HEADERLINK_CHARS = "¶§#🔗"


@dataclass
class Section:
    heading: str
    anchor: str
    level: int
    text: str


@dataclass
class Extracted:
    title: str
    language: str
    sections: list[Section] = field(default_factory=list)
    canonical: str = ""
    noindex: bool = False
    nofollow: bool = False
    links: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)

    @property
    def content_hash(self) -> str:
        h = hashlib.sha256()
        h.update(self.title.encode())
        for s in self.sections:
            h.update(b"\0" + s.heading.encode() + b"\0" + s.anchor.encode() + b"\0")
            h.update(s.text.encode())
        return h.hexdigest()


def parse_html(html: str | bytes) -> lxml.html.HtmlElement | None:
    """Parse forgiving of broken markup; None for a document with no element at all."""
    if isinstance(html, bytes):
        parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True)
    else:
        # lxml refuses str input with an XML encoding declaration.
        html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
        parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, encoding=None)
    try:
        root = lxml.html.document_fromstring(html, parser=parser)
    except (etree.ParserError, ValueError):
        return None
    return root


def _clean(text: str) -> str:
    text = JUNK_RE.sub(" ", text)
    lines = [WS_RE.sub(" ", ln).strip() for ln in text.split("\n")]
    out = "\n".join(ln for ln in lines if ln)
    return out.strip()


def _heading_text(el) -> str:
    return _clean(" ".join(el.itertext())).strip(HEADERLINK_CHARS + " ").strip()


def _anchor_of(el) -> str:
    """The fragment a link to this heading would use: its id, a named anchor inside it,
    its header link, or the id of the section it opens."""
    if el.get("id"):
        return el.get("id")
    for a in el.iter("a"):
        if a.get("id") or a.get("name"):
            return a.get("id") or a.get("name")
        href = a.get("href") or ""
        if href.startswith("#") and len(href) > 1:
            return href[1:]
    parent = el.getparent()
    if parent is not None and parent.get("id"):
        first = next((c for c in parent if isinstance(c.tag, str)), None)
        if first is el:
            return parent.get("id")
    prev = el.getprevious()
    if prev is not None and prev.tag == "a" and (prev.get("id") or prev.get("name")):
        return prev.get("id") or prev.get("name")
    return ""


def _meta(root, name: str) -> str:
    vals = []
    for m in root.iter("meta"):
        if (m.get("name") or "").lower() == name:
            vals.append(m.get("content") or "")
    return ",".join(vals).lower()


def _is_boilerplate(el) -> bool:
    if el.get("role", "").lower() in BOILERPLATE_ROLES:
        return True
    if el.get("aria-hidden") == "true" or el.get("hidden") is not None:
        return True
    style = (el.get("style") or "").replace(" ", "").lower()
    if "display:none" in style:
        return True
    cls = f"{el.get('class', '')} {el.get('id', '')}"
    return bool(cls.strip()) and bool(BOILERPLATE_RE.search(cls))


_BOILERPLATE_CANDIDATES = etree.XPath(
    ".//*[@class or @id or @role or @style or @hidden or @aria-hidden]"
)
# Inline elements are never a banner or a menu on their own (and a code span's class is
# not a page region); skipping them keeps `<span class="pre">` and friends in the text.
INLINE_TAGS = {
    "span",
    "a",
    "code",
    "em",
    "strong",
    "b",
    "i",
    "kbd",
    "var",
    "abbr",
    "cite",
    "sup",
    "sub",
    "small",
    "mark",
    "samp",
    "tt",
    "u",
    "s",
    "q",
    "time",
    "img",
    "br",
    "wbr",
}


def _strip_boilerplate(region) -> None:
    for el in list(region.iter(*DROP_TAGS)):
        if el is region:
            continue
        el.drop_tree()
    # Only elements carrying one of the attributes _is_boilerplate reads can be boilerplate;
    # XPath finds them in C, which matters on pages with thousands of spans.
    for el in _BOILERPLATE_CANDIDATES(region):
        if el is region or el.tag in HEADINGS or el.tag in INLINE_TAGS:
            continue
        if el.getparent() is not None and _is_boilerplate(el):
            el.drop_tree()


def _main_region(root):
    for xp in ("//main", "//*[@role='main']"):
        found = root.xpath(xp)
        if found:
            return found[0]
    arts = root.xpath("//article")
    if len(arts) == 1:
        return arts[0]
    # Common documentation layouts (Sphinx, MkDocs, Docusaurus).
    for xp in (
        "//div[@itemprop='articleBody']",
        "//div[contains(concat(' ', normalize-space(@class), ' '), ' body ')][@role]",
        "//div[contains(concat(' ', normalize-space(@class), ' '), ' document ')]",
        "//div[@id='content']",
        "//div[contains(concat(' ', normalize-space(@class), ' '), ' content ')]",
    ):
        found = root.xpath(xp)
        if len(found) == 1:
            return found[0]
    return None


class _SectionWalker:
    """Splits a region into sections: walks it in document order, collecting text lines
    (`parts`) under the current heading and starting a new section at each heading."""

    # Blocks that may hold other blocks (a list item with paragraphs, a table cell with a
    # list): their own loose text is one line, and each child block its own.
    CONTAINERS = ("li", "dd", "dt", "td", "th")

    def __init__(self, region):
        self.region = region
        self.sections: list[Section] = []
        self.heading, self.anchor, self.level = "", "", 0
        self.parts: list[str] = []

    def sections_all(self) -> list[Section]:
        self.walk(self.region)
        self.section_end()
        # A heading with nothing under it adds nothing to an answer.
        return [s for s in self.sections if s.text]

    def section_end(self) -> None:
        text = _clean("\n".join(self.parts))
        if text or self.heading:
            self.sections.append(
                Section(heading=self.heading, anchor=self.anchor, level=self.level, text=text)
            )

    def walk(self, el) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in HEADINGS:
            self.heading_start(el, tag)
        elif tag in BLOCKS:
            self.block_add(el, tag)
        else:
            self.text_add(el.text)
            for child in el:
                self.walk(child)
            if el is not self.region:
                self.text_add(el.tail)

    def heading_start(self, el, tag: str) -> None:
        self.section_end()
        self.heading, self.anchor, self.level = _heading_text(el), _anchor_of(el), int(tag[1])
        self.parts = []
        self.text_add(el.tail)

    def block_add(self, el, tag: str) -> None:
        if tag == "pre":
            self.parts.append(el.text_content())
        elif tag in self.CONTAINERS and any(_is_block_or_heading(c) for c in el):
            self.text_add(el.text)
            for child in el:
                self.walk(child)
        else:
            # One block, one line: line breaks of the HTML source inside a paragraph are not
            # the author's (Sphinx wraps at 80 columns), and a sentence cut in two reads as
            # two fragments to the answerer.
            self.parts.append(ANY_WS_RE.sub(" ", " ".join(el.itertext())))
        self.text_add(el.tail)

    def text_add(self, text: str | None) -> None:
        """Loose text (an element's text or tail) counts only when it is not blank."""
        if text and text.strip():
            self.parts.append(text)


def _is_block_or_heading(el) -> bool:
    return isinstance(el.tag, str) and (el.tag in BLOCKS or el.tag in HEADINGS)


def _sections_from_region(region) -> list[Section]:
    """The region's sections in document order, a new one at each heading."""
    return _SectionWalker(region).sections_all()


def _sections_via_trafilatura(html: str, root) -> list[Section]:
    import trafilatura

    out = trafilatura.extract(
        html,
        output_format="html",
        include_comments=False,
        include_tables=True,
        include_links=False,
        include_formatting=True,
        favor_recall=True,
        deduplicate=False,
    )
    if not out:
        return []
    region = parse_html(out)
    if region is None:
        return []
    region = region.find("body") if region.find("body") is not None else region
    sections = _sections_from_region(region)
    anchors = {}
    for h in root.iter(*HEADINGS):
        t = _heading_text(h)
        if t and t not in anchors:
            anchors[t] = _anchor_of(h)
    for s in sections:
        if s.heading and not s.anchor:
            s.anchor = anchors.get(s.heading, "")
    return sections


def _links(root) -> list[str]:
    out = []
    for a in root.iter("a", "area"):
        href = a.get("href")
        if not href:
            continue
        rel = (a.get("rel") or "").lower().split()
        if "nofollow" in rel:
            continue
        out.append(href.strip())
    return out


def extract_html(html: str | bytes, *, robots_header: str = "") -> Extracted | None:
    """Title, language, canonical, robots directives, links and the main content's sections.

    `robots_header` is the X-Robots-Tag response header. None when the input is not HTML at
    all (binary junk, empty).
    """
    root = parse_html(html)
    if root is None:
        return None
    title_el = root.find(".//title")
    title = _clean(title_el.text_content()) if title_el is not None else ""
    lang = (root.get("lang") or root.get("xml:lang") or "").split("-")[0].lower()[:16]
    canonical = ""
    for link in root.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            canonical = link.get("href").strip()
            break
    directives = f"{_meta(root, 'robots')},{_meta(root, 'cloopbot')},{robots_header.lower()}"
    noindex = "noindex" in directives or "none" in [d.strip() for d in directives.split(",")]
    nofollow = "nofollow" in directives or "none" in [d.strip() for d in directives.split(",")]
    links = [] if nofollow else _links(root)
    region = _main_region(root)
    if region is not None:
        _strip_boilerplate(region)
        sections = _sections_from_region(region)
    else:
        text = html if isinstance(html, str) else html.decode("utf-8", "replace")
        sections = _sections_via_trafilatura(text, root)
        if not sections:
            body = root.find("body")
            if body is not None:
                _strip_boilerplate(body)
                sections = _sections_from_region(body)
    if not title:
        first = next((s.heading for s in sections if s.heading), "")
        title = first
    return Extracted(
        title=title_clean(title)[:500],  # "A | A" → "A" (see crawler/titles.py)
        language=lang,
        sections=sections,
        canonical=canonical,
        noindex=noindex,
        nofollow=nofollow,
        links=links,
    )
