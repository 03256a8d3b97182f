import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conversations.models import DataRequest
from conversations.privacy import privacy
from tests.conversations.admin_data import conversation_make, person_make, visitor_make


def _token(site, username="api@site.test", staff=True) -> str:
    with tenant_context(site):
        user = get_user_model().objects.create_user(username, username, "pw-123456", is_staff=staff)
        return Token.objects.create(user=user).key


@pytest.fixture
def api_a(site_a, db):
    client = APIClient(HTTP_HOST=site_a.host)
    client.credentials(HTTP_AUTHORIZATION=f"Token {_token(site_a)}")
    return client


def test_it_refuses_anonymous_non_staff_and_other_sites_tokens(site_a, site_b, db):
    assert APIClient(HTTP_HOST=site_a.host).get("/api/v1/conversations/").status_code == 401
    plain = APIClient(HTTP_HOST=site_a.host)
    plain.credentials(HTTP_AUTHORIZATION=f"Token {_token(site_a, 'plain@a.test', staff=False)}")
    assert plain.get("/api/v1/conversations/").status_code == 403
    token_a = _token(site_a, "a@a.test")
    on_b = APIClient(HTTP_HOST=site_b.host)
    on_b.credentials(HTTP_AUTHORIZATION=f"Token {token_a}")
    assert on_b.get("/api/v1/conversations/").status_code == 401
    # The API is not served on Cloop's own host at all.
    on_public = APIClient(HTTP_HOST="localhost")
    on_public.credentials(HTTP_AUTHORIZATION=f"Token {token_a}")
    assert on_public.get("/api/v1/conversations/").status_code == 404


def test_it_issues_a_token_for_the_sites_own_users(site_a, site_b, db):
    with tenant_context(site_a):
        get_user_model().objects.create_user("t@a.test", "t@a.test", "pw-123456", is_staff=True)
    got = APIClient(HTTP_HOST=site_a.host).post(
        "/api/v1/auth/token/", {"username": "t@a.test", "password": "pw-123456"}
    )
    assert got.status_code == 200 and got.json()["token"]
    refused = APIClient(HTTP_HOST=site_b.host).post(
        "/api/v1/auth/token/", {"username": "t@a.test", "password": "pw-123456"}
    )
    assert refused.status_code == 400


def test_it_lists_only_this_sites_conversations_with_detail(api_a, site_a, site_b):
    with tenant_context(site_b):
        conversation_make(visitor_make(), start="https://site-b.test/b-only")
    with tenant_context(site_a):
        v, convs, _ = person_make("api@example.com", messages=4)
        other = conversation_make(visitor_make(), phase="learning")
    body = api_a.get("/api/v1/conversations/").json()
    assert body["count"] == 2
    assert "b-only" not in str(body)
    row = next(r for r in body["results"] if r["id"] == convs[0].pk)
    assert row["message_count"] == 4 and row["has_email"] is True
    assert [
        r["id"] for r in api_a.get("/api/v1/conversations/?phase=learning").json()["results"]
    ] == [other.pk]
    with tenant_context(site_a):
        convs[0].messages.filter(role="assistant").update(feedback="down")
    detail = api_a.get(f"/api/v1/conversations/{convs[0].pk}/").json()
    assert len(detail["messages"]) == 4 and detail["phase_history"]
    assert {m["role"]: m["feedback"] for m in detail["messages"]} == {
        "visitor": "",
        "assistant": "down",
    }
    assert detail["messages"][1]["sources"][0]["url"] == "https://site.test/pricing"


def test_it_lists_leads_and_streams_csv_without_objected_ones(api_a, site_a):
    with tenant_context(site_a):
        person_make("keep@example.com")
        v, _, _ = person_make("obj@example.com")
        privacy.subject_object(visitor_id=str(v.id))
    leads = api_a.get("/api/v1/leads/").json()["results"]
    assert [x["email"] for x in leads] == ["keep@example.com"]
    response = api_a.get("/api/v1/leads.csv")
    assert response.status_code == 200 and response.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["email"] for r in rows] == ["keep@example.com"]


