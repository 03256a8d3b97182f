"""The tenant middleware when the database cannot be reached."""

import logging

from django.test import Client


def test_it_answers_503_with_retry_after_when_the_database_is_down(database_down, caplog):
    with caplog.at_level(logging.INFO):
        response = Client(HTTP_HOST="localhost").get("/admin/login/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"Temporarily unavailable" in response.content
    # One line per refused request, and no traceback (an outage must not flood the log; the
    # pool's own reconnect warnings are psycopg_pool's).
    lines = [r for r in caplog.records if r.name == "tenants.middleware"]
    assert [r.getMessage() for r in lines] == [
        "database unavailable (OperationalError): answered 503"
    ]
    ours = [r for r in list(caplog.records) if not r.name.startswith("psycopg")]
    assert not any(r.exc_info for r in ours)
    assert not any(r.name == "django.request" for r in ours)


def test_it_counts_only_reachability_errors_as_an_outage():
    from django import db
    from psycopg_pool import PoolTimeout

    from tenants.middleware import db_unavailable

    assert db_unavailable(db.OperationalError("connection refused"))
    assert db_unavailable(PoolTimeout("no connection within 10 s"))
    # A bug or bad data still gives a 500 with its traceback.
    assert not db_unavailable(db.ProgrammingError("relation does not exist"))
    assert not db_unavailable(ValueError("a bug"))
