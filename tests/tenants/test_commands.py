import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import schema_exists

from tenants.services import sites_without_schema


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


def test_it_prints_the_snippet_again_and_lists_it(db):
    """The customer's snippet is never lost after create_site: `snippet` prints the very line
    create_site printed, and list_sites --json carries it (the earlier keys kept)."""
    created = json.loads(
        run("create_site", "acme", "--name", "A", "--url", "https://acme.example/", "--json")
        .strip()
        .splitlines()[-1]
    )
    line = '<script src="http://localhost:8000/widget.js" data-site="acme" async></script>'
    assert created["snippet"] == line
    assert run("snippet", "acme").strip() == line
    data = json.loads(run("snippet", "acme", "--json").strip().splitlines()[-1])
    assert data["snippet"] == line
    assert data["install_url"] == "http://acme.localhost:8000/admin/widget/embedcheck/"
    assert data["allowed_origins"] == ["https://acme.example"]
    listed = json.loads(run("list_sites", "--json").strip().splitlines()[-1])
    acme = next(s for s in listed if s["site_id"] == "acme")
    assert acme["snippet"] == line
    assert {
        "site_id",
        "name",
        "url",
        "schema_name",
        "allowed_origins",
        "ready",
        "admin_url",
        "created_at",
    } < set(acme)
    with pytest.raises(CommandError, match="unknown site 'nope'"):
        run("snippet", "nope")


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


@pytest.fixture
def unmigrated_database_url(django_db_setup, django_db_blocker):
    """A fresh, empty database on the same PostgreSQL server, as a DATABASE_URL."""
    import uuid
    from urllib.parse import quote

    import psycopg
    from django.db import connection

    s = connection.settings_dict
    name = f"cloop_unmigrated_{uuid.uuid4().hex[:8]}"
    params = {"host": s["HOST"], "port": s["PORT"] or None, "user": s["USER"]}
    params = {k: v for k, v in params.items() if v}
    with psycopg.connect(
        dbname="postgres", password=s["PASSWORD"] or None, autocommit=True, **params
    ) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    netloc = f"{quote(s['USER'])}:{quote(s['PASSWORD'] or '')}@"
    if s["HOST"].startswith("/"):
        url = f"postgresql://{netloc}/{name}?host={quote(s['HOST'])}"
    else:
        url = f"postgresql://{netloc}{s['HOST']}:{s['PORT'] or 5432}/{name}"
    yield url
    with psycopg.connect(
        dbname="postgres", password=s["PASSWORD"] or None, autocommit=True, **params
    ) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize(
    "args", [["list_sites"], ["create_site", "acme", "--name", "A", "--url", "https://a.example/"]]
)
def test_it_says_to_migrate_when_the_database_is_not_migrated(unmigrated_database_url, args):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = dict(
        os.environ,
        DATABASE_URL=unmigrated_database_url,
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="cloop.settings",
    )
    done = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-3000:]
    assert "manage.py migrate_platform" in lines[0]


def test_it_checks_that_every_schema_is_migrated_without_migrating(db, site_b):
    from django.db import connection

    assert run("migrate_platform", "--check").strip() == "every schema is migrated"
    with connection.cursor() as cur:  # site B "misses" its newest conversations migration
        cur.execute(
            f'DELETE FROM "{site_b.schema_name}".django_migrations WHERE id = ('
            f'SELECT max(id) FROM "{site_b.schema_name}".django_migrations '
            "WHERE app = 'conversations')"
        )
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("migrate_platform", "--check", stdout=out)
    assert exit_.value.code == 1
    assert out.getvalue().strip() == f"unapplied migrations in 1 schemas: {site_b.schema_name}"


def test_it_names_sites_whose_schema_is_missing_before_migrating(db, site_a, site_b):
    from django.db import connection

    with connection.cursor() as cur:  # dropped inside the test's transaction: rolled back
        cur.execute(f'DROP SCHEMA "{site_b.schema_name}" CASCADE')
    with pytest.raises(CommandError) as error:
        call_command("migrate_platform", stdout=io.StringIO())
    message = str(error.value)
    assert f"{site_b.site_id} (schema {site_b.schema_name})" in message
    assert site_a.site_id not in message
    assert "Nothing was migrated" in message and "delete_site" in message
    # The way out it names works on such a site.
    call_command("delete_site", site_b.site_id, "--yes", stdout=io.StringIO())
    assert sites_without_schema() == []
