from tenants.management.commands._base import StaffCommand
from tenants.services import site_create


class Command(StaffCommand):
    help = "Create a site: its schema, domain and (optionally) its first admin user."

    def add_command_arguments(self, parser):
        parser.add_argument("site_id", help="public id, [a-z0-9-]{3,40}")
        parser.add_argument("--name", required=True)
        parser.add_argument("--url", required=True, help="the site's public http(s) URL")
        parser.add_argument(
            "--origin",
            action="append",
            dest="origins",
            default=None,
            help="origin allowed to embed the widget (repeatable; default: the URL's origin)",
        )
        parser.add_argument("--contact-email", default="", help="data-protection contact")
        parser.add_argument("--language", default="en")
        parser.add_argument("--admin-email", default="")
        parser.add_argument("--admin-password", default="")

    def run(self, **o):
        created = site_create(
            o["site_id"],
            name=o["name"],
            url=o["url"],
            origins=o["origins"],
            contact_email=o["contact_email"],
            language=o["language"],
            admin_email=o["admin_email"],
            admin_password=o["admin_password"],
        )
        if o["json"]:
            self.emit_json(created.as_dict())
            return
        self.stdout.write(self.style.SUCCESS(f"Created site {created.site.site_id}"))
        self.stdout.write(f"  schema:  {created.site.schema_name}")
        self.stdout.write(f"  admin:   {created.admin_url}")
        self.stdout.write(f"  origins: {', '.join(created.site.allowed_origins)}")
        self.stdout.write("  snippet: " + created.snippet)
