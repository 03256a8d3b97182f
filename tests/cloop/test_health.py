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


def test_it_reports_503_when_the_database_is_down(database_down):
    response = Client(HTTP_HOST="localhost").get("/healthz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["database"].startswith("error")
    assert body["broker"] == "ok"


def test_it_answers_on_a_site_host_too(db, site_a):
    response = Client(HTTP_HOST=site_a.host).get("/healthz")
    assert response.status_code == 200
