"""The staff admin's site list (public schema) with each site's status: pages indexed, last
crawl, conversations and data requests.

tenants' SiteAdmin cannot show them (tenants is below crawler and conversations in the
import contract), so this subclass adds the columns and takes its place in the admin.
"""

from django.contrib import admin

from conversations.admin.views import site_status
from tenants.admin import SiteAdmin
from tenants.models import Site


class SiteStatusAdmin(SiteAdmin):
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

    # Status columns are read inside each site's schema, once per row (cached on the object).
    def _status(self, obj) -> dict:
        if not hasattr(obj, "_cloop_status"):
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


# Importing tenants.admin above registered its SiteAdmin: replace it, whatever the order in
# which Django's autodiscovery imports the apps' admin modules.
admin.site.unregister(Site)
admin.site.register(Site, SiteStatusAdmin)
