"""Shared plumbing for staff commands: `--json` output and clear errors."""

import argparse
import json

from django.core.management.base import BaseCommand, CommandError
from django.db.utils import ProgrammingError

from tenants.services import SiteError


class StaffCommand(BaseCommand):
    """Subclasses implement `run(**options)`; a SiteError becomes a one-line CommandError,
    and so does a table missing because the database was never migrated."""

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
        except ProgrammingError as exc:
            if not table_missing(exc):
                raise
            raise CommandError(
                "the database is not migrated (or is missing a newer migration): "
                "run `manage.py migrate_platform` first"
            ) from exc

    def emit_json(self, data) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False, default=str))


def table_missing(exc: BaseException) -> bool:
    """Whether a database error is PostgreSQL's "relation ... does not exist" (42P01)."""
    cause = exc.__cause__ or exc
    return getattr(cause, "sqlstate", None) == "42P01"


def int_between(low: int, high: int | None = None):
    """An argparse `type` for a whole number in [low, high] (no upper bound when high is None),
    so a bad value is reported by argparse as one line naming the option."""

    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if high is None and n < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}")
        if high is not None and not low <= n <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return n

    return parse
