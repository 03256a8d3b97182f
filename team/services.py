"""The customer's team: notification preferences, invitations and two-factor sign-in.

Preconditions (every function): sync code inside the schema whose users are meant — a site's
schema for a customer's team (requests on the site's host are already there), the public
schema for Cloop's staff. Nothing here stores an IP address.
"""

from __future__ import annotations

import smtplib

import django_otp
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice

from team.models import Preferences

# The apps whose data a read-only teammate may see (view permissions only).
READ_ONLY_APPS = ("conversations", "crawler", "widget")
DEVICE_NAME = "Authenticator app"


class TeamError(ValueError):
    """Refused; the message is shown to the user who asked."""


# --- preferences --------------------------------------------------------------------------


def preferences_get(user) -> Preferences:
    """The user's preferences (a row with everything off is created on first use)."""
    prefs, _ = Preferences.objects.get_or_create(user=user)
    return prefs


def preferences_update(user, *, notify_leads: bool, weekly_digest: bool) -> Preferences:
    prefs = preferences_get(user)
    prefs.notify_leads = bool(notify_leads)
    prefs.weekly_digest = bool(weekly_digest)
    prefs.save(update_fields=["notify_leads", "weekly_digest"])
    return prefs


def users_opted_in(preference: str):
    """Active staff users with an e-mail address who turned `preference` on."""
    if preference not in ("notify_leads", "weekly_digest"):
        raise ValueError(preference)
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, **{f"cloop_preferences__{preference}": True})
        .exclude(email="")
        .order_by("pk")
    )


# --- invitations and password links -------------------------------------------------------


def password_link(user, base_url: str) -> str:
    """A one-time link to choose a password: Django's token generator, so it stops working
    once the password is set (the token hashes the password) or after PASSWORD_RESET_TIMEOUT."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    return base_url.rstrip("/") + path


def member_invite(email: str, *, full_access: bool, invited_by, base_url: str):
    """Add a teammate to this schema's users and e-mail them a link to choose a password.

    The new user is staff with an unusable password (nobody can sign in as them before they
    choose one). `full_access` makes them a superuser of this site (they can invite others and
    change settings); otherwise they may only view the site's conversations, leads, requests,
    crawls and settings. Re-inviting someone who has not chosen a password yet sends a fresh
    link; an existing member is refused. The mail goes after the commit.
    """
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise TeamError("That does not look like an e-mail address.") from None
    users = get_user_model().objects
    with transaction.atomic():
        user = (
            users.filter(username__iexact=email).first()
            or users.filter(email__iexact=email).first()
        )
        if user is not None and user.has_usable_password():
            raise TeamError(f"{email} is already on the team.")
        if user is None:
            user = users.create_user(email, email, None)  # None: an unusable password
        user.is_staff = True
        user.is_active = True
        user.is_superuser = bool(full_access)
        user.save()
        if not full_access:
            user.user_permissions.set(
                Permission.objects.filter(
                    content_type__app_label__in=READ_ONLY_APPS, codename__startswith="view_"
                )
            )
        link = password_link(user, base_url)
        context = {
            "site": getattr(connection, "tenant", None),
            "inviter": invited_by.get_full_name() or invited_by.get_username(),
            "link": link,
            "full_access": full_access,
            "login_url": base_url.rstrip("/") + reverse("admin:login"),
            "days": settings.PASSWORD_RESET_TIMEOUT // 86400,
        }
        body = render_to_string("team/invitation.txt", context)
        name = getattr(context["site"], "name", "") or "Cloop"
        message = EmailMessage(
            f"You are invited to {name}'s Cloop admin", body, settings.DEFAULT_FROM_EMAIL, [email]
        )
        try:
            message.send(fail_silently=False)
        except (OSError, smtplib.SMTPException) as exc:
            raise TeamError(f"The invitation could not be sent ({type(exc).__name__}).") from None
    return user


# --- two-factor sign-in (TOTP, optional per user) ------------------------------------------


def otp_required(user) -> bool:
    """Whether signing in as `user` needs a code: they have a confirmed authenticator."""
    return bool(user and user.is_authenticated and django_otp.user_has_device(user, confirmed=True))


def otp_device_confirmed(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def otp_enrol_start(user) -> TOTPDevice:
    """The user's unconfirmed authenticator (a new secret if there is none yet)."""
    if otp_device_confirmed(user):
        raise TeamError("Two-factor sign-in is already on.")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def otp_enrol_confirm(user, token: str) -> TOTPDevice:
    """Turn two-factor sign-in on once the user proved their app shows the right code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        raise TeamError("Start again: no authenticator is waiting to be confirmed.")
    if not device.verify_token(_digits(token)):
        raise TeamError("That code is not right. Enter the code your app shows now.")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device


def otp_disable(user, token: str) -> None:
    """Turn two-factor sign-in off; needs a current code, so a borrowed session cannot."""
    device = otp_device_confirmed(user)
    if device is None:
        raise TeamError("Two-factor sign-in is not on.")
    if not device.verify_token(_digits(token)):
        raise TeamError("That code is not right. Enter the code your app shows now.")
    TOTPDevice.objects.filter(user=user).delete()


def otp_check(user, token: str) -> TOTPDevice | None:
    """The confirmed device that accepts `token` now, or None (django-otp throttles each
    device after failures and refuses a code that was already used)."""
    device = otp_device_confirmed(user)
    if device is not None and device.verify_token(_digits(token)):
        return device
    return None


def otp_qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URI as an inline SVG QR code (segno: pure Python)."""
    import segno

    return segno.make(device.config_url, error="m").svg_inline(scale=4, border=2)


def _digits(token) -> str:
    return "".join(ch for ch in str(token or "") if ch.isdigit())[:8]
