"""The GDPR desk in the customer's admin: data requests and the erasure audit trail.

Thin shells over `conversations.privacy.requests` and `conversations.privacy.privacy`. Preconditions: admin
requests on the site's host (the connection is in the site's schema).
"""

from __future__ import annotations

import datetime

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Case, When
from django.db.models.functions import Coalesce
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from conversations.models import Conversation, DataRequest, ErasureAudit
from conversations.privacy import delivery, privacy, requests
from conversations.privacy.access_log import Action, Channel, access_record
from conversations.privacy.notice import notice_storage_key
from tenants.scoping import SiteRecordAdmin, SiteSchemaOnlyAdmin


class DataRequestForm(forms.ModelForm):
    class Meta:
        model = DataRequest
        fields = (
            "kind",
            "subject_email",
            "subject_visitor_id",
            "received_on",
            "extended_until",
            "extension_reason",
            "status",
            "notes",
        )
        labels = {"subject_email": "Subject's e-mail", "subject_visitor_id": "Subject's visitor id"}
        help_texts = {
            "kind": "Access: send them a copy. Erasure: delete everything. Objection: stop "
            "storing their chats and take them out of every lead export.",
            "subject_email": "The address the person left in the chat (or writes from).",
            "subject_visitor_id": "Optional: the random id in the person's browser "
            "(localStorage key cloop_visitor_<site id>), if they send it; needed only if "
            "they never left an e-mail address.",
            "received_on": "The day the request reached you: the 30 days count from here.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The real key of this site, which the person can read in their browser's tools.
        site_id = getattr(getattr(connection, "tenant", None), "site_id", "")
        if site_id and "subject_visitor_id" in self.fields:
            self.fields["subject_visitor_id"].help_text = (
                "Optional: the random id in the person's browser (localStorage key "
                f"{notice_storage_key(site_id)} on your website), if they send it; needed "
                "only if they never left an e-mail address."
            )

    def clean(self):
        data = super().clean()
        # A handled erasure request keeps no identifiers; only new/open requests need one.
        erased = self.instance.pk and self.instance.status != DataRequest.Status.OPEN
        if not (data.get("subject_email") or data.get("subject_visitor_id") or erased):
            raise forms.ValidationError("Name the subject by e-mail address and/or visitor id.")
        until = data.get("extended_until")
        if until:
            received = data.get("received_on") or self.instance.received_on
            latest = received + datetime.timedelta(days=requests.MAX_EXTENSION_DAYS)
            if until > latest:
                self.add_error("extended_until", f"At most three months from receipt: {latest}.")
            if not (data.get("extension_reason") or "").strip():
                self.add_error(
                    "extension_reason", "An extension needs a reason (tell the subject)."
                )
        return data


class OverdueFilter(admin.SimpleListFilter):
    title = "deadline"
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("soon", "Day 20 or later"), ("open", "Open")]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.filter(requests.requests_overdue_q())
        if self.value() == "soon":
            return queryset.filter(pk__in=requests.requests_due_soon().values("pk"))
        if self.value() == "open":
            return queryset.filter(status=DataRequest.Status.OPEN)
        return queryset


