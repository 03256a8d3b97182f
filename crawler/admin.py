"""The customer's admin for crawling: settings, runs with their reports, indexed pages.

Admin requests arrive on the site's host, so the connection is already in the site's
schema. These models do not exist in the public schema (Cloop staff) and are hidden there.
"Crawl now" and "Re-crawl this page" are thin shells over crawler.tasks.crawl_request.
"""

from __future__ import annotations

from collections import Counter

from django import forms
from django.contrib import admin, messages
from django.db import connection
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from crawler.models import CrawlRun, CrawlSettings, Page
from crawler.recrawl import PAGE_TRIGGER
from crawler.runs import CrawlBusy, CrawlError
from crawler.tasks import crawl_request
from crawler.urls import BadURL, normalise_url
from tenants.scoping import LinesField, SiteSchemaOnlyAdmin


class SiteSchemaOnly(SiteSchemaOnlyAdmin):
    """Crawl data is written by crawls only: nobody adds or deletes rows by hand."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CrawlSettingsForm(forms.ModelForm):
    start_urls = LinesField(required=False, help_text=CrawlSettings.start_urls.field.help_text)
    allowed_hosts = LinesField(
        required=False, help_text=CrawlSettings.allowed_hosts.field.help_text
    )
    include_patterns = LinesField(
        required=False, help_text=CrawlSettings.include_patterns.field.help_text
    )
    exclude_patterns = LinesField(
        required=False, help_text=CrawlSettings.exclude_patterns.field.help_text
    )

    class Meta:
        model = CrawlSettings
        fields = (
            "start_urls",
            "allowed_hosts",
            "include_patterns",
            "exclude_patterns",
            "max_pages",
            "recrawl_interval_hours",
            "connections_per_host",
        )

    def clean_start_urls(self):
        out = []
        for u in self.cleaned_data["start_urls"]:
            try:
                out.append(normalise_url(u))
            except BadURL as exc:
                raise forms.ValidationError(f"{u}: {exc}") from None
        return out

    def clean_allowed_hosts(self):
        out = []
        for h in self.cleaned_data["allowed_hosts"]:
            host = h.lower().strip().rstrip(".")
            if "://" in host or "/" in host or " " in host:
                raise forms.ValidationError(f"{h}: give a host name only, like www.example.com")
            out.append(host)
        return out

    def _patterns(self, name):
        out = []
        for p in self.cleaned_data[name]:
            if not (p.startswith("/") or p.startswith("*")):
                raise forms.ValidationError(f"{p}: a path pattern starts with / or *")
            out.append(p)
        return out

    def clean_include_patterns(self):
        return self._patterns("include_patterns")

    def clean_exclude_patterns(self):
        return self._patterns("exclude_patterns")


@admin.register(CrawlSettings)
class CrawlSettingsAdmin(SiteSchemaOnly):
    form = CrawlSettingsForm
    fieldsets = (
        ("What to crawl", {"fields": ("start_urls", "allowed_hosts")}),
        ("Which paths", {"fields": ("include_patterns", "exclude_patterns")}),
        (
            "How much and how often",
            {"fields": ("max_pages", "recrawl_interval_hours", "connections_per_host")},
        ),
    )

    def changelist_view(self, request, extra_context=None):
        obj = CrawlSettings.load()
        return HttpResponseRedirect(reverse("admin:crawler_crawlsettings_change", args=[obj.pk]))


def _skipped_table(entries: list[dict]):
    if not entries:
        return "—"
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td><a href='{}' rel='noopener noreferrer' target='_blank'>{}</a></td>"
        "<td>{}</td></tr>",
        (
            (e.get("reason", ""), e.get("url", ""), e.get("url", ""), e.get("detail", ""))
            for e in entries
        ),
    )
    return format_html(
        "<table><thead><tr><th>reason</th><th>URL</th><th>detail</th></tr></thead>"
        "<tbody>{}</tbody></table>",
        rows,
    )


# CrawlRun.trigger values (crawler.tasks.crawl_request callers) as the customer reads them.
TRIGGER_TEXTS = {
    "admin": "Crawl now (admin)",
    "api": "REST API",
    "schedule": "scheduled re-crawl",
    "manual": "staff command",
    "page": "Re-crawl this page (admin)",
}


@admin.register(CrawlRun)
class CrawlRunAdmin(SiteSchemaOnly):
    change_list_template = "admin/crawler/crawlrun/change_list.html"
    list_display = (
        "id",
        "status",
        "trigger_text",
        "created_at",
        "duration",
        "pages_fetched",
        "pages_indexed",
        "pages_unchanged",
        "pages_removed",
        "pages_skipped",
        "errors",
    )
    list_filter = ("status", "trigger")
    fields = (
        "status",
        "trigger_text",
        "created_at",
        "queued_for",
        "started_at",
        "finished_at",
        "duration",
        "pages_fetched",
        "pages_indexed",
        "pages_unchanged",
        "pages_removed",
        "pages_skipped",
        "errors",
        "error",
        "notes",
        "skipped_by_reason",
        "traps_by_rule",
        "skipped_report",
    )
    readonly_fields = fields

    def has_change_permission(self, request, obj=None):
        return False  # a run is a record; view only

    @admin.display(description="started by", ordering="trigger")
    def trigger_text(self, obj):
        return TRIGGER_TEXTS.get(obj.trigger, obj.trigger)

    # The run's own time: from the worker starting it (robots.txt and sitemaps included) to
    # its end. Time spent waiting for a worker is not in it; "queued for" shows that apart.
    @admin.display(description="crawl time (s, excl. queue)")
    def duration(self, obj):
        return obj.seconds if obj.finished_at else "—"

    @admin.display(description="waited in the queue (s)")
    def queued_for(self, obj):
        if not obj.started_at:
            return "—"
        return round(max(0.0, (obj.started_at - obj.created_at).total_seconds()), 3)

    @admin.display(description="not indexed, by reason")
    def skipped_by_reason(self, obj):
        counts = Counter(e.get("reason", "") for e in obj.skipped or [])
        if not counts:
            return "—"
        return ", ".join(f"{r}: {n}" for r, n in counts.most_common())

    @admin.display(description="URL traps, by rule")
    def traps_by_rule(self, obj):
        counts = Counter(obj.traps or {})
        if not counts:
            return "—"
        return ", ".join(f"{r}: {n}" for r, n in counts.most_common())

    @admin.display(description="every URL not indexed")
    def skipped_report(self, obj):
        return _skipped_table(obj.skipped or [])

    def get_urls(self):
        return [
            path(
                "crawl-now/",
                self.admin_site.admin_view(self.crawl_now_view),
                name="crawler_crawlrun_crawl_now",
            ),
            *super().get_urls(),
        ]

    def crawl_now_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        try:
            run = crawl_request(connection.tenant, "admin")
        except CrawlBusy as busy:
            # A revived run is good news: the crawl the customer asked for is on its way.
            self.message_user(
                request, str(busy), messages.SUCCESS if busy.revived else messages.WARNING
            )
        else:
            self.message_user(request, f"Crawl {run.pk} queued.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:crawler_crawlrun_changelist"))


@admin.register(Page)
class PageAdmin(SiteSchemaOnly):
    list_display = ("url", "title", "source", "language", "chunk_count", "fetched_at")
    list_filter = ("source",)
    search_fields = ("url", "title")
    fields = (
        "url",
        "source",
        "cite_url",
        "title",
        "language",
        "etag",
        "last_modified",
        "fetched_at",
        "sections",
    )
    readonly_fields = fields
    actions = ["recrawl"]
    change_form_template = "admin/crawler/page/change_form.html"

    @admin.action(description="Re-crawl this page (one selected page)")
    def recrawl(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, "Select one page to re-crawl (or use Crawl now).", messages.WARNING
            )
            return None
        return self._recrawl(request, queryset.first())

    def _recrawl(self, request, page: Page):
        """Queue the page's re-crawl (crawler.tasks.crawl_request with its URL); on success
        go to its run, whose report is the result."""
        try:
            run = crawl_request(connection.tenant, PAGE_TRIGGER, page_url=page.url)
        except CrawlBusy as busy:
            self.message_user(request, str(busy), messages.WARNING)
            return HttpResponseRedirect(reverse("admin:crawler_page_change", args=[page.pk]))
        except CrawlError as exc:
            self.message_user(request, f"Not re-crawled: {exc}.", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:crawler_page_change", args=[page.pk]))
        self.message_user(
            request,
            f"Re-crawl of {page.url} queued as crawl {run.pk}; its result shows here.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:crawler_crawlrun_change", args=[run.pk]))

    def get_urls(self):
        return [
            path(
                "<int:pk>/recrawl/",
                self.admin_site.admin_view(self.recrawl_view),
                name="crawler_page_recrawl",
            ),
            *super().get_urls(),
        ]

    def recrawl_view(self, request, pk: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        page = Page.objects.filter(pk=pk).first()
        if page is None or not self.has_view_permission(request, page):
            return HttpResponseRedirect(reverse("admin:crawler_page_changelist"))
        return self._recrawl(request, page)

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="passages")
    def chunk_count(self, obj):
        return obj.chunks.count()

    @admin.display(description="indexed sections")
    def sections(self, obj):
        return format_html_join(
            "",
            "<p><strong>{}</strong> <code>#{}</code><br>{}</p>",
            ((c.heading, c.anchor, c.text[:400]) for c in obj.chunks.all()),
        )
