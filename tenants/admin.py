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
    # The apps above add their status columns (conversations/admin/staff.py replaces this
    # admin with a subclass): tenants imports none of them.
    list_display = ("site_id", "name", "url", "ready", "created_at")
    list_filter = ("ready", "language")
    search_fields = ("site_id", "name", "url")
    readonly_fields = ("site_id", "schema_name", "ready", "created_at", "updated_at")
    inlines = [DomainInline]


@admin.register(Domain)
class DomainAdmin(PublicSchemaOnlyAdmin):
    list_display = ("domain", "tenant", "is_primary")