@admin.register(DataRequest)
class DataRequestAdmin(SiteSchemaOnlyAdmin):
    form = DataRequestForm
    list_display = (
        "id",
        "kind",
        "subject",
        "status",
        "received_on",
        "deadline_display",
        "days_left_display",
        "handled_by",
        "handled_at",
    )
    list_filter = ("status", "kind", OverdueFilter)
    search_fields = ("subject_email", "=subject_visitor_id", "notes")
    readonly_fields = (
        "due_on_display",
        "days_left_display",
        "handled_by",
        "handled_at",
        "audit_entries",
        "export_sent_display",
    )
    change_form_template = "admin/conversations/datarequest/change_form.html"
    actions = ["act_selected", "send_export_selected"]
    fieldsets = (
        (None, {"fields": ("kind", "subject_email", "subject_visitor_id", "notes")}),
        (
            "Deadline",
            {
                "fields": (
                    "received_on",
                    "due_on_display",
                    "days_left_display",
                    "extended_until",
                    "extension_reason",
                )
            },
        ),
        (
            "Handling",
            {
                "fields": (
                    "status",
                    "handled_by",
                    "handled_at",
                    "export_sent_display",
                    "audit_entries",
                )
            },
        ),
    )

    @admin.display(description="export sent to the subject")
    def export_sent_display(self, obj):
        if not obj.export_sent_at:
            return "—"
        link = "not opened yet"
        if obj.export_link_used_at:
            link = f"downloaded {_when(obj.export_link_used_at)}"
        elif obj.export_link_expires_at and obj.export_link_expires_at <= timezone.now():
            link = "expired unused"
        elif obj.export_link_expires_at:
            link = f"not opened yet; expires {_when(obj.export_link_expires_at)}"
        return format_html(
            '<span data-cloop="export-sent">{} by {} ({}) · link {}</span>',
            _when(obj.export_sent_at),
            obj.export_sent_by or "—",
            obj.export_sent_how,
            link,
        )

    @admin.display(description="subject")
    def subject(self, obj):
        parts = [p for p in (obj.subject_email, str(obj.subject_visitor_id or "")) if p]
        return " / ".join(parts) or "(erased)"

    def get_queryset(self, request):
        # Open requests first, soonest (possibly extended) deadline first: the work queue.
        # (Annotated before ordering: ModelAdmin.get_queryset would order by names that do
        # not exist yet.)
        return DataRequest.objects.annotate(
            effective_deadline=Coalesce("extended_until", "due_on"),
            open_rank=Case(When(status=DataRequest.Status.OPEN, then=0), default=1),
        ).order_by(*self.get_ordering(request))

    def get_ordering(self, request):
        return ("open_rank", "effective_deadline", "id")

    @admin.display(description="deadline", ordering="effective_deadline")
    def deadline_display(self, obj):
        return obj.deadline

    @admin.display(description="due (30 days after receipt)")
    def due_on_display(self, obj):
        return obj.due_on or "— (set when saved)"

    @admin.display(description="days left")
    def days_left_display(self, obj):
        if obj.pk is None:
            return "—"
        if obj.status != DataRequest.Status.OPEN:
            return "—"
        left = requests.request_days_left(obj)
        if left < 0:
            return format_html(
                '<strong class="cloop-overdue" style="color:#ba2121">overdue by {} days</strong>',
                -left,
            )
        style = "color:#b06000" if left <= 10 else ""
        return format_html('<span style="{}">{}</span>', style, left)

    @admin.display(description="erasure audit")
    def audit_entries(self, obj):
        rows = list(obj.audits.all()) if obj.pk else []
        if not rows:
            return "—"
        return format_html_join(
            "",
            "<div>{} · erased {} · <small>hash {}…</small></div>",
            (
                (
                    timezone.localtime(a.at).strftime("%Y-%m-%d %H:%M"),
                    _counts_text(a.counts),
                    a.subject_hash[:16],
                )
                for a in rows
            ),
        )

    def get_readonly_fields(self, request, obj=None):
        # A handled request is a record of what was asked and when: only its status (to
        # reopen a mistake) and notes stay editable.
        if obj is not None and obj.pk and obj.status != DataRequest.Status.OPEN:
            return (*HANDLED_LOCKED, *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if obj.status != DataRequest.Status.OPEN and not obj.handled_at:
            obj.handled_at = timezone.now()
            obj.handled_by = _who(request)
        super().save_model(request, obj, form, change)

    @admin.action(description="Carry out selected erasure / objection requests")
    def act_selected(self, request, queryset):
        done = 0
        for req in queryset.filter(status=DataRequest.Status.OPEN):
            if req.kind == DataRequest.Kind.ACCESS:
                self.message_user(
                    request,
                    f"Request {req.pk} is an access request: open it and download the export.",
                    messages.WARNING,
                )
                continue
            result = requests.request_act(req, by=_who(request))
            done += 1
            self.message_user(request, f"Request {req.pk}: {_describe(result)}", messages.SUCCESS)
        if not done:
            self.message_user(request, "Nothing carried out.", messages.INFO)

    @admin.action(description="Send the export to the subject (one-time link by e-mail)")
    def send_export_selected(self, request, queryset):
        for req in queryset:
            self._send_export(request, req)

    def _send_export(self, request, req) -> bool:
        try:
            delivery.export_link_send(req, by=_who(request))
        except privacy.PrivacyError as exc:
            self.message_user(request, f"Request {req.pk}: {exc}", messages.ERROR)
            return False
        self.message_user(
            request,
            f"Request {req.pk}: a one-time link to the export was e-mailed to "
            f"{req.subject_email}; it expires in {settings.CLOOP_EXPORT_LINK_DAYS} days.",
            messages.SUCCESS,
        )
        return True

    def send_export_view(self, request, pk):
        req = self._get(request, pk)
        change_url = reverse("admin:conversations_datarequest_change", args=[req.pk])
        if not self.has_change_permission(request, req):
            return HttpResponse(status=403)
        if request.method == "POST":
            self._send_export(request, req)
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Send the export of request {req.pk} to the subject",
            "opts": self.opts,
            "original": req,
            "change_url": change_url,
            "days": settings.CLOOP_EXPORT_LINK_DAYS,
        }
        return TemplateResponse(
            request, "admin/conversations/datarequest/send_export.html", context
        )

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/send-export/",
                view(self.send_export_view),
                name="{}_{}_send_export".format(*info),
            ),
            path(
                "<int:pk>/export.json",
                view(self.export_json_view),
                name="{}_{}_export_json".format(*info),
            ),
            path(
                "<int:pk>/export.html",
                view(self.export_html_view),
                name="{}_{}_export_html".format(*info),
            ),
            path("<int:pk>/act/", view(self.act_view), name="{}_{}_act".format(*info)),
        ] + super().get_urls()

    def _get(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(DataRequest, pk=pk)

    def _export(self, request, pk):
        req = self._get(request, pk)
        if not (req.subject_email or req.subject_visitor_id):
            return req, None
        data = privacy.subject_export(req.subject_email, req.subject_visitor_id, widen=True)
        access_record(
            channel=Channel.ADMIN,
            action=Action.SUBJECT_EXPORT,
            user=request.user,
            object_type="datarequest",
            object_id=req.pk,
        )
        return req, data

    def export_json_view(self, request, pk):
        req, data = self._export(request, pk)
        if data is None:
            return HttpResponse("This request's subject has been erased.", status=410)
        response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
        response["Content-Disposition"] = f'attachment; filename="subject-export-{req.pk}.json"'
        response["Cache-Control"] = "no-store"
        return response

    def export_html_view(self, request, pk):
        req, data = self._export(request, pk)
        if data is None:
            return HttpResponse("This request's subject has been erased.", status=410)
        response = HttpResponse(privacy.subject_export_html(data))
        response["Cache-Control"] = "no-store"
        return response

    def act_view(self, request, pk):
        req = self._get(request, pk)
        change_url = reverse("admin:conversations_datarequest_change", args=[req.pk])
        if not self.has_change_permission(request, req):
            return HttpResponse(status=403)
        if request.method == "POST":
            try:
                result = requests.request_act(req, by=_who(request))
            except privacy.PrivacyError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, _describe(result), messages.SUCCESS)
            return HttpResponseRedirect(change_url)
        preview = None
        if req.subject_email or req.subject_visitor_id:
            subject = privacy.subject_resolve(req.subject_email, req.subject_visitor_id, widen=True)
            preview = {
                "visitors": len(subject.visitor_ids),
                "emails": sorted(subject.emails),
                "leads": subject.leads().count(),
                "conversations": Conversation.objects.filter(
                    visitor_id__in=subject.visitor_ids
                ).count(),
            }
        context = {
            **self.admin_site.each_context(request),
            "title": f"Carry out {req.get_kind_display().lower()} request {req.pk}",
            "opts": self.opts,
            "original": req,
            "preview": preview,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/conversations/datarequest/act.html", context)


@admin.register(ErasureAudit)
class ErasureAuditAdmin(SiteRecordAdmin):
    """The audit trail is the proof an erasure happened, so it is read-only."""

    list_display = ("at", "request", "short_hash", "counts_display")
    readonly_fields = ("request", "subject_hash", "counts", "at")

    @admin.display(description="erased")
    def counts_display(self, obj):
        return _counts_text(obj.counts)

    @admin.display(description="subject hash")
    def short_hash(self, obj):
        return obj.subject_hash[:16] + "…"


HANDLED_LOCKED = (
    "kind",
    "subject_email",
    "subject_visitor_id",
    "received_on",
    "extended_until",
    "extension_reason",
)


def _counts_text(counts: dict) -> str:
    """{"visitors": 1, "messages": 4, ...} as "1 visitor, 1 conversation, 4 messages, 1 lead"."""
    names = (
        ("visitors", "visitor"),
        ("conversations", "conversation"),
        ("messages", "message"),
        ("leads", "lead"),
    )
    parts = []
    for key, noun in names:
        n = int((counts or {}).get(key, 0) or 0)
        parts.append(f"{n} {noun}{'' if n == 1 else 's'}")
    return ", ".join(parts)


def _when(at) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M %Z")


def _who(request) -> str:
    user = getattr(request, "user", None)
    return (
        (getattr(user, "email", "") or getattr(user, "get_username", lambda: "")()) if user else ""
    )


def _describe(result: dict) -> str:
    if "counts" in result:
        c = result["counts"]
        return (
            f"Erased: {c['visitors']} visitor(s), {c['conversations']} conversation(s), "
            f"{c['messages']} message(s), {c['leads']} lead(s)."
        )
    if "objection" in result:
        o = result["objection"]
        return (
            f"Objection recorded: {o['visitors_flagged']} visitor(s) flagged; "
            f"{o['leads_excluded']} lead(s) now left out of exports."
        )
    return "Access request marked done."
