"""Create the `demo` site once (used by `make run`) and print its admin login."""

import secrets

from django.core.management.base import BaseCommand

from cloop import embedded
from tenants import urls
from tenants.models import Site
from tenants.services import site_create

DEMO_SITE_ID = "demo"
DEMO_ADMIN = "admin@demo.example"


class Command(BaseCommand):
    help = "Create the demo site (idempotent) and print its admin login."

    def handle(self, *args, **o):
        secret_file = embedded.data_dir() / "demo-admin-password.txt"
        if not Site.objects.filter(site_id=DEMO_SITE_ID).exists():
            password = secrets.token_urlsafe(12)
            site_create(
                DEMO_SITE_ID,
                name="Northwind Bikes (demo)",
                url=urls.public_base_url() + "/demo/",
                origins=[urls.public_base_url()],
                contact_email="privacy@northwind.example",
                admin_email=DEMO_ADMIN,
                admin_password=password,
            )
            secret_file.write_text(password + "\n")
            secret_file.chmod(0o600)
            self.stdout.write(f"[cloop] created the demo site '{DEMO_SITE_ID}'")
        password = secret_file.read_text().strip() if secret_file.exists() else "(see create_site)"
        self.stdout.write(
            f"[cloop] demo admin login: {urls.admin_url(DEMO_SITE_ID)}  "
            f"user {DEMO_ADMIN}  password {password}"
        )
