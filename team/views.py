"""Team pages of the admin (site's host, or the staff admin on the public schema): the
second sign-in step, the user's own account page (notifications, two-factor sign-in), the
invitation form and the password pages. Thin: the work is in `team.services`.

Preconditions: requests through `team.admin_site.CloopAdminSite`, whose connection is in the
schema of the host's users.
"""

from __future__ import annotations

import time

import django_otp
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.views import LoginView, PasswordResetConfirmView
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from team import services
from team.forms import CodeForm, InviteForm, PreferencesForm
from tenants.scoping import in_public_schema

PENDING_KEY = "cloop_otp_pending"
# The password step is good for this long; then the sign-in starts again.
PENDING_SECONDS = 300


class TwoStepLoginView(LoginView):
    """Django's admin login; a user with a confirmed authenticator is not signed in by the
    password alone: the session remembers who passed it and the code page finishes."""

    def form_valid(self, form):
        user = form.get_user()
        if not services.otp_required(user):
            return super().form_valid(form)
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "at": time.time(),
        }
        query = urlencode({"next": self.get_success_url()})
        return HttpResponseRedirect(reverse("admin:otp_login") + "?" + query)


def _pending_user(request):
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    return user, pending["backend"]


def otp_login(request, admin_site):
    """The second step: the code from the authenticator app, then the real sign-in."""
    user, backend = _pending_user(request)
    if user is None:
        request.session.pop(PENDING_KEY, None)
        messages.info(request, "Sign in again: the sign-in took too long.")
        return HttpResponseRedirect(reverse("admin:login"))
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("admin:index")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = services.otp_check(user, form.cleaned_data["code"])
        if device is not None:
            request.session.pop(PENDING_KEY, None)
            auth_login(request, user, backend=backend)
            django_otp.login(request, device)
            return HttpResponseRedirect(next_url)
        form.add_error("code", "That code is not right. Enter the code your app shows now.")
    context = {
        **admin_site.each_context(request),
        "title": "Two-factor sign-in",
        "form": form,
        "next": next_url,
        "username": user.get_username(),
    }
    return TemplateResponse(request, "team/otp_login.html", context)


def account(request, admin_site):
    """The signed-in user's own notifications and two-factor sign-in (Cloop's staff, on the
    public schema, have no site to be notified about: two-factor sign-in only)."""
    prefs = services.preferences_get(request.user)
    form = None if in_public_schema() else PreferencesForm(request.POST or None, instance=prefs)
    if form is not None and request.method == "POST" and form.is_valid():
        services.preferences_update(request.user, **form.cleaned_data)
        messages.success(request, "Your notification settings were saved.")
        return HttpResponseRedirect(reverse("admin:account"))
    context = {
        **admin_site.each_context(request),
        "title": "Your account",
        "form": form,
        "device": services.otp_device_confirmed(request.user),
    }
    return TemplateResponse(request, "team/account.html", context)


def two_factor(request, admin_site):
    """Turn the user's own two-factor sign-in on (QR code, then a code) or off (a code)."""
    device = services.otp_device_confirmed(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        try:
            if device is None:
                device = services.otp_enrol_confirm(request.user, code)
                # This session proved the code: it stays signed in as a verified one.
                django_otp.login(request, device)
                messages.success(request, "Two-factor sign-in is on.")
            else:
                services.otp_disable(request.user, code)
                messages.success(request, "Two-factor sign-in is off.")
        except services.TeamError as exc:
            form.add_error("code", str(exc))
        else:
            return HttpResponseRedirect(reverse("admin:account"))
    pending = None if device else services.otp_enrol_start(request.user)
    context = {
        **admin_site.each_context(request),
        "title": "Two-factor sign-in",
        "form": form,
        "device": device,
        "pending": pending,
        "qr_svg": services.otp_qr_svg(pending) if pending else "",
        "secret": _b32(pending) if pending else "",
    }
    return TemplateResponse(request, "team/two_factor.html", context)


def invite(request, admin_site):
    """Invite a teammate (superusers of the site only: they choose who is on the team)."""
    if not request.user.is_superuser:
        raise PermissionDenied
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.member_invite(
                form.cleaned_data["email"],
                full_access=form.cleaned_data["full_access"],
                invited_by=request.user,
                base_url=request.build_absolute_uri("/"),
            )
        except services.TeamError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(
                request, f"Invitation sent to {user.email}: they choose their own password."
            )
            return HttpResponseRedirect(reverse("admin:auth_user_changelist"))
    context = {
        **admin_site.each_context(request),
        "title": "Invite a teammate",
        "form": form,
    }
    return TemplateResponse(request, "team/invite.html", context)


class PasswordSetView(PasswordResetConfirmView):
    """Django's one-time password link (reset or invitation). Choosing a new password also
    lifts a login lockout of the account: the owner of the mailbox proved who they are."""

    def form_valid(self, form):
        from axes.utils import reset

        response = super().form_valid(form)
        reset(username=form.user.get_username())
        return response


def _b32(device) -> str:
    from base64 import b32encode

    return b32encode(device.bin_key).decode()
