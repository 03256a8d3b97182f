"""Visitors in the customer's admin: who chatted, how often, whether they objected.

Read-only: an objection or erasure goes through a data request (conversations.admin.requests),
which keeps the record. Preconditions: admin requests on the site's host (the connection is in
the site's schema).
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from conversations.models import Visitor
from tenants.scoping import SiteSchemaOnlyAdmin


@admin.register(Visitor)
class VisitorAdmin(SiteSchemaOnlyAdmin):
    list_display = (
        "id",
        "first_seen",
        "last_seen",
        "conversations_link",
        "leads_count",
        "objected",
        "objected_at",
    )
    list_filter = ("objected",)
    search_fields = ("=id",)
    readonly_fields = list_display

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_conversations=Count("conversations", distinct=True),
                n_leads=Count("leads", distinct=True),
            )
        )

    def get_deleted_objects(self, objs, request):
        """Counts instead of Django's list of every message by the start of its text (which
        would show transcripts without an access-log entry). An erasure with an audit entry
        goes through a data request; this is the plain delete."""
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        summary = []
        for v in objs:
            n_conversations, n_leads = v.conversations.count(), v.leads.count()
            summary.append(
                format_html(
                    "Visitor {} ({} conversation{}, {} e-mail{} left)",
                    v.pk,
                    n_conversations,
                    "" if n_conversations == 1 else "s",
                    n_leads,
                    "" if n_leads == 1 else "s",
                )
            )
        return summary, model_count, perms_needed, protected

    @admin.display(description="conversations", ordering="n_conversations")
    def conversations_link(self, obj):
        n = getattr(obj, "n_conversations", None)
        if n is None:
            n = obj.conversations.count()
        if not n:
            return "0"
        url = reverse("admin:conversations_conversation_changelist")
        return format_html('<a href="{}?visitor__exact={}">{}</a>', url, obj.pk, n)

    @admin.display(description="e-mails left", ordering="n_leads")
    def leads_count(self, obj):
        n = getattr(obj, "n_leads", None)
        return obj.leads.count() if n is None else n

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # objection goes through a data request, which keeps the record
