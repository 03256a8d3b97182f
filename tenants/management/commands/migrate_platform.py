from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from tenants.services import base_schema_ensure, platform_pending_migrations, sites_without_schema


class Command(BaseCommand):
    help = (
        "Migrate everything: the public schema, the template schema new sites are cloned "
        "from, then every site's schema in parallel."
    )

    def add_arguments(self, parser):
        parser.add_argument("--processes", type=int, default=None)
        parser.add_argument(
            "--check",
            action="store_true",
            help="Migrate nothing; exit 1 while any schema has unapplied migrations "
            "(what web pods wait for during a deploy, deploy/k8s/).",
        )

    def handle(self, *args, **o):
        verbosity = o["verbosity"]
        if o["check"]:
            pending = platform_pending_migrations()
            if pending:
                shown = ", ".join(pending[:5]) + (" ..." if len(pending) > 5 else "")
                self.stdout.write(f"unapplied migrations in {len(pending)} schemas: {shown}")
                raise SystemExit(1)
            self.stdout.write("every schema is migrated")
            return
        # Checked before migrating anything: a site row without its schema means lost data
        # (or a partial restore) that needs a person, not a half-migrated platform.
        missing = sites_without_schema()
        if missing:
            names = ", ".join(f"{site_id} (schema {schema})" for site_id, schema in missing)
            raise CommandError(
                f"{len(missing)} site(s) have no schema: {names}. Nothing was migrated. "
                "Restore the schema from a backup, or remove the site with "
                "`manage.py delete_site <site_id>`."
            )
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
        base_schema_ensure(verbosity=verbosity)
        call_command(
            "migrate_schemas",
            tenant=True,
            interactive=False,
            verbosity=verbosity,
            executor="multiprocessing",
        )
