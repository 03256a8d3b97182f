"""Misspelt question words corrected against the site's own vocabulary (crawler.spelling)."""

from crawler.index import index_html
from crawler.search import search
from crawler.spelling import query_spell_correct

SPECS = """<html><head><title>Rover 5 scooter</title></head><body><main>
<h1>Rover 5</h1><p>The Rover 5 folding scooter costs 690 euros.</p>
<h2 id="specs">Specifications</h2><p>Weight: 11 kg. Maximum rider weight 100 kg. Warranty
two years. Contact our service team by e-mail at the address below.</p>
<h2 id="later">Later models</h2><p>Price details of later models follow in spring.</p>
</main></body></html>"""


def test_it_corrects_a_typo_to_the_sites_own_word(in_site_a):
    index_html("https://shop.test/rover", SPECS)
    assert query_spell_correct("max rider wieght?") == "max rider weight?"
    assert query_spell_correct("Is there a waranty?") == "Is there a warranti?"
    assert query_spell_correct("your e-mail adress") == "your e-mail address"
    # Corrected, the question finds the section it asks about.
    assert search(query_spell_correct("rover wieght"), k=1)[0].url.endswith("#specs")


def test_it_never_turns_a_real_word_into_another_word(in_site_a):
    index_html("https://shop.test/rover", SPECS)
    # "laser" is one edit from the site's "later", "prince" from its "price": other questions.
    assert query_spell_correct("Do you treat it with a laser?") == "Do you treat it with a laser?"
    assert query_spell_correct("Who is the prince?") == "Who is the prince?"
    # But a real word becomes another form of itself that the site uses.
    assert query_spell_correct("What does it weigh?") == "What does it weight?"


def test_it_leaves_short_words_and_known_words_alone(in_site_a):
    index_html("https://shop.test/rover", SPECS)
    assert query_spell_correct("the kg of it") == "the kg of it"
    assert query_spell_correct("Rover weight") == "Rover weight"
    assert query_spell_correct("") == ""


def test_it_corrects_only_long_words_in_a_language_without_a_word_list(in_site_a):
    index_html("https://shop.test/rover", SPECS)
    # Finnish has no word list: a long word one edit away is taken for a typo, a short one
    # never ("later" / "laser" would be a real word's chance).
    assert query_spell_correct("maximun", "fi") == "maximum"
    assert query_spell_correct("laser", "fi") == "laser"
