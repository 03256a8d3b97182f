"""The customer's install page in Chromium: after the loader ran on a foreign test origin, the
embed check names that page; a load from an origin that is not allowed shows no launcher, says
why on the console, and the install page warns about it. Saves docs/install-page.png when
$CLOOP_SCREENSHOTS_DIR is set."""

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from tests.e2e.conftest import screenshot_path

pytestmark = pytest.mark.e2e

PASSWORD = "install-page-pw-1"  # noqa: S105 - a test user of a test site


def _host_page(cloop: str, site_id: str, title: str) -> str:
    return (
        f'<!doctype html><html lang="en"><title>{title}</title><h1>{title}</h1>'
        f'<script src="{cloop}/widget.js" data-site="{site_id}" async></script>'
    )


def test_it_shows_the_embed_check_and_the_refused_origin_on_the_install_page(
    page, browser_context, demo_site, live_server, foreign_host, tmp_path
):
    from tenants.models import Site

    cloop = f"http://localhost:{live_server.port}"
    # The same host page server under two origins: 127.0.0.1 is allowed, localhost is not.
    allowed = foreign_host.origin
    refused = allowed.replace("127.0.0.1", "localhost")
    Site.objects.filter(pk=demo_site.pk).update(allowed_origins=[cloop, allowed])
    foreign_host.pages["/pricing"] = _host_page(cloop, demo_site.site_id, "Pricing")
    foreign_host.pages["/elsewhere"] = _host_page(cloop, demo_site.site_id, "Elsewhere")
    with tenant_context(demo_site):
        get_user_model().objects.create_superuser("owner@a.test", "owner@a.test", PASSWORD)

    page.goto(allowed + "/pricing?utm_source=newsletter&email=anna%40example.fi")
    page.wait_for_selector('[data-cloop="launcher"]')

    with page.expect_console_message(lambda m: m.text.startswith("Cloop:")) as message:
        page.goto(refused + "/elsewhere")
    assert f"{refused} is not an allowed origin of site {demo_site.site_id}" in message.value.text
    assert page.locator('[data-cloop="launcher"]').count() == 0  # no broken launcher

    admin = f"http://{demo_site.site_id}.localhost:{live_server.port}/admin/"
    page.goto(admin)
    page.fill("#id_username", "owner@a.test")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.get_by_role("link", name="Install", exact=True).click()  # the index's app list
    seen = page.locator('[data-cloop="embed-seen"]')
    assert seen.inner_text().startswith(f"✓ Widget last loaded on {allowed}/pricing just now")
    assert "utm_source" not in page.content() and "anna" not in page.content()
    warning = page.locator('[data-cloop="embed-refused"]').inner_text()
    assert f"Loaded from {refused}" in warning and "which is not in your allowed origins" in warning
    snippet = f'<script src="{cloop}/widget.js" data-site="{demo_site.site_id}" async></script>'
    assert page.locator('[data-cloop="snippet"]').inner_text() == snippet

    browser_context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click('[data-cloop="copy-snippet"]')
    page.wait_for_function(
        "document.querySelector('[data-cloop=copy-status]').textContent.startsWith('Copied')"
    )
    assert page.evaluate("navigator.clipboard.readText()") == snippet
    page.screenshot(path=str(screenshot_path(tmp_path, "install-page.png")), full_page=True)
