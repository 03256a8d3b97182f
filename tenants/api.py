"""What every view of the customer REST API (/api/v1/ on the site's host) shares: who may call it.

Here, below the apps that serve the API (conversations, crawler), so each app's views use the
same rule without importing one another.
"""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import get_public_schema_name
from rest_framework import permissions


class IsSiteStaff(permissions.BasePermission):
    """A staff user of this site's schema, on this site's host (never the public schema)."""

    message = "Sign in with a token of this site's admin user."

    def has_permission(self, request, view):
        user = request.user
        return bool(
            connection.schema_name != get_public_schema_name()
            and user
            and user.is_authenticated
            and user.is_active
            and user.is_staff
        )


# Mixed into every API view: tokens and users live in the site's schema, so a token of one
# site means nothing on another's host. (A comment, not a docstring: drf-spectacular would
# publish a docstring as every operation's description.)
class SiteAPIView:
    permission_classes = [IsSiteStaff]
