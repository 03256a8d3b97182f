from django.core.management.base import CommandError

from tenants.management.commands._base import StaffCommand
from tenants.services import site_delete, site_get


class Command(StaffCommand):
    help = "Delete a site and DROP its schema with all its data (asks first unless --yes)."
    json_flag = False

    stealth_options = ("stdin",)  # tests pass a file; defaults to sys.stdin
    stdin = None

    def add_command_arguments(self, parser):
        parser.add_argument("site_id")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def run(self, **o):
        import sys

        self.stdin = o.get("stdin") or self.stdin or sys.stdin
        site = site_get(o["site_id"])
        if not o["yes"]:
            self.stdout.write(
                f"Delete site {site.site_id!r} and drop schema {site.schema_name!r} with all its "
                "conversations, leads and pages? Type the site id to confirm: ",
                ending="",
            )
            self.stdout.flush()
            try:
                answer = self.stdin.readline()
            except (EOFError, OSError):
                answer = ""
            if answer.strip() != site.site_id:
                raise CommandError("not confirmed; nothing deleted")
        site_delete(site.site_id)
        self.stdout.write(
            self.style.SUCCESS(f"Deleted site {site.site_id} and schema {site.schema_name}")
        )
