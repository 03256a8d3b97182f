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
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from tenants.scoping import in_public_schema

DEVELOPER_MODELS = (Group, TokenProxy)


def developer_app_listed(model) -> bool:
    """Whether a developer model (groups, API tokens) shows in this admin's menu: always in
    the staff admin; in a site's admin only when the site has rows of it."""
    if in_public_schema():
        return True
    return model._default_manager.exists()


class DeveloperMenuMixin:
    def has_module_permission(self, request):
        return super().has_module_permission(request) and developer_app_listed(self.model)


class CustomerLoginForm(AdminAuthenticationForm):
    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        if not in_public_schema():
            self.fields["username"].label = "E-mail"
            self.fields["username"].widget.attrs.update(
                {"autocomplete": "email", "inputmode": "email"}
            )


def admin_menu_install(site: admin.AdminSite = admin.site) -> None:
    """Re-register groups and tokens with the menu rule; use the e-mail login form."""
    for model, base in ((Group, GroupAdmin), (TokenProxy, TokenAdmin)):
        if site.is_registered(model):
            site.unregister(model)
        site.register(model, type(base.__name__, (DeveloperMenuMixin, base), {}))
    site.login_form = CustomerLoginForm
