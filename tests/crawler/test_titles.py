"""Page titles and citation labels as people read them (crawler/titles.py)."""

import pytest

from crawler.extract import extract_html
from crawler.titles import source_label, title_clean, title_parts_shared


@pytest.mark.parametrize(
    ("title", "site", "clean"),
    [
        ("Northwind Bikes | Northwind Bikes", "", "Northwind Bikes"),
        ("Northwind Bikes | Northwind Bikes", "Northwind Bikes (demo)", "Northwind Bikes"),
        ("Our stores | Northwind Bikes", "Northwind Bikes (demo)", "Our stores"),
        ("Our stores | Northwind Bikes", "", "Our stores | Northwind Bikes"),
        ("About Northwind Bikes – Northwind Bikes", "Northwind Bikes", "About Northwind Bikes"),
        ("Pricing - ACME - acme", "Acme Oy", "Pricing"),
        ("Well-being at work", "", "Well-being at work"),  # a hyphen in a word is no separator
        ("", "Acme", ""),
    ],
)
def test_it_cleans_repeated_and_site_name_parts_of_titles(title, site, clean):
    assert title_clean(title, site) == clean


@pytest.mark.parametrize(
    ("title", "heading", "label"),
    [
        ("Our stores | Northwind Bikes", "Helsinki", "Our stores \u203a Helsinki"),
        ("Our stores | Northwind Bikes", "Our stores", "Our stores"),  # the page's <h1>
        ("Our stores | Northwind Bikes", "", "Our stores"),
        ("", "Helsinki", "Helsinki"),
    ],
)
def test_it_labels_a_source_with_the_sections_heading(title, heading, label):
    assert source_label(title, heading, "Northwind Bikes (demo)") == label


def test_it_stores_a_repeated_title_once():
    html = "<html><head><title>Northwind Bikes | Northwind Bikes</title></head><body><main><h1>Hi</h1><p>Text here.</p></main></body></html>"
    assert extract_html(html).title == "Northwind Bikes"


def test_it_finds_the_title_part_pages_share():
    shared = title_parts_shared(
        {
            "/stores": "Our stores | Northwind Bikes",
            "/faq": "FAQ – Northwind Bikes",
            "/": "Northwind Bikes | Northwind Bikes",
        }
    )
    assert shared == {"northwind bikes"}
    assert title_clean("Our stores | Northwind Bikes", "Acme Oy", shared) == "Our stores"
    assert title_clean("Northwind Bikes | Northwind Bikes", "", shared) == "Northwind Bikes"
    label = source_label("Our stores | Northwind Bikes", "Helsinki", "", shared)
    assert label == "Our stores \u203a Helsinki"
