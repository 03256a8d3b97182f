"""The customer's "Site settings" page: notice fields, embedding origins, retention, quota and
the widget's appearance and texts, on one page.

The site's contact e-mail and allowed origins live on the Site row (public schema); the
notice, retention and quota in conversations' SiteSettings; the widget's appearance in the
widget app's WidgetSettings singleton. The page is the widget app's because it edits all three:
widget is the one app above conversations (import contract, pyproject.toml). It stays the
admin of SiteSettings, so its address is /admin/conversations/sitesettings/.
Preconditions: admin requests on the site's host (the connection is in the site's schema).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.forms.models import fields_for_model
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html

from conversations.models import SiteSettings
from conversations.privacy.notice import notice_facts, notice_url
from tenants.scoping import LinesField, SiteSchemaOnlyAdmin
from tenants.services import SiteError, origins_normalise, site_update
from widget.models import WidgetSettings

WIDGET_FIELDS = (
    "bot_name",
    "greeting",
    "starter_questions",
    "primary_color",
    "position",
    "privacy_url",
    "consent_text",
)


# The two privacy links used to read "Privacy notice url" and "Privacy notice URL": say which
# one does what, and say what retention really deletes.
FIELD_TEXTS = {
    "privacy_notice_url": (
        "Your own privacy notice (URL)",
        "Leave empty to publish Cloop's generated notice (above). If set, the widget links "
        "here instead.",
    ),
    "widget_privacy_url": (
        "Widget's privacy link (override)",
        "Only if the widget must link somewhere other than the privacy notice above; "
        "empty = the notice above.",
    ),
    "conversation_retention_days": (
        "Keep conversations (days)",
        "Each message is deleted this many days after it was written, and a conversation "
        "with its last message. The nightly purge applies it within a day.",
    ),
    # 0 really means no messages at all (conversations.chat.limits.daily_quota_hit): say so.
    "daily_message_quota": (
        "Daily message quota",
        "Visitor messages answered per day (UTC) on this site. 0 answers none: the chat is "
        "switched off. There is no unlimited setting; use a large number.",
    ),
    "lead_retention_days": (
        "Keep leads (days)",
        "An e-mail address a visitor left is deleted this many days after it was given.",
    ),
}


class SiteSettingsForm(forms.ModelForm):
    """SiteSettings plus the Site row's contact and origins plus the widget's settings."""

    contact_email = forms.EmailField(
        label="Data-protection contact e-mail",
        required=False,
        help_text="Named in the privacy notice; empty = your admin user's e-mail.",
    )
    allowed_origins = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Origins allowed to embed the widget, one per line (https://www.example.com).",
    )

    class Meta:
        model = SiteSettings
        fields = (
            "company_name",
            "notice_published_on",
            "privacy_notice_url",
            "conversation_retention_days",
            "lead_retention_days",
            "daily_message_quota",
            "synonyms",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        site = getattr(connection, "tenant", None)
        if site is not None and hasattr(site, "allowed_origins"):
            self.fields["contact_email"].initial = site.contact_email
            self.fields["allowed_origins"].initial = "\n".join(site.allowed_origins or [])
        self.widget_settings = WidgetSettings.load()
        for name, field in fields_for_model(WidgetSettings, fields=WIDGET_FIELDS).items():
            if name == "starter_questions":
                field = LinesField(
                    required=False,
                    help_text="One question per line (at most 6).",
                    widget=forms.Textarea(attrs={"rows": 4}),
                )
            if name == "primary_color":
                # The browser's colour picker; it always sends #rrggbb.
                field.widget = forms.TextInput(attrs={"type": "color"})
                field.help_text = (
                    "The header, the visitor's messages and the buttons; links and "
                    "suggested questions too. Checked against WCAG AA (4.5:1)."
                )
            field.required = False
            field.initial = getattr(self.widget_settings, name)
            self.fields[f"widget_{name}"] = field
        self.fields["widget_logo"] = forms.FileField(
            label="Logo or avatar",
            required=False,
            help_text="PNG, JPEG, GIF or WebP, at most 512 KB; shown round in the "
            "widget's header. Cloop stores a 128-pixel copy.",
            widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
        )
        if self.widget_settings.logo_hash:
            self.fields["widget_logo_remove"] = forms.BooleanField(
                label="Remove the logo", required=False
            )
        # Labels a customer reads without knowing the models behind them.
        for name, (label, help_text) in FIELD_TEXTS.items():
            if name in self.fields:
                self.fields[name].label = label
                self.fields[name].help_text = help_text

    def clean_allowed_origins(self):
        try:
            lines = (self.cleaned_data.get("allowed_origins") or "").splitlines()
            return origins_normalise(ln for ln in lines if ln.strip())
        except SiteError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self):
        data = super().clean()
        ws = self.widget_settings
        for name in WIDGET_FIELDS:
            key = f"widget_{name}"
            if key in data:
                value = data[key]
                if value is None and name in ("primary_color", "position"):
                    value = ws._meta.get_field(name).get_default()
                setattr(ws, name, value if value is not None else "")
        try:
            ws.full_clean(exclude=["id", "updated_at", "logo", "logo_hash"])
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                key = f"widget_{name}" if f"widget_{name}" in self.fields else None
                self.add_error(key, errors)
        try:
            if data.get("widget_logo"):
                ws.logo_set(data["widget_logo"])
            elif data.get("widget_logo_remove"):
                ws.logo_set(None)
        except ValidationError as exc:
            self.add_error("widget_logo", exc.messages)
        return data

    def contrast_warnings(self) -> list[str]:
        """WCAG AA warnings for the chosen colour (saved anyway; the admin shows them)."""
        return self.widget_settings.contrast_warnings() if self.is_valid() else []


@admin.register(SiteSettings)
class SiteSettingsAdmin(SiteSchemaOnlyAdmin):
    form = SiteSettingsForm
    readonly_fields = ("notice_status",)

    def get_fieldsets(self, request, obj=None):
        sets = [
            (
                "Privacy notice",
                {
                    "fields": (
                        "notice_status",
                        "company_name",
                        "contact_email",
                        "notice_published_on",
                        "privacy_notice_url",
                    )
                },
            ),
            ("Widget embedding", {"fields": ("allowed_origins",)}),
            (
                "Widget appearance and texts",
                {
                    "fields": (
                        *(f"widget_{n}" for n in WIDGET_FIELDS),
                        "widget_logo",
                        *(["widget_logo_remove"] if self._has_logo() else []),
                    ),
                    "description": "Empty texts use the default wording in the site's language.",
                },
            ),
            ("Retention", {"fields": ("conversation_retention_days", "lead_retention_days")}),
            ("Quota", {"fields": ("daily_message_quota",)}),
            ("Answers", {"fields": ("synonyms",)}),
        ]
        return sets

    change_form_template = "admin/conversations/sitesettings/change_form.html"

    @staticmethod
    def _has_logo() -> bool:
        return bool(WidgetSettings.load().logo_hash)

    def render_change_form(self, request, context, *args, **kwargs):
        # The live preview (widget/views_preview.py, same host) beside the form.
        context["widget_preview_url"] = reverse("widget-preview")
        return super().render_change_form(request, context, *args, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The widget fields are added by the form itself; keep the ModelAdmin from checking
        # them against SiteSettings.
        kwargs["fields"] = [*SiteSettingsForm.Meta.fields, "contact_email", "allowed_origins"]
        return super().get_form(request, obj, change=change, **kwargs)

    def has_add_permission(self, request):
        return False  # a singleton: there is exactly one

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        obj = SiteSettings.load()
        return HttpResponseRedirect(
            reverse("admin:conversations_sitesettings_change", args=[obj.pk])
        )

    @admin.display(description="notice page")
    def notice_status(self, obj):
        site = connection.tenant
        url = notice_url(site.site_id)
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>{}',
            url,
            url,
            render_to_string(
                "admin/conversations/notice_facts.html", {"facts": notice_facts(site)}
            ),
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        site_update(
            connection.tenant,
            contact_email=form.cleaned_data.get("contact_email") or "",
            allowed_origins=form.cleaned_data.get("allowed_origins") or [],
        )
        form.widget_settings.save()
        for warning in form.contrast_warnings():
            self.message_user(request, warning, messages.WARNING)
