"""The access log in the customer's admin: read-only, undeletable by hand (the nightly purge
removes entries after a year). Precondition: admin requests on the site's host."""

from __future__ import annotations

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from conversations.models import AccessLog
from tenants.scoping import SiteRecordAdmin

_ADMIN_OF = {
    "conversation": "admin:conversations_conversation_change",
    "lead": "admin:conversations_lead_change",
    "datarequest": "admin:conversations_datarequest_change",
}


class DateFilter(admin.DateFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "date"


@admin.register(AccessLog)
class AccessLogAdmin(SiteRecordAdmin):
    """The log is the record of who saw what, so it is read-only."""

    list_display = ("when", "who", "channel", "action", "object_link", "rows")
    list_filter = ("action", "channel", ("at", DateFilter))
    search_fields = ("username", "=object_id")
    date_hierarchy = "at"
    list_per_page = 100
    readonly_fields = (
        "at",
        "username",
        "user_id",
        "channel",
        "action",
        "object_type",
        "object_id",
        "rows",
        "subject_hash",
    )
    fields = readonly_fields

    @admin.display(description="when", ordering="at")
    def when(self, obj):
        return obj.at

    @admin.display(description="who", ordering="username")
    def who(self, obj):
        return obj.username or "—"

    @admin.display(description="object", ordering="object_id")
    def object_link(self, obj):
        label = f"{obj.object_type} {obj.object_id}".strip() or "—"
        if obj.subject_hash and not obj.object_id:
            return f"subject (hash {obj.subject_hash[:12]}…)"
        name = _ADMIN_OF.get(obj.object_type)
        if name and obj.object_id.isdigit():
            try:
                return format_html(
                    '<a href="{}">{}</a>', reverse(name, args=[obj.object_id]), label
                )
            except NoReverseMatch:
                pass
        return label