def test_it_creates_extends_and_carries_out_data_requests(api_a, site_a):
    with tenant_context(site_a):
        v, _, _ = person_make("subj@example.com")
    bad = api_a.post("/api/v1/data-requests/", {"kind": "erasure"}, format="json")
    assert bad.status_code == 400
    created = api_a.post(
        "/api/v1/data-requests/",
        {"kind": "erasure", "subject_email": "subj@example.com", "received_on": "2026-11-01"},
        format="json",
    )
    assert created.status_code == 201, created.content
    req = created.json()
    assert req["due_on"] == "2026-12-01" and req["status"] == "open"
    extend = api_a.post(
        f"/api/v1/data-requests/{req['id']}/act/",
        {"action": "extend", "reason": "complex"},
        format="json",
    )
    assert extend.json()["request"]["extended_until"] == "2027-01-30"
    done = api_a.post(f"/api/v1/data-requests/{req['id']}/act/", {}, format="json")
    assert done.status_code == 200
    assert done.json()["counts"]["leads"] == 1
    assert done.json()["request"]["status"] == "done"
    again = api_a.post(f"/api/v1/data-requests/{req['id']}/act/", {}, format="json")
    assert again.status_code == 400 and "already done" in again.json()["detail"]
    with tenant_context(site_a):
        assert privacy.schema_scan(["subj@example.com", str(v.id)]) == []
    listed = api_a.get("/api/v1/data-requests/").json()["results"]
    assert [r["id"] for r in listed] == [req["id"]]


def test_it_returns_the_export_for_an_access_request(api_a, site_a):
    with tenant_context(site_a):
        person_make("acc@example.com")
        r = DataRequest.objects.create(kind="access", subject_email="acc@example.com")
    body = api_a.post(f"/api/v1/data-requests/{r.pk}/act/", {}, format="json").json()
    assert body["export"]["leads"][0]["email"] == "acc@example.com"
    assert body["export"]["information"]["rights"]


def test_it_reads_and_updates_site_settings(api_a, site_a):
    got = api_a.get("/api/v1/settings/").json()
    assert "conversation_retention_days" in got and "allowed_origins" in got
    patched = api_a.patch(
        "/api/v1/settings/",
        {
            "company_name": "A Oy",
            "allowed_origins": ["https://A.test:443"],
            "lead_retention_days": 30,
        },
        format="json",
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["allowed_origins"] == ["https://a.test"]
    assert patched.json()["company_name"] == "A Oy"
    bad = api_a.patch("/api/v1/settings/", {"allowed_origins": ["nope"]}, format="json")
    assert bad.status_code == 400
    assert type(site_a).objects.get(pk=site_a.pk).allowed_origins == ["https://a.test"]


def test_it_lists_and_starts_crawl_runs(api_a, site_a):
    started = api_a.post("/api/v1/crawl-runs/")
    assert started.status_code == 202, started.content
    assert started.json()["status"] == "queued"
    busy = api_a.post("/api/v1/crawl-runs/")
    assert busy.status_code == 409
    runs = api_a.get("/api/v1/crawl-runs/").json()
    assert [r["id"] for r in runs] == [started.json()["id"]]


def test_it_serves_the_openapi_schema_and_self_hosted_docs(api_a):
    schema = api_a.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for p in (
        "/api/v1/conversations/",
        "/api/v1/leads.csv",
        "/api/v1/data-requests/{id}/act/",
        "/api/v1/settings/",
        "/api/v1/crawl-runs/",
    ):
        assert p in paths
    docs = api_a.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"cdn." not in docs.content and b"/static/drf_spectacular_sidecar/" in docs.content


def test_it_serves_the_schema_to_many_clients_at_once(live_server, site_a):
    """drf-spectacular's generation is not thread-safe; ASGI runs each request on its own
    thread (bench/soak.py saw a 500 when two arrived together)."""
    import asyncio

    import httpx

    token = _token(site_a)

    async def fetch_all():
        async with httpx.AsyncClient(
            base_url=live_server.url,
            headers={
                "Host": f"{site_a.host}:{live_server.port}",
                "Authorization": f"Token {token}",
            },
            timeout=120,
        ) as client:
            responses = await asyncio.gather(
                *(client.get("/api/v1/schema/?format=json") for _ in range(24))
            )
        return [r.status_code for r in responses]

    assert asyncio.run(fetch_all()) == [200] * 24
