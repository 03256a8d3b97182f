"""Error paths of the conversations staff commands: one clear CommandError, nothing written."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tenants.models import Site

COMMANDS = [
    ["ask", "{site}", "Hello?"],
    ["gdpr", "{site}", "export", "--email", "a@example.com"],
    ["export_leads", "{site}"],
    ["purge_expired", "--site", "{site}"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_it_names_an_unknown_site(db, args):
    with pytest.raises(CommandError, match="unknown site 'no-such-site'"):
        call_command(*[a.format(site="no-such-site") for a in args])


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_it_refuses_a_site_whose_schema_is_not_ready(db, site_a, args):
    Site.objects.filter(pk=site_a.pk).update(ready=False)
    with pytest.raises(CommandError, match="not ready"):
        call_command(*[a.format(site=site_a.site_id) for a in args])


@pytest.mark.parametrize(
    "args",
    [
        ["gdpr", "site-a", "export", "--email", "a@example.com", "-o", "{dir}/no/x.json"],
        ["gdpr", "site-a", "export", "--email", "a@example.com", "--html", "{dir}/no/x.html"],
        ["export_leads", "site-a", "-o", "{dir}/no/leads.csv"],
    ],
    ids=["gdpr-json", "gdpr-html", "export_leads"],
)
def test_it_reports_an_unwritable_output_file(db, site_a, tmp_path, args):
    with pytest.raises(CommandError, match="cannot write .*No such file or directory"):
        call_command(*[a.format(dir=tmp_path) for a in args])


def test_it_rejects_bad_arguments(db, site_a):
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("gdpr", "site-a", "forget", "--email", "a@example.com")
    with pytest.raises(CommandError, match="one of the arguments --email --visitor-id"):
        call_command("gdpr", "site-a", "export")
    with pytest.raises(CommandError, match="the question is empty"):
        call_command("ask", "site-a", "   ")


def test_it_cancels_an_erase_when_stdin_is_closed(db, site_a, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="cancelled; nothing was erased"):
        call_command("gdpr", "site-a", "erase", "--email", "a@example.com")
