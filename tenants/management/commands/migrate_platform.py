from django.core.management import call_command
from django.core.management.base import BaseCommand

from tenants.services import base_schema_ensure


class Command(BaseCommand):
    help = (
        "Migrate everything: the public schema, the template schema new sites are cloned "
        "from, then every site's schema in parallel."
    )

    def add_arguments(self, parser):
        parser.add_argument("--processes", type=int, default=None)

    def handle(self, *args, **o):
        verbosity = o["verbosity"]
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
        base_schema_ensure(verbosity=verbosity)
        call_command(
            "migrate_schemas",
            tenant=True,
            interactive=False,
            verbosity=verbosity,
            executor="multiprocessing",
        )
