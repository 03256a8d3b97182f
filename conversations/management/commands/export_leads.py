"""`manage.py export_leads <site_id> [-o FILE] [--json]`: the site's exportable leads.

CSV (the admin's rows and escaping) to FILE or standard output. With `--json` the last line is
`{"site_id", "file", "rows"}` when the CSV went to FILE, else the leads themselves:
`{"site_id", "file": null, "leads": [{column: value, ...}], "rows"}`. Either way the rows are
streamed page by page and the export is recorded once in the access log
(conversations.leads.exports.leads_export).
"""

import json as json_lib

from django.core.management.base import CommandError

from conversations.leads.exports import CsvFile, JsonFile, leads_export
from conversations.privacy.access_log import Actor, Channel, access_command_user
from tenants.management.commands._base import StaffCommand
from tenants.services import site_get_ready


class Command(StaffCommand):
    help = "Export a site's leads as CSV (objected visitors left out; formulas neutralised)."

    def add_command_arguments(self, parser):
        parser.add_argument("site_id")
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")

    def run(self, site_id, output=None, json=False, **options):
        site = site_get_ready(site_id)
        actor = Actor(Channel.COMMAND, username=access_command_user())
        if output:
            try:
                f = open(output, "w", encoding="utf-8", newline="")  # noqa: SIM115
            except OSError as exc:
                raise CommandError(f"cannot write {output}: {exc.strerror}") from exc
            with f:
                n = leads_export(site, CsvFile(f), actor)
            if json:
                self.emit_json({"site_id": site_id, "rows": n, "file": output})
            else:
                self.stderr.write(f"{n} leads written to {output}")
            return
        out = _Verbatim(self.stdout)
        if not json:
            leads_export(site, CsvFile(out), actor)
            return
        # One JSON line, written as the rows stream (no export is held in memory).
        out.write(f'{{"site_id": {json_lib.dumps(site_id)}, "file": null, "leads": ')
        n = leads_export(site, JsonFile(out), actor)
        out.write(f', "rows": {n}}}\n')


class _Verbatim:
    """A command's output that writes text as it is (OutputWrapper adds a line ending)."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")
