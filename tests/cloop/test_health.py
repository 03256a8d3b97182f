import json

import pytest
from django.test import Client


@pytest.fixture
def client_public(db):
    return Client(HTTP_HOST="localhost")


def test_it_reports_ok_when_database_and_broker_answer(client_public):
    response = client_public.get("/healthz")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["status"] == "ok"


def test_it_reports_503_when_the_broker_is_down(client_public, settings, tmp_path):
    settings.CELERY_BROKER_URL = f"redis+socket://{tmp_path}/no-such.sock"
    response = client_public.get("/healthz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["database"] == "ok"
    assert body["broker"].startswith("error")


def test_it_reports_503_when_the_database_is_down(django_db_setup, django_db_blocker, tmp_path):
    from django.db import connections

    conn = connections["default"]
    saved = dict(conn.settings_dict)
    with django_db_blocker.unblock():
        conn.close()
        # A real outage: the server's socket is not where the settings say. The connection
        # pool was built from the old settings: a new one is built from these.
        conn.close_pool()
        conn.settings_dict["HOST"] = str(tmp_path)
        conn.settings_dict["PORT"] = ""
        try:
            response = Client(HTTP_HOST="localhost").get("/healthz")
        finally:
            conn.close()
            conn.close_pool()
            conn.settings_dict.clear()
            conn.settings_dict.update(saved)
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["database"].startswith("error")
    assert body["broker"] == "ok"


def test_it_answers_on_a_site_host_too(db, site_a):
    response = Client(HTTP_HOST=site_a.host).get("/healthz")
    assert response.status_code == 200
