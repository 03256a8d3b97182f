"""`manage.py export_leads <site_id> [-o FILE]`: the site's exportable leads as CSV.

Same rows and escaping as the admin's export (conversations.exports); streamed page by page.
"""

import sys

from django.core.management.base import CommandError
from django_tenants.utils import tenant_context

from conversations.access_log import Action, Channel, access_command_user, access_record
from conversations.exports import leads_csv_write
from tenants.management.commands._base import StaffCommand
from tenants.services import site_get_ready


class Command(StaffCommand):
    help = "Export a site's leads as CSV (objected visitors left out; formulas neutralised)."

    def add_command_arguments(self, parser):
        parser.add_argument("site_id")
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")

    def run(self, site_id, output=None, json=False, **options):
        site = site_get_ready(site_id)
        with tenant_context(site):
            if output:
                try:
                    f = open(output, "w", encoding="utf-8", newline="")  # noqa: SIM115
                except OSError as exc:
                    raise CommandError(f"cannot write {output}: {exc.strerror}") from exc
                with f:
                    n = leads_csv_write(f)
            else:
                n = leads_csv_write(sys.stdout if not json else _Null())
            access_record(
                channel=Channel.COMMAND,
                action=Action.LEAD_EXPORT,
                username=access_command_user(),
                object_type="lead",
                object_id="all",
                rows=n,
            )
        if json:
            self.emit_json({"site_id": site_id, "rows": n, "file": output})
        elif output:
            self.stderr.write(f"{n} leads written to {output}")


class _Null:
    def write(self, _):
        return 0
