import pytest

from crawler.urls import BadURL, dedupe_key, normalise_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "HTTP://Example.COM:80/a/../b/?utm_source=x&b=2&a=1#frag",
            "http://example.com/b/?a=1&b=2",
        ),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://example.com/a;jsessionid=ABC123?PHPSESSID=1&q=2", "https://example.com/a?q=2"),
        ("https://example.com//a//b", "https://example.com/a/b"),
        ("https://bücher.example/ä", "https://xn--bcher-kva.example/%C3%A4"),
        ("https://example.com/?fbclid=1&gclid=2", "https://example.com/"),
    ],
)
def test_it_normalises_urls(raw, expected):
    assert normalise_url(raw) == expected


def test_it_resolves_relative_links():
    assert normalise_url("../c?x=1#y", "https://example.com/a/b/") == "https://example.com/a/c?x=1"


@pytest.mark.parametrize(
    "bad",
    ["mailto:a@b.c", "javascript:alert(1)", "ftp://example.com/", "http://", "http://[::1", ""],
)
def test_it_refuses_urls_it_cannot_crawl(bad):
    with pytest.raises(BadURL):
        normalise_url(bad)


def test_it_treats_trailing_slash_and_index_pages_as_one_page():
    assert dedupe_key("https://e.com/docs/") == dedupe_key("https://e.com/docs")
    assert dedupe_key("https://e.com/docs/index.html") == dedupe_key("https://e.com/docs")
    assert dedupe_key("https://e.com/docs") != dedupe_key("https://e.com/doc")
