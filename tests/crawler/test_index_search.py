from crawler.index import index_html
from crawler.models import Chunk, IndexStats, Page, Term
from crawler.search import Passage, search

SHIPPING = """<!doctype html><html lang="en"><head><title>Shipping | Shop</title></head>
<body><nav><a href="/">Home</a> <a href="/returns">Returns policy and refunds</a></nav>
<div class="cookie-banner">We use cookies. Accept cookies to continue.</div>
<main>
<h1>Shipping</h1><p>We ship every weekday from our warehouse in Tampere.</p>
<section id="international"><h2>International delivery</h2>
<p>Parcels to Sweden and Norway arrive in three to five working days. Customs duties are
paid by the recipient.</p></section>
<h2 id="costs">Delivery costs</h2><p>Delivery is free for orders above 50 euros.</p>
</main><footer>Copyright Shop Oy. Returns policy.</footer></body></html>"""

RETURNS = """<html><head><title>Returns</title></head><body><main>
<h1 id="returns">Returns</h1><p>You can return any product within 30 days for a full refund.
Returns are free of charge.</p></main></body></html>"""


def test_it_indexes_main_content_without_boilerplate(in_site_a):
    page = index_html("https://shop.test/shipping?utm_source=x#top", SHIPPING)
    assert page is not None
    assert page.url == "https://shop.test/shipping"
    assert page.title == "Shipping | Shop"
    text = " ".join(Chunk.objects.filter(page=page).values_list("text", flat=True))
    assert "Tampere" in text and "Sweden" in text
    assert "cookies" not in text and "Copyright" not in text and "Home" not in text
    anchors = set(Chunk.objects.filter(page=page).values_list("anchor", flat=True))
    assert {"international", "costs"} <= anchors


def test_it_returns_the_section_that_answers_with_its_anchor(in_site_a):
    index_html("https://shop.test/shipping", SHIPPING)
    index_html("https://shop.test/returns", RETURNS)
    results = search("how long does delivery to Norway take?", k=3)
    assert results and isinstance(results[0], Passage)
    assert results[0].url == "https://shop.test/shipping#international"
    assert results[0].page_url == "https://shop.test/shipping"
    assert results[0].heading == "International delivery"
    assert results[0].score > 0
    top = search("refund", k=1)
    assert top[0].page_url == "https://shop.test/returns"


def test_it_finds_nothing_for_unknown_or_empty_queries(in_site_a):
    index_html("https://shop.test/returns", RETURNS)
    assert search("xylophone quantum") == []
    assert search("   ") == []
    assert search("the and of") == []


def test_it_skips_noindex_pages_and_removes_earlier_versions(in_site_a):
    assert index_html("https://shop.test/returns", RETURNS) is not None
    assert (
        index_html("https://shop.test/returns", RETURNS, headers={"X-Robots-Tag": "noindex"})
        is None
    )
    assert not Page.objects.filter(url="https://shop.test/returns").exists()
    meta = RETURNS.replace("<head>", '<head><meta name="robots" content="noindex,follow">')
    assert index_html("https://shop.test/returns", meta) is None
    assert search("refund") == []
    assert IndexStats.objects.get(pk=1).chunks == 0
    assert not Term.objects.filter(df__gt=0).exists()


def test_it_writes_nothing_for_unchanged_content(in_site_a):
    first = index_html("https://shop.test/returns", RETURNS)
    chunk_ids = list(Chunk.objects.values_list("id", flat=True))
    again = index_html("https://shop.test/returns", RETURNS)
    assert again.pk == first.pk
    assert list(Chunk.objects.values_list("id", flat=True)) == chunk_ids
    df = Term.objects.get(lexeme="refund").df
    changed = index_html("https://shop.test/returns", RETURNS.replace("30 days", "60 days"))
    assert changed.pk == first.pk
    assert list(Chunk.objects.values_list("id", flat=True)) != chunk_ids
    assert Term.objects.get(lexeme="refund").df == df


def test_it_ranks_the_rare_term_above_repetition_of_a_common_one(in_site_a):
    filler = "<p>" + " ".join(["Our product catalogue lists every product we sell."] * 3) + "</p>"
    for i in range(12):
        index_html(
            f"https://shop.test/p{i}",
            f"<html><body><main><h1>Product {i}</h1>{filler}</main></body></html>",
        )
    index_html(
        "https://shop.test/warranty",
        "<html><body><main><h1>Warranty</h1><p>Every product has a two year warranty.</p></main></body></html>",
    )
    results = search("product warranty", k=3)
    assert results[0].page_url == "https://shop.test/warranty"


def test_it_uses_the_sites_language_for_stemming(db, site_b):
    from django_tenants.utils import tenant_context

    from tenants.models import Site

    finnish = (
        "<html lang='fi'><head><title>Toimitus</title></head><body><main>"
        "<h2 id='ruotsi'>Toimitukset Ruotsiin</h2>"
        "<p>Toimitamme paketit Ruotsiin kolmessa päivässä.</p></main></body></html>"
    )
    Site.objects.filter(pk=site_b.pk).update(language="fi")
    site_b.language = "fi"
    try:
        with tenant_context(site_b):
            page = index_html("https://site-b.test/toimitus", finnish)
            assert page.language == "fi"
            hits = search("paketti ruotsi")
            assert hits and hits[0].url == "https://site-b.test/toimitus#ruotsi"
    finally:
        Site.objects.filter(pk=site_b.pk).update(language="en")
        site_b.language = "en"


SHOPS = """<html><head><title>Our shops</title></head><body><main><h1>Our shops</h1>
<h2 id="north">North shop</h2><p>The North shop is open Monday to Friday 10–18.</p>
<h2 id="south">South shop</h2><p>The South shop is open Monday to Friday 9–17.</p>
<h2 id="east">East shop</h2><p>The East shop is open Monday to Saturday 11–19.</p>
</main></body></html>"""

NEWS = """<html><head><title>News</title></head><body><main><h1>News</h1>
<p>A new shop will open next spring.</p></main></body></html>"""


def test_it_gives_all_sections_of_the_page_that_is_clearly_the_one(in_site_a):
    index_html("https://shop.test/shops", SHOPS)
    index_html("https://shop.test/news", NEWS)
    anchors = [p.url.rsplit("#", 1)[-1] for p in search("shop opening hours Monday", k=5)]
    assert {"north", "south", "east"} <= set(anchors)


def test_it_keeps_two_passages_per_page_when_no_page_stands_out(in_site_a):
    index_html("https://shop.test/shops", SHOPS)
    index_html("https://shop.test/shops-copy", SHOPS.replace("Our shops", "Shops again"))
    pages = [p.page_url for p in search("shop open Monday", k=5)]
    assert max(pages.count(u) for u in set(pages)) <= 2
