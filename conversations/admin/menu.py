"""The customer's admin as a product: no developer apps in the menu unless in use, and a
login form that asks for what customers really type (their e-mail address).

Customers sign in with the e-mail address `create_site --admin-email` made their username, so
in a site's admin the username field reads "E-mail"; the staff admin (public schema) keeps
"Username". Groups and REST API tokens stay reachable by URL (the index links them under
"For developers"), but are listed in the menu only once the site has any.
Preconditions: admin requests, so the connection is in the request's schema.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import TokenProxy

from tenants.scoping import in_public_schema

DEVELOPER_MODELS = (Group, TokenProxy)


def developer_app_listed(model) -> bool:
    """Whether a developer model (groups, API tokens) shows in this admin's menu: always in
    the staff admin; in a site's admin only when the site has rows of it."""
    if in_public_schema():
        return True
    return model._default_manager.exists()


def app_list_without_unused_developer_apps(app_list: list[dict]) -> list[dict]:
    """The menu (index and sidebar) without developer models the site does not use. Only the
    menu: their app index and pages still answer, as the index's "For developers" links and
    the pages' breadcrumbs lead there."""
    kept = []
    for app in app_list:
        models = [
            m
            for m in app["models"]
            if m.get("model") not in DEVELOPER_MODELS or developer_app_listed(m["model"])
        ]
        if models:
            kept.append({**app, "models": models})
    return kept


class CustomerLoginForm(AdminAuthenticationForm):
    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        if not in_public_schema():
            self.fields["username"].label = "E-mail"
            self.fields["username"].widget.attrs.update(
                {"autocomplete": "email", "inputmode": "email"}
            )


def admin_menu_install(site: admin.AdminSite = admin.site) -> None:
    """The menu rule for groups and tokens; the e-mail login form."""
    menu = site.get_app_list

    def get_app_list(request, app_label=None):
        # app_label given: one app's own index page, which stays reachable by URL.
        apps = menu(request, app_label)
        return apps if app_label else app_list_without_unused_developer_apps(apps)

    site.get_app_list = get_app_list
    site.login_form = CustomerLoginForm
