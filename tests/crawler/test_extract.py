from crawler.chunk import MAX_WORDS, chunk_sections
from crawler.extract import extract_html
from crawler.fetch import decode_html, looks_binary

SPHINX = """<html><head><title>json — JSON encoder — Python docs</title>
<link rel="canonical" href="https://docs.python.org/3/library/json.html"></head><body>
<div class="related" role="navigation"><a href="index.html">index</a></div>
<div class="sphinxsidebar" role="navigation"><h3>Table of Contents</h3><ul><li>Sidebar link</li></ul></div>
<div class="document"><div class="body" role="main">
<section id="module-json"><h1>json — JSON encoder and decoder<a class="headerlink" href="#module-json">¶</a></h1>
<p>JSON is a lightweight data interchange format.</p>
<section id="basic-usage"><h2>Basic Usage<a class="headerlink" href="#basic-usage">¶</a></h2>
<dl><dt>json.dump(obj, fp)</dt><dd><p>Serialize obj as a JSON formatted stream to fp.</p></dd></dl>
</section></section></div></div><div class="footer">© Copyright 2001 PSF.</div></body></html>"""


def test_it_keeps_section_anchors_of_documentation_pages():
    ex = extract_html(SPHINX)
    assert ex.title.startswith("json")
    assert ex.canonical == "https://docs.python.org/3/library/json.html"
    by_heading = {s.heading: s for s in ex.sections}
    assert by_heading["json — JSON encoder and decoder"].anchor == "module-json"
    assert by_heading["Basic Usage"].anchor == "basic-usage"
    assert "Serialize obj" in by_heading["Basic Usage"].text
    assert "Sidebar" not in ex.text and "Copyright" not in ex.text and "index" not in ex.text


def test_it_finds_the_main_text_of_pages_without_landmarks():
    html = (
        "<html><head><title>Story</title></head><body><div class='menu'><a href='/'>Home</a>"
        "<a href='/about'>About us</a></div><div><h2 id='s'>Opening hours</h2>"
        + "<p>The shop is open from nine to five on weekdays, and from ten to two on Saturdays. "
        "On public holidays the shop is closed, except for the Christmas market weekend.</p>"
        * 3
        + "</div><div class='cookie-consent'>Accept all cookies</div></body></html>"
    )
    ex = extract_html(html)
    assert "open from nine to five" in ex.text
    assert "cookies" not in ex.text
    assert any(s.anchor == "s" for s in ex.sections)


def test_it_survives_malformed_html():
    ex = extract_html("<html><body><main><h1>Broken<p>unclosed <b>tags <div><p>still text</main>")
    assert "still text" in ex.text
    assert extract_html("") is None
    assert extract_html("\x00\x01\x02") is None or extract_html("\x00\x01\x02").sections == []


def test_it_reads_noindex_from_meta_and_header():
    assert extract_html(
        "<html><head><meta name='robots' content='NOINDEX'></head><body>x</body></html>"
    ).noindex
    assert extract_html(
        "<html><body><main><p>x</p></main></body></html>", robots_header="noindex, nofollow"
    ).noindex
    ex = extract_html(
        "<html><head><meta name='robots' content='none'></head><body><a href='/a'>a</a></body></html>"
    )
    assert ex.noindex and ex.nofollow and ex.links == []


def test_it_decodes_wrong_and_missing_charsets():
    latin = "<html><head><meta charset='iso-8859-1'></head><body>Päivää</body></html>".encode(
        "latin-1"
    )
    assert "Päivää" in decode_html(latin, "text/html")
    assert "Päivää" in decode_html("<p>Päivää</p>".encode("cp1252"), "text/html; charset=utf-8")
    assert "Päivää" in decode_html("<p>Päivää</p>".encode(), "text/html; charset=no-such-charset")
    assert looks_binary(b"%PDF-1.7 ...") and looks_binary(b"abc\x00def")
    assert not looks_binary(b"<html>")


def test_it_chunks_long_sections_keeping_heading_and_anchor():
    from crawler.extract import Section

    long = " ".join(f"Sentence number {i} talks about bread." for i in range(400))
    chunks = chunk_sections([Section("Bread", "bread", 2, long), Section("Tiny", "tiny", 2, "ok")])
    assert len(chunks) > 3
    assert all(c.heading == "Bread" and c.anchor == "bread" for c in chunks[:-1])
    assert all(len(c.text.split()) <= MAX_WORDS for c in chunks)
    assert chunks[-1].anchor == "tiny"
