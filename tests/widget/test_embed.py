"""The embed check: the loader's config request records where the widget runs (origin and
path only), refuses origins the site does not allow, and the install page says so."""

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.conftest import SESSION_SITE_IDS
from widget.embed import EmbedPage, embed_record, embed_status
from widget.models import EmbedCheck

pytestmark = pytest.mark.django_db

HOST = {"HTTP_HOST": "localhost"}


@pytest.fixture(autouse=True)
def _fresh_gate():
    """The once-a-minute gate lives in the (shared, real) cache: start each test without it."""
    keys = [f"cloop:embed:{s}:{k}" for s in SESSION_SITE_IDS for k in ("seen", "refused")]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


def _row(site):
    with tenant_context(site):
        return EmbedCheck.objects.filter(pk=1).first()


def test_it_records_the_page_origin_and_path_without_the_query(client, site_a):
    r = client.get(
        f"/widget/config/{site_a.site_id}/",
        {"o": "http://evil.example", "p": "/pricing?email=anna@example.fi#top"},
        HTTP_ORIGIN="http://site-a.test",  # the browser's header wins over the parameter
        **HOST,
    )
    assert r.status_code == 200 and r.json()["position"] in ("left", "right")
    assert r["Vary"] == "Origin"
    row = _row(site_a)
    assert (row.seen_origin, row.seen_path) == ("http://site-a.test", "/pricing")
    assert row.refused_at is None
    with tenant_context(site_a):
        stored = " ".join(str(v) for v in EmbedCheck.objects.values().first().values())
    assert "anna" not in stored and "?" not in stored and "#" not in stored


def test_it_writes_at_most_once_a_minute_per_site(client, site_a):
    for path in ("/first", "/second"):
        client.get(
            f"/widget/config/{site_a.site_id}/", {"o": "http://site-a.test", "p": path}, **HOST
        )
    assert _row(site_a).seen_path == "/first"


def test_it_refuses_an_origin_that_is_not_allowed_and_says_why(client, site_a):
    r = client.get(
        f"/widget/config/{site_a.site_id}/",
        {"o": "https://x.example", "p": "/shop"},
        HTTP_ORIGIN="https://x.example",
        **HOST,
    )
    assert r.status_code == 403
    assert r["Access-Control-Allow-Origin"] == "*" and r["Cache-Control"] == "no-store"
    body = r.json()
    assert body["error"] == "origin_not_allowed" and body["origin"] == "https://x.example"
    assert "https://x.example is not an allowed origin of site site-a" in body["message"]
    row = _row(site_a)
    assert (row.refused_origin, row.refused_path, row.seen_at) == (
        "https://x.example",
        "/shop",
        None,
    )


def test_it_still_serves_loaders_that_do_not_name_their_page(client, site_a):
    r = client.get(f"/widget/config/{site_a.site_id}/", **HOST)
    assert r.status_code == 200
    assert _row(site_a) is None


def test_it_drops_the_refused_warning_once_the_origin_is_allowed(site_a):
    now = timezone.now()
    embed_record(site_a, EmbedPage("https://x.example", "/a", True), allowed=False, now=now)
    status = embed_status(site_a, now=now + datetime.timedelta(minutes=3))
    assert status["refused"]["url"] == "https://x.example/a"
    assert status["refused"]["ago"] == "3 minutes ago"
    site_a.allowed_origins = [*site_a.allowed_origins, "https://x.example"]
    try:
        assert embed_status(site_a)["refused"] is None
    finally:
        site_a.refresh_from_db()


def test_it_shows_the_install_page_with_snippet_origins_and_embed_check(owner_a, site_a):
    three_ago = timezone.now() - datetime.timedelta(minutes=3, seconds=5)
    page = EmbedPage("http://site-a.test", "/pricing", True)
    embed_record(site_a, page, allowed=True, now=three_ago)
    embed_record(site_a, EmbedPage("https://x.example", "/", True), allowed=False, now=three_ago)
    index = owner_a.get("/admin/").content.decode()
    assert 'href="/admin/widget/embedcheck/"' in index
    assert "loaded from https://x.example (3 minutes ago), which is not in your allowed" in index
    r = owner_a.get("/admin/widget/embedcheck/")
    assert r.status_code == 200
    html = r.content.decode()
    assert (
        "&lt;script src=&quot;http://localhost:8000/widget.js&quot; "
        "data-site=&quot;site-a&quot; async&gt;&lt;/script&gt;"
    ) in html
    assert "<code>http://site-a.test</code>" in html
    assert "Widget last loaded on" in html and "http://site-a.test/pricing" in html
    assert "3 minutes ago" in html
    assert "Loaded from https://x.example" in html and "not in your allowed origins" in html
    assert 'data-fact="contact_email" data-source="settings"' in html
