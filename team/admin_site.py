"""Cloop's admin site: Django's, with a two-step sign-in (password, then the authenticator
code for users who turned two-factor sign-in on) and the team pages. The same class serves a
site's admin (its own users) and the staff admin (public schema)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from team import services, views


class CloopAdminSite(admin.AdminSite):
    def has_permission(self, request):
        # Sessions are only created after the code step, but a session of a user who turned
        # two-factor sign-in on elsewhere must prove a code too.
        user = request.user
        if not super().has_permission(request):
            return False
        return user.is_verified() or not services.otp_required(user)

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request, extra_context=None):
        # Django's AdminSite.login with the two-step view (the view class is not a hook).
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        context = {
            **self.each_context(request),
            "title": "Log in",
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
        }
        if "next" not in request.GET and "next" not in request.POST:
            context["next"] = reverse("admin:index", current_app=self.name)
        context.update(extra_context or {})
        request.current_app = self.name
        return views.TwoStepLoginView.as_view(
            extra_context=context,
            authentication_form=self.login_form or AdminAuthenticationForm,
            template_name=self.login_template or "admin/login.html",
        )(request)

    def get_urls(self):
        def wrap(view, *, login=True):
            def inner(request, *args, **kwargs):
                return view(request, self, *args, **kwargs)

            inner = csrf_protect(never_cache(inner))
            return self.admin_view(inner) if login else login_not_required(inner)

        return [
            path("login/code/", wrap(views.otp_login, login=False), name="otp_login"),
            path("account/", wrap(views.account), name="account"),
            path("account/two-factor/", wrap(views.two_factor), name="two_factor"),
            path("team/invite/", wrap(views.invite), name="team_invite"),
        ] + super().get_urls()
