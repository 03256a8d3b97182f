"""Staff admin (public schema only): every site with its status."""

from django.contrib import admin
from django_tenants.admin import TenantAdminMixin

from tenants.models import Domain, Site
from tenants.scoping import in_public_schema


class PublicSchemaOnlyAdmin(admin.ModelAdmin):
    """Sites and domains are Cloop staff data: hidden from a customer's admin."""

    def _in_public(self) -> bool:
        return in_public_schema()

    def has_module_permission(self, request):
        return self._in_public() and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._in_public() and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False  # sites are created with `manage.py create_site` (schema + admin user)

    def has_change_permission(self, request, obj=None):
        return self._in_public() and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # deletion drops a schema: `manage.py delete_site` asks first


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    can_delete = False
    readonly_fields = ("domain", "is_primary")


@admin.register(Site)
class SiteAdmin(TenantAdminMixin, PublicSchemaOnlyAdmin):
    list_display = (
        "site_id",
        "name",
        "url",
        "ready",
        "pages_indexed",
        "last_crawl",
        "conversations_count",
        "open_requests",
        "overdue_requests",
        "created_at",
    )
    list_filter = ("ready", "language")
    search_fields = ("site_id", "name", "url")
    readonly_fields = ("site_id", "schema_name", "ready", "created_at", "updated_at")
    inlines = [DomainInline]

    # Status columns are read inside each site's schema, once per row (cached on the object).
    def _status(self, obj) -> dict:
        if not hasattr(obj, "_cloop_status"):
            from conversations.admin_views import site_status

            obj._cloop_status = site_status(obj)
        return obj._cloop_status

    @admin.display(description="pages indexed")
    def pages_indexed(self, obj):
        return self._status(obj).get("pages_indexed", "—")

    @admin.display(description="last crawl")
    def last_crawl(self, obj):
        return self._status(obj).get("last_crawl", "—")

    @admin.display(description="conversations")
    def conversations_count(self, obj):
        return self._status(obj).get("conversations", "—")

    @admin.display(description="open requests")
    def open_requests(self, obj):
        return self._status(obj).get("open_requests", "—")

    @admin.display(description="overdue requests")
    def overdue_requests(self, obj):
        return self._status(obj).get("overdue_requests", "—")


@admin.register(Domain)
class DomainAdmin(PublicSchemaOnlyAdmin):
    list_display = ("domain", "tenant", "is_primary")
