"""Two-factor sign-in (django-otp TOTP), optional per user: the admin's two steps, the API's
token endpoint, sessions that never proved a code; the staff admin on the public schema."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from team import services


def code(device, steps_ahead=0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, steps_ahead)
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def with_device(in_site_a):
    user = get_user_model().objects.create_superuser("two@a.test", "two@a.test", "pw-2fa-9911")
    device = services.otp_enrol_start(user)
    services.otp_enrol_confirm(user, code(device))
    device.refresh_from_db()
    return user, device


def test_it_asks_for_the_code_before_signing_in(with_device, site_a, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    _, device = with_device
    client = Client(HTTP_HOST=site_a.host)
    step1 = client.post(
        "/admin/login/?next=/admin/", {"username": "two@a.test", "password": "pw-2fa-9911"}
    )
    assert step1.status_code == 302 and step1["Location"].startswith("/admin/login/code/")
    assert "_auth_user_id" not in client.session  # not signed in by the password alone
    assert client.get("/admin/").status_code == 302
    wrong = client.post(step1["Location"], {"code": "12345"})
    assert b"That code is not right" in wrong.content and "_auth_user_id" not in client.session
    good = code(device, 1)
    done = client.post(step1["Location"], {"code": good})
    assert done.status_code == 302 and done["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    # A code is good once: the same one again does not sign in another session.
    again = Client(HTTP_HOST=site_a.host)
    again.post("/admin/login/", {"username": "two@a.test", "password": "pw-2fa-9911"})
    replay = again.post("/admin/login/code/", {"code": good})
    assert b"That code is not right" in replay.content


def test_it_signs_in_users_without_an_authenticator_with_the_password(in_site_a, site_a):
    get_user_model().objects.create_superuser("one@a.test", "one@a.test", "pw-1fa-3344")
    client = Client(HTTP_HOST=site_a.host)
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "one@a.test", "password": "pw-1fa-3344"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_it_refuses_a_session_that_never_proved_a_code(with_device, site_a):
    user, _ = with_device
    client = Client(HTTP_HOST=site_a.host)
    client.force_login(user)  # e.g. a session from before two-factor sign-in was turned on
    assert client.get("/admin/").status_code == 302


def test_it_gives_an_api_token_only_with_the_code(with_device, site_a, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    _, device = with_device
    api = APIClient(HTTP_HOST=site_a.host)
    credentials = {"username": "two@a.test", "password": "pw-2fa-9911"}
    refused = api.post("/api/v1/auth/token/", credentials)
    assert refused.status_code == 400 and "otp_token" in refused.json()
    got = api.post("/api/v1/auth/token/", {**credentials, "otp_token": code(device, 1)})
    assert got.status_code == 200 and got.json()["token"]


def test_it_turns_two_factor_off_only_with_a_current_code(with_device, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    user, device = with_device
    with pytest.raises(services.TeamError):
        services.otp_disable(user, "000000" if code(device, 1) != "000000" else "111111")
    services.otp_disable(user, code(device, 1))
    assert not services.otp_required(user) and not TOTPDevice.objects.filter(user=user).exists()


def test_it_keeps_the_staff_admin_on_the_public_schema_working(db):
    with schema_context("public"):
        get_user_model().objects.create_superuser(
            "staff@cloop.test", "staff@cloop.test", "pw-st-5566"
        )
    client = Client(HTTP_HOST="localhost")
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "staff@cloop.test", "password": "pw-st-5566"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    page = client.get("/admin/").content.decode()
    assert "Sites" in page and 'href="/admin/account/"' in page
    assert client.get("/admin/account/").status_code == 200


def test_it_lets_only_the_sites_superusers_invite_and_not_twice(in_site_a, site_a, smtp_server):
    users = get_user_model().objects
    owner = users.create_superuser("owner@a.test", "owner@a.test", "pw-123456")
    viewer = users.create_user("viewer@a.test", "viewer@a.test", "pw-123456", is_staff=True)
    client = Client(HTTP_HOST=site_a.host)
    client.force_login(viewer)
    assert client.get("/admin/team/invite/").status_code == 403
    client.force_login(owner)
    client.post("/admin/team/invite/", {"email": "new@a.test", "full_access": "on"})
    assert smtp_server.wait(1)[0][0] == ["new@a.test"]
    new = users.get(username="new@a.test")
    assert new.is_staff and new.is_superuser and not new.has_usable_password()
    taken = client.post("/admin/team/invite/", {"email": "viewer@a.test"})
    assert b"already on the team" in taken.content
