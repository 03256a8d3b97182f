"""HTTP endpoints of the widget on Cloop's public host (Django test client, site_a)."""

import gzip
import json
import re

import pytest

from widget import demo

pytestmark = pytest.mark.django_db

HOST = {"HTTP_HOST": "localhost"}


def _no_cookies(response):
    assert not response.cookies, f"unexpected cookies: {list(response.cookies)}"
    assert "Set-Cookie" not in response.headers


def test_it_serves_the_loader_small_compressed_and_without_cookies(client):
    r = client.get("/widget.js", HTTP_ACCEPT_ENCODING="gzip", **HOST)
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/javascript")
    assert r["Content-Encoding"] == "gzip"
    assert len(r.content) <= 2048
    source = gzip.decompress(r.content).decode()
    assert "cloop_visitor_" in source and 'dataset.cloop = "launcher"' in source
    _no_cookies(r)


def test_it_gives_the_launcher_config_to_any_origin(client, site_a):
    r = client.get(f"/widget/config/{site_a.site_id}/", **HOST)
    assert r.status_code == 200
    assert r["Access-Control-Allow-Origin"] == "*"
    body = r.json()
    assert body["position"] in ("right", "left")
    assert re.fullmatch(r"#[0-9a-f]{6}", body["color"])
    _no_cookies(r)


def test_it_answers_404_for_the_config_of_an_unknown_site(client):
    r = client.get("/widget/config/no-such-site/", **HOST)
    assert r.status_code == 404


def test_it_serves_the_frame_under_a_strict_csp(client, site_a):
    r = client.get(f"/widget/frame/{site_a.site_id}/", {"o": "http://site-a.test"}, **HOST)
    assert r.status_code == 200
    csp = r["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "connect-src ws://localhost:8000 http://localhost:8000" in csp
    assert "frame-ancestors http://site-a.test http://localhost:8000" in csp
    assert "X-Frame-Options" not in r.headers
    html = r.content.decode()
    assert 'data-cloop="input"' in html and 'data-cloop="email-form"' in html
    assert "This chat is powered by AI." in html
    assert f"http://localhost:8000/privacy/{site_a.site_id}/" in html
    config = json.loads(re.search(r'id="cloop-config"[^>]*>(.*?)</script>', html, re.S)[1])
    assert config["parent_origin"] == "http://site-a.test"
    assert config["ws_url"] == f"ws://localhost:8000/ws/chat/{site_a.site_id}/"
    # The site's pages, and its host on Cloop (its custom answers' pages).
    assert config["link_origins"] == [
        "http://site-a.test",
        f"http://{site_a.site_id}.localhost:8000",
    ]
    _no_cookies(r)


def test_it_refuses_the_frame_for_a_foreign_parent_origin(client, site_a):
    r = client.get(f"/widget/frame/{site_a.site_id}/", {"o": "https://evil.example"}, **HOST)
    assert r.status_code == 400
    assert "frame-ancestors http://site-a.test" in r["Content-Security-Policy"]


@pytest.mark.parametrize(
    "origin", ["http://localhost:99999", "http://[::1", "http://site-a.test:-1", "\x00", "a" * 5000]
)
def test_it_refuses_the_frame_for_a_malformed_parent_origin(client, site_a, origin):
    r = client.get(f"/widget/frame/{site_a.site_id}/", {"o": origin}, **HOST)
    assert r.status_code == 400


def test_it_answers_404_for_the_frame_of_an_unknown_site(client):
    r = client.get("/widget/frame/no-such-site/", {"o": "http://x.test"}, **HOST)
    assert r.status_code == 404


def test_it_escapes_widget_settings_inside_the_frame(client, site_a):
    from django_tenants.utils import tenant_context

    from widget.models import WidgetSettings

    with tenant_context(site_a):
        ws = WidgetSettings.load()
        ws.bot_name = "</script><script>alert(1)</script>"
        ws.starter_questions = ["<img src=x onerror=alert(1)>"]
        ws.save()
    r = client.get(f"/widget/frame/{site_a.site_id}/", {"o": "http://site-a.test"}, **HOST)
    html = r.content.decode()
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html


@pytest.mark.parametrize("slug", sorted(demo.PAGES))
def test_it_serves_every_demo_page_with_the_snippet_and_anchors(client, slug):
    url = "/demo/" if slug == "home" else f"/demo/{slug}/"
    r = client.get(url, **HOST)
    assert r.status_code == 200
    html = r.content.decode()
    assert '<script src="http://localhost:8000/widget.js" data-site="demo" async></script>' in html
    assert re.search(r'<h2 id="[a-z0-9-]+">', html) or slug == "blog"
    _no_cookies(r)


def test_it_has_between_15_and_30_demo_pages():
    assert 15 <= len(demo.PAGES) <= 30


def test_it_answers_404_for_an_unknown_demo_page(client):
    assert client.get("/demo/nope/", **HOST).status_code == 404


def test_it_shows_the_window_in_finnish_for_a_finnish_site(client, site_a):
    from tenants.models import Site

    Site.objects.filter(pk=site_a.pk).update(language="fi")  # rolled back after the test
    r = client.get(f"/widget/frame/{site_a.site_id}/", {"o": "http://site-a.test"}, **HOST)
    html = r.content.decode()
    assert '<html lang="fi">' in html
    assert "Tämän keskustelun vastaukset tuottaa tekoäly." in html
    assert "Poista keskusteluni" in html
    assert client.get(f"/widget/config/{site_a.site_id}/", **HOST).json()["label"] == (
        "Avaa keskustelu"
    )


def test_it_keeps_the_window_under_25_kb_gzipped(client, site_a):
    total = 0
    r = client.get(f"/widget/frame/{site_a.site_id}/", {"o": "http://site-a.test"}, **HOST)
    total += len(gzip.compress(r.content))
    for asset in ("/static/widget/frame.js", "/static/widget/frame.css"):
        body = b"".join(client.get(asset, **HOST).streaming_content)
        assert body
        total += len(gzip.compress(body))
    assert total <= 25 * 1024
