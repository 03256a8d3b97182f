"""`manage.py snippet <site_id> [--json]`: the `<script>` tag the site's pages need."""

from tenants import urls
from tenants.management.commands._base import StaffCommand
from tenants.services import site_get


class Command(StaffCommand):
    help = "Print the widget snippet of a site (the line its pages need), for the customer."

    def add_command_arguments(self, parser):
        parser.add_argument("site_id")

    def run(self, **o):
        site = site_get(o["site_id"])
        snippet = urls.snippet(site.site_id)
        if o["json"]:
            self.emit_json(
                {
                    "site_id": site.site_id,
                    "snippet": snippet,
                    "admin_url": urls.admin_url(site.site_id),
                    "install_url": urls.install_url(site.site_id),
                    "allowed_origins": site.allowed_origins,
                }
            )
            return
        self.stdout.write(snippet)
