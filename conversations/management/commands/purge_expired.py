"""`manage.py purge_expired [--dry-run] [--site SITE_ID]`: apply every site's retention periods.

The nightly beat task calls the same function (conversations.privacy.retention.retention_purge).
"""

from conversations.privacy.retention import retention_purge_all, retention_purge_site
from tenants.management.commands._base import StaffCommand
from tenants.services import site_get_ready


class Command(StaffCommand):
    help = (
        "Delete conversations, messages, leads, visitors and access-log entries older than "
        "each site's retention periods."
    )

    def add_command_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")
        parser.add_argument("--site", dest="site_id", help="only this site")

    def run(self, dry_run=False, site_id=None, json=False, **options):
        if site_id:
            reports = [retention_purge_site(site_get_ready(site_id), dry_run=dry_run)]
        else:
            reports = retention_purge_all(dry_run=dry_run)
        if json:
            self.emit_json(reports)
            return
        verb = "would delete" if dry_run else "deleted"
        for r in reports:
            self.stdout.write(
                f"{r['site_id']}: {verb} {r['conversations']} conversations "
                f"({r['messages']} messages), {r['leads']} leads, {r['visitors']} visitors, "
                f"{r['access_log']} access-log entries"
            )
