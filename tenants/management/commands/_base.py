"""Shared plumbing for staff commands: `--json` output and clear errors."""

import json

from django.core.management.base import BaseCommand, CommandError

from tenants.services import SiteError


class StaffCommand(BaseCommand):
    """Subclasses implement `run(**options)`; a SiteError becomes a one-line CommandError."""

    json_flag = True

    def add_arguments(self, parser):
        if self.json_flag:
            parser.add_argument("--json", action="store_true", help="print JSON (the last line)")
        self.add_command_arguments(parser)

    def add_command_arguments(self, parser):
        pass

    def handle(self, *args, **options):
        try:
            return self.run(**options)
        except SiteError as exc:
            raise CommandError(str(exc)) from exc

    def emit_json(self, data) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False, default=str))
