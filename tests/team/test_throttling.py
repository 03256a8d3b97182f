"""Login throttling (django-axes) keyed on the account, storing no IP address."""

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client


def login(client, username, password):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR="203.0.113.77",
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux) Probe/1.0",
    )


def axes_rows_text() -> str:
    """Every value of every axes table in the current schema, as one text."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename LIKE 'axes_%%'"
        )
        tables = [r[0] for r in cur.fetchall()]
        assert "axes_accessattempt" in tables
        text = []
        for table in tables:
            cur.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from pg_tables
            text += [repr(row) for row in cur.fetchall()]
    return "\n".join(text)


def test_it_locks_the_account_after_five_failures_and_stores_no_ip(in_site_a, site_a, settings):
    users = get_user_model().objects
    users.create_superuser("owner@a.test", "owner@a.test", "right-pw-123")
    users.create_superuser("other@a.test", "other@a.test", "right-pw-456")
    client = Client(HTTP_HOST=site_a.host)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = login(client, "owner@a.test", "guess")
        assert response.status_code == 200 and b"errornote" in response.content
    locked = login(client, "owner@a.test", "guess")
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    # The right password does not open a locked account either.
    assert login(client, "owner@a.test", "right-pw-123").status_code == 429
    # Keyed on the account: another user on the same address signs in.
    assert login(client, "other@a.test", "right-pw-456").status_code == 302

    stored = axes_rows_text()
    assert "owner@a.test" in stored  # the throttling works on what is stored
    assert "203.0.113.77" not in stored and "127.0.0.1" not in stored
    assert "Probe/1.0" not in stored
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM axes_accessattempt WHERE ip_address IS NOT NULL")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM axes_accesslog")
        assert cur.fetchone()[0] == 0  # successful logins are not logged
