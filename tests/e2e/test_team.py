"""The customer's team in a real Chromium over loopback SMTP: an invitation, a password reset
and a sign-in with a TOTP code (computed from the device's key, as the app would)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import tenant_context

pytestmark = pytest.mark.e2e


OWNER_PW = "Owner-pw-4821"


def owner_make(site, email="owner@a.test"):
    with tenant_context(site):
        return get_user_model().objects.create_superuser(email, email, OWNER_PW)


def sign_in(page, base, username, password):
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")


def choose_password(page, link, password):
    page.goto(link)
    page.fill("#id_new_password1", password)
    page.fill("#id_new_password2", password)
    page.click("input[type=submit]")
    page.wait_for_selector("text=Your password has been set")


def link_in(msg) -> str:
    return re.search(r"http://\S+/admin/reset/\S+/", msg.get_content()).group(0)


def test_it_invites_a_teammate_who_chooses_a_password(page, live_server, site_a, smtp_server):
    owner_make(site_a)
    base = live_server.site_url(site_a)
    sign_in(page, base, "owner@a.test", OWNER_PW)
    page.goto(f"{base}/admin/auth/user/")
    page.click("[data-cloop='invite-link']")
    page.fill("#id_email", "mate@a.test")
    page.uncheck("#id_full_access")
    page.click("input[type=submit][value='Send invitation']")
    page.wait_for_selector("text=Invitation sent to mate@a.test")

    rcpt, msg = smtp_server.wait(1)[0]
    assert rcpt == ["mate@a.test"]
    assert "Owner" in msg["Subject"] or "Site A Oy" in msg["Subject"]
    link = link_in(msg)
    assert link.startswith(base)

    mate = page.context.browser.new_context()
    try:
        tab = mate.new_page()
        choose_password(tab, link, "Mate-pw-7723")
        tab.goto(link)  # the link worked once
        tab.wait_for_selector("text=The password reset link was invalid")
        sign_in(tab, base, "mate@a.test", "Mate-pw-7723")
        tab.wait_for_selector("#user-tools")
        assert "Conversations" in tab.content()
        # Read-only teammate: no "add" links, no user management.
        assert tab.goto(f"{base}/admin/auth/user/").status == 403
    finally:
        mate.close()


def test_it_locks_out_guessing_and_a_password_reset_lets_the_owner_in(
    page, live_server, site_a, smtp_server, settings
):
    owner_make(site_a)
    base = live_server.site_url(site_a)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(page, base, "owner@a.test", "guess-123")
        page.wait_for_selector(".errornote")
    # The login page links to the password reset (Django: "Forgotten your login credentials?").
    assert page.locator(".password-reset-link a").count() == 1
    sign_in(page, base, "owner@a.test", "guess-123")
    page.wait_for_selector("[data-cloop='locked-out']")
    sign_in(page, base, "owner@a.test", OWNER_PW)  # the right password: still locked
    page.wait_for_selector("[data-cloop='locked-out']")
    page.click("[data-cloop='locked-out'] a")
    page.fill("#id_email", "owner@a.test")
    page.click("input[type=submit]")
    page.wait_for_selector("text=We’ve emailed you instructions")
    rcpt, msg = smtp_server.wait(1)[0]
    assert rcpt == ["owner@a.test"]
    choose_password(page, link_in(msg), "Brand-new-pw-5150")
    sign_in(page, base, "owner@a.test", "Brand-new-pw-5150")
    page.wait_for_selector("#user-tools")


def code(device, steps_ahead=0) -> str:
    """The code the app shows, `steps_ahead` 30-second steps from now (django-otp accepts
    one step of drift, and never the same step twice)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, steps_ahead)
    return f"{totp.token():0{device.digits}d}"


def test_it_signs_in_with_a_totp_code_once_two_factor_is_on(page, live_server, site_a, settings):
    # django-otp refuses every code for a second after a wrong one (its throttle); the test
    # enters the right code right after a wrong one without waiting.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    user = owner_make(site_a)
    base = live_server.site_url(site_a)
    sign_in(page, base, "owner@a.test", OWNER_PW)
    page.click("[data-cloop='account-link']")
    page.click("text=Turn on two-factor sign-in")
    assert page.locator("[data-cloop='otp-qr'] svg").count() == 1
    secret = page.locator("[data-cloop='otp-secret']").inner_text()
    with tenant_context(site_a):
        device = TOTPDevice.objects.get(user=user, confirmed=False)
        assert secret and f"secret={secret}" in device.config_url  # what the QR code holds
    page.fill("#id_code", code(device))
    page.click("input[type=submit][value='Turn on']")
    page.wait_for_selector("[data-cloop='2fa-on']")

    page.context.clear_cookies()
    sign_in(page, base, "owner@a.test", OWNER_PW)
    page.wait_for_selector("[data-cloop='otp-login']")  # the password alone is not enough
    assert page.goto(f"{base}/admin/").url.startswith(f"{base}/admin/login/")
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", "owner@a.test")
    page.fill("#id_password", OWNER_PW)
    page.click("input[type=submit]")
    page.fill("#id_code", "000000" if code(device, 1) != "000000" else "111111")
    page.click("input[type=submit]")
    page.wait_for_selector("text=That code is not right")
    page.fill("#id_code", code(device, 1))
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
    assert page.url == f"{base}/admin/"
