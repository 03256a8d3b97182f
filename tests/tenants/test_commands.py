import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import schema_exists


def run(*args, stdin=None) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **({"stdin": stdin} if stdin else {}))
    return out.getvalue()


def test_it_creates_a_site_and_prints_its_admin_url_and_snippet(db):
    out = run("create_site", "acme", "--name", "Acme Oy", "--url", "https://acme.example/")
    assert "http://acme.localhost:8000/admin/" in out
    assert '<script src="http://localhost:8000/widget.js" data-site="acme" async></script>' in out


def test_it_prints_json_as_the_last_line(db):
    out = run(
        "create_site",
        "acme",
        "--name",
        "Acme Oy",
        "--url",
        "https://acme.example/",
        "--origin",
        "https://www.acme.example",
        "--origin",
        "https://acme.example",
        "--json",
    )
    data = json.loads(out.strip().splitlines()[-1])
    assert data == {
        "site_id": "acme",
        "schema_name": "s_acme",
        "admin_url": "http://acme.localhost:8000/admin/",
        "snippet": '<script src="http://localhost:8000/widget.js" data-site="acme" async></script>',
    }
    listed = json.loads(run("list_sites", "--json").strip().splitlines()[-1])
    acme = next(s for s in listed if s["site_id"] == "acme")
    assert acme["allowed_origins"] == ["https://acme.example", "https://www.acme.example"]
    assert acme["ready"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create_site", "site-a", "--name", "A", "--url", "https://a.example/"], "is taken"),
        (
            ["create_site", "Bad_Id", "--name", "A", "--url", "https://a.example/"],
            "invalid site id",
        ),
        (["create_site", "okay", "--name", "A", "--url", "not a url"], "invalid URL"),
        (
            [
                "create_site",
                "okay",
                "--name",
                "A",
                "--url",
                "https://a.example/",
                "--origin",
                "nope",
            ],
            "invalid origin",
        ),
        (
            [
                "create_site",
                "okay",
                "--name",
                "A",
                "--url",
                "https://a.example/",
                "--contact-email",
                "x@",
            ],
            "invalid e-mail",
        ),
        (["delete_site", "nope", "--yes"], "unknown site"),
    ],
)
def test_it_reports_clear_errors(db, site_a, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_it_lists_sites_for_humans(db, site_a, site_b):
    out = run("list_sites")
    assert "site-a" in out and "site-b" in out and "ready" in out


def test_it_deletes_only_after_the_site_id_is_typed(db):
    run("create_site", "doomed", "--name", "D", "--url", "https://d.example/")
    with pytest.raises(CommandError, match="not confirmed"):
        run("delete_site", "doomed", stdin=io.StringIO("yes\n"))
    assert schema_exists("s_doomed")
    out = run("delete_site", "doomed", stdin=io.StringIO("doomed\n"))
    assert "Deleted site doomed" in out
    assert not schema_exists("s_doomed")


def test_it_deletes_without_asking_with_yes(db):
    run("create_site", "doomed", "--name", "D", "--url", "https://d.example/")
    run("delete_site", "doomed", "--yes")
    assert not schema_exists("s_doomed")
