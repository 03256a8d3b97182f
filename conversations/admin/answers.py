"""Custom answers in the customer's admin: add, edit, deactivate, delete.

A thin shell over `conversations.chat.custom_answers`: every save and delete goes through it, so
the search index follows at once. The add form takes `?question=` from the URL (Django's
admin fills initial values from GET parameters): a transcript's "Improve this answer" links
here with the visitor's question. Preconditions: admin requests on the site's host (the
connection is in the site's schema).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from conversations.chat import custom_answers
from conversations.models import CustomAnswer
from tenants.scoping import SiteSchemaOnlyAdmin


class CustomAnswerForm(forms.ModelForm):
    class Meta:
        model = CustomAnswer
        fields = ("question", "answer", "link", "active")
        widgets = {"answer": forms.Textarea(attrs={"rows": 6, "cols": 80})}

    def clean_link(self):
        link = self.cleaned_data.get("link", "")
        why = custom_answers.custom_answer_link_check(link)
        if why:
            raise forms.ValidationError(why)
        return link


@admin.register(CustomAnswer)
class CustomAnswerAdmin(SiteSchemaOnlyAdmin):
    form = CustomAnswerForm
    list_display = ("question", "short_answer", "active", "cited_at", "updated_at")
    list_filter = ("active",)
    search_fields = ("question", "answer")
    actions = ["deactivate", "activate"]

    @admin.display(description="answer")
    def short_answer(self, obj):
        t = obj.answer
        return t if len(t) <= 80 else t[:77] + "…"

    @admin.display(description="cited as")
    def cited_at(self, obj):
        url = obj.link or custom_answers.custom_answer_url(obj)
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    def save_model(self, request, obj, form, change):
        custom_answers.custom_answer_save(obj)

    def delete_model(self, request, obj):
        custom_answers.custom_answer_delete(obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            custom_answers.custom_answer_delete(obj)

    def _set_active(self, queryset, active: bool) -> int:
        n = 0
        for obj in queryset.exclude(active=active):
            obj.active = active
            custom_answers.custom_answer_save(obj)
            n += 1
        return n

    @admin.action(description="Deactivate (take out of the answers at once)")
    def deactivate(self, request, queryset):
        self.message_user(request, f"{self._set_active(queryset, False)} answer(s) deactivated.")

    @admin.action(description="Activate")
    def activate(self, request, queryset):
        self.message_user(request, f"{self._set_active(queryset, True)} answer(s) activated.")
