"""Building blocks for data that exists once per site schema, shared by the tenant apps.

- `SiteSingleton`: an abstract model with exactly one row per site schema (settings).
- `SiteSchemaOnlyAdmin`: a ModelAdmin shown on a site's admin, hidden on Cloop's staff admin
  (whose public schema has no such tables); `SiteRecordAdmin`, the same for records nobody may
  add, change or delete by hand.
- `LinesField`: a form field editing a list of texts one per line.
"""

from django import forms
from django.contrib import admin
from django.db import connection, models
from django_tenants.utils import get_public_schema_name


class SiteSingleton(models.Model):
    """One row (pk=1) per site schema. Use `Model.load()` inside the site's schema."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls):
        """The row of the active schema, created with the field defaults on first use."""
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


def in_public_schema() -> bool:
    return connection.schema_name == get_public_schema_name()


class SiteSchemaOnlyAdmin(admin.ModelAdmin):
    """Registered in both admins, visible only on a site's host (its own schema)."""

    def _in_site(self) -> bool:
        return not in_public_schema()

    def has_module_permission(self, request):
        return self._in_site() and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._in_site() and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self._in_site() and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self._in_site() and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._in_site() and super().has_delete_permission(request, obj)


class SiteRecordAdmin(SiteSchemaOnlyAdmin):
    """A record kept as proof (access log, erasure audit): viewable, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LinesField(forms.CharField):
    """A list of texts edited one per line; blank lines and surrounding spaces are dropped."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 80})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        return [ln.strip() for ln in (super().to_python(value) or "").splitlines() if ln.strip()]
