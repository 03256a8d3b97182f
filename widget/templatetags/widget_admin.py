"""The admin index's install reminder: the snippet is one click away, and a refused origin
is visible without opening the install page."""

from django import template
from django.db import connection
from django.template.loader import render_to_string

from tenants.scoping import in_public_schema
from widget.embed import embed_status

register = template.Library()


@register.simple_tag(takes_context=True)
def widget_install_alert(context):
    """Empty in the staff (public) admin; in a site's admin, the embed check in one line."""
    if in_public_schema():
        return ""
    return render_to_string(
        "admin/widget/install_alert.html",
        {"embed": embed_status(connection.tenant)},
        request=context.get("request"),
    )
