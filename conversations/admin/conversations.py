"""Transcripts and leads in the customer's admin (site schema).

Every action here is a thin shell over `conversations.leads.exports`,
`conversations.privacy.privacy` and `conversations.privacy.requests`. Admin requests arrive on the site's host, so the tenant middleware
has already put the connection in the site's schema. In the public schema (Cloop staff) these
models do not exist and are hidden.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import connection
from django.db.models import Count, Exists, OuterRef
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from conversations.admin import views
from conversations.chat.feedback import conversations_with_feedback
from conversations.leads import exports
from conversations.models import (
    Conversation,
    Lead,
    Phase,
)
from conversations.privacy.access_log import Action, Actor, Channel, access_record
from tenants.scoping import SiteSchemaOnlyAdmin


def _when(iso) -> str:
    """An ISO time from phase_history as the admin shows times ("2026-11-29 01:35")."""
    from django.utils.dateparse import parse_datetime

    at = parse_datetime(iso) if isinstance(iso, str) else None
    if at is None:
        return str(iso or "")
    if timezone.is_aware(at):
        at = timezone.localtime(at)
    return at.strftime("%Y-%m-%d %H:%M")


# --- conversations ----------------------------------------------------------------------------


class HasLeadFilter(admin.SimpleListFilter):
    title = "lead (e-mail given)"
    parameter_name = "lead"

    def lookups(self, request, model_admin):
        return [("yes", "With e-mail"), ("no", "Without e-mail")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(has_email=True)
        if self.value() == "no":
            return queryset.filter(has_email=False)
        return queryset


class FeedbackFilter(admin.SimpleListFilter):
    title = "visitor feedback"
    parameter_name = "feedback"

    def lookups(self, request, model_admin):
        return [("down", "Has thumbs-down"), ("up", "Has thumbs-up")]

    def queryset(self, request, queryset):
        if self.value() in ("down", "up"):
            return conversations_with_feedback(queryset, self.value())
        return queryset


@admin.register(Conversation)
class ConversationAdmin(SiteSchemaOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "start_page",
        "phase",
        "message_count",
        "has_email",
        "updated_at",
    )
    list_filter = (
        "phase",
        ("created_at", admin.DateFieldListFilter),
        HasLeadFilter,
        FeedbackFilter,
    )
    search_fields = ("messages__text",)
    date_hierarchy = "created_at"
    list_per_page = 50
    fields = (
        "visitor",
        "start_page_url",
        "phase",
        "created_at",
        "updated_at",
        "phase_history_table",
        "leads_given",
        "transcript",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_messages=Count("messages", distinct=True),
                has_email=Exists(Lead.objects.filter(conversation=OuterRef("pk"))),
            )
        )

    def has_add_permission(self, request):
        return False  # conversations come from the widget

    def has_change_permission(self, request, obj=None):
        return False  # transcripts are records: viewable, deletable, not editable

    def get_deleted_objects(self, objs, request):
        """The delete confirmation lists every related row by its str(), which for messages is
        the start of their text: a transcript shown without being logged. Count instead."""
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        summary = [
            format_html(
                "Conversation {} ({} message{}, started {})",
                c.pk,
                n,
                "" if n == 1 else "s",
                timezone.localtime(c.created_at).strftime("%Y-%m-%d %H:%M"),
            )
            for c, n in ((c, c.messages.count()) for c in objs)
        ]
        return summary, model_count, perms_needed, protected

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            access_record(
                channel=Channel.ADMIN,
                action=Action.TRANSCRIPT_VIEW,
                user=request.user,
                object_type="conversation",
                object_id=object_id,
            )
        return response

    @admin.display(description="start page", ordering="start_page_url")
    def start_page(self, obj):
        url = obj.start_page_url
        return url if len(url) <= 60 else url[:57] + "…"

    @admin.display(description="messages", ordering="n_messages")
    def message_count(self, obj):
        return obj.n_messages

    @admin.display(description="e-mail", boolean=True, ordering="has_email")
    def has_email(self, obj):
        return obj.has_email

    @admin.display(description="phase history")
    def phase_history_table(self, obj):
        rows = obj.phase_history or []
        if not rows:
            return "—"
        labels = dict(Phase.choices)
        return format_html(
            "<ol>{}</ol>",
            format_html_join(
                "",
                "<li>{} <small>({})</small></li>",
                (
                    (labels.get(h.get("phase"), h.get("phase", "")), _when(h.get("at")))
                    for h in rows
                ),
            ),
        )

    @admin.display(description="e-mail given")
    def leads_given(self, obj):
        leads = list(
            Lead.objects.filter(conversation=obj).annotate(
                may_contact=Exists(exports.leads_exportable().filter(pk=OuterRef("pk")))
            )
        )
        if not leads:
            return "—"
        return format_html_join(
            mark_safe("<br>"),  # noqa: S308 - a constant tag
            '<a href="{}">{}</a> <small>({})</small>',
            (
                (
                    reverse("admin:conversations_lead_change", args=[lead.pk]),
                    lead.email,
                    "objected — do not contact"
                    if not lead.may_contact
                    else ("marketing consent" if lead.marketing_consent else "follow-up only"),
                )
                for lead in leads
            ),
        )

    @admin.display(description="transcript")
    def transcript(self, obj):
        from django.template.loader import render_to_string

        return render_to_string(
            "admin/conversations/transcript.html",
            {
                "messages": obj.messages.select_related("reply_to").order_by("created_at", "id"),
                # "Improve this answer": a custom answer prefilled with the visitor's question.
                "improve_url": reverse("admin:conversations_customanswer_add"),
            },
        )

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "overview/",
                self.admin_site.admin_view(self.overview_view),
                name="{}_{}_overview".format(*info),
            )
        ] + super().get_urls()

    def overview_view(self, request):
        context = {
            **self.admin_site.each_context(request),
            "title": "Overview",
            "opts": self.opts,
            **views.overview_data(),
        }
        return TemplateResponse(request, "admin/conversations/overview.html", context)


# --- leads ------------------------------------------------------------------------------------


class ObjectedFilter(admin.SimpleListFilter):
    title = "objection"
    parameter_name = "objected"

    def lookups(self, request, model_admin):
        return [("no", "May be contacted"), ("yes", "Objected: do not contact")]

    def queryset(self, request, queryset):
        exportable = exports.leads_exportable().values("pk")
        if self.value() == "no":
            return queryset.filter(pk__in=exportable)
        if self.value() == "yes":
            return queryset.exclude(pk__in=exportable)
        return queryset


@admin.register(Lead)
class LeadAdmin(SiteSchemaOnlyAdmin):
    """Leads as the visitor left them: listed, viewed, exported and deletable, never added
    or edited by hand. `leads.lead_save` is their only writer (the visitor's own e-mail, the
    consent wording they were shown and when they ticked it); an edited consent would no
    longer be proof of one (GDPR Art. 7(1))."""

    # What a customer needs before writing to someone comes first: may I, and may I market?
    list_display = (
        "email",
        "contact_status",
        "consent_wording",
        "consent_at",
        "conversation_link",
        "start_page",
        "created_at",
        "source",
    )
    list_filter = (
        ObjectedFilter,
        "marketing_consent",
        "source",
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = ("email",)
    date_hierarchy = "created_at"
    actions = ["export_csv"]
    change_list_template = "admin/conversations/lead/change_list.html"
    # Nothing here is editable (has_change_permission); the consent record would stay
    # read-only even if something ever were.
    readonly_fields = ("marketing_consent", "consent_text", "consent_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        exportable = exports.leads_exportable().filter(pk=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .select_related("conversation", "visitor")
            .annotate(may_contact=Exists(exportable))
        )

    @admin.display(description="consent wording")
    def consent_wording(self, obj):
        t = obj.consent_text or ""
        return t if len(t) <= 50 else t[:47] + "…"

    @admin.display(description="conversation")
    def conversation_link(self, obj):
        if not obj.conversation_id:
            return "—"
        url = reverse("admin:conversations_conversation_change", args=[obj.conversation_id])
        return format_html('<a href="{}">#{}</a>', url, obj.conversation_id)

    @admin.display(description="start page")
    def start_page(self, obj):
        return obj.conversation.start_page_url if obj.conversation_id else ""

    @admin.display(description="marketing", ordering="marketing_consent")
    def contact_status(self, obj):
        """Consent as it stands: an objection (Art. 21) overrides a ticked marketing box."""
        if not getattr(obj, "may_contact", True):
            return format_html(
                '<strong class="cloop-objected" style="color:#ba2121">{}</strong>',
                "objected — do not contact",
            )
        if obj.marketing_consent:
            return format_html('<span class="cloop-consent">{}</span>', "consented")
        return format_html('<span class="cloop-no-consent">{}</span>', "follow-up only")

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        cl = getattr(response, "context_data", {}).get("cl") if request.method == "GET" else None
        if cl is not None and response.status_code == 200:
            access_record(
                channel=Channel.ADMIN,
                action=Action.LEAD_LIST,
                user=request.user,
                object_type="lead",
                rows=len(cl.result_list),
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            access_record(
                channel=Channel.ADMIN,
                action=Action.LEAD_VIEW,
                user=request.user,
                object_type="lead",
                object_id=object_id,
            )
        return response

    def _export(self, request, queryset=None):
        download = exports.CsvDownload(request)
        exports.leads_export(
            connection.tenant, download, Actor(Channel.ADMIN, user=request.user), queryset=queryset
        )
        return download.response

    @admin.action(description="Export selected leads as CSV (objected visitors left out)")
    def export_csv(self, request, queryset):
        return self._export(request, Lead.objects.filter(pk__in=queryset.values("pk")))

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "export.csv",
                self.admin_site.admin_view(self.export_all_view),
                name="{}_{}_export".format(*info),
            )
        ] + super().get_urls()

    def export_all_view(self, request):
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        return self._export(request)
