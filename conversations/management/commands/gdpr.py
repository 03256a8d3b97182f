"""`manage.py gdpr <site_id> export|erase|object (--email E | --visitor-id V) [--json]`.

The same functions as the admin's data-request actions (conversations.privacy.privacy).
"""

import json as jsonlib

from django.core.management.base import CommandError
from django_tenants.utils import tenant_context

from conversations.privacy import privacy
from conversations.privacy.access_log import Action, Channel, access_command_user, access_record
from tenants.management.commands._base import StaffCommand
from tenants.services import site_get_ready


class Command(StaffCommand):
    help = "Export, erase or flag as objecting everything about one data subject of a site."

    def add_command_arguments(self, parser):
        parser.add_argument("site_id")
        parser.add_argument("action", choices=["export", "erase", "object"])
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--email")
        who.add_argument("--visitor-id", dest="visitor_id")
        parser.add_argument("--yes", action="store_true", help="erase without asking")
        parser.add_argument("-o", "--output", help="export: write the JSON to this file")
        parser.add_argument("--html", help="export: also write the readable page to this file")

    def run(self, site_id, action, email=None, visitor_id=None, json=False, **options):
        site = site_get_ready(site_id)
        asks = not (options.get("yes") or json) and options.get("interactive", True)
        if action == "erase" and asks:
            _confirm(f"Erase everything about {email or visitor_id}? [y/N] ")
        try:
            with tenant_context(site):
                if action == "export":
                    result = _export(email, visitor_id, options)
                elif action == "erase":
                    result = privacy.subject_erase(
                        email, visitor_id, handled_by="gdpr command", widen=True
                    )
                else:
                    result = privacy.subject_object(
                        email, visitor_id, handled_by="gdpr command", widen=True
                    )
        except privacy.PrivacyError as exc:
            raise CommandError(str(exc)) from exc
        if json:
            self.emit_json({"site_id": site_id, "action": action, "result": result})
        elif action == "export" and not options.get("output"):
            self.stdout.write(jsonlib.dumps(result, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(
                f"{action}: {jsonlib.dumps(result if action != 'export' else 'written')}"
            )


def _confirm(question: str) -> None:
    try:
        answer = input(question)
    except EOFError:  # no terminal (a script): not a yes
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise CommandError("cancelled; nothing was erased")


def _export(email, visitor_id, options) -> dict:
    """Inside the site's schema: the export, logged as read, written to the files asked for."""
    result = privacy.subject_export(email, visitor_id, widen=True)
    access_record(
        channel=Channel.COMMAND,
        action=Action.SUBJECT_EXPORT,
        username=access_command_user(),
        object_type="subject",
        subject=(email, visitor_id),
    )
    if options.get("html"):
        _write(options["html"], privacy.subject_export_html(result))
    if options.get("output"):
        _write(options["output"], jsonlib.dumps(result, ensure_ascii=False, indent=2))
    return result


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from exc
