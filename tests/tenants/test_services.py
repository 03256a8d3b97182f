import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import schema_context, schema_exists, tenant_context

from tenants.models import Domain, Site
from tenants.services import SiteError, normalise_origin, site_create, site_delete, site_list


def test_it_creates_a_site_with_its_schema_domain_and_admin_user(db):
    created = site_create(
        "acme",
        name="Acme Oy",
        url="https://acme.example/",
        admin_email="owner@acme.example",
        admin_password="a-Strong-pass-42",
    )
    site = created.site
    assert site.schema_name == "s_acme"
    assert site.ready
    assert schema_exists("s_acme")
    assert Domain.objects.get(tenant=site).domain == "acme.localhost"
    assert site.allowed_origins == ["https://acme.example"]
    with tenant_context(site):
        user = get_user_model().objects.get(email="owner@acme.example")
        assert user.is_superuser and user.check_password("a-Strong-pass-42")
    assert created.as_dict()["snippet"] == (
        '<script src="http://localhost:8000/widget.js" data-site="acme" async></script>'
    )


def test_it_gives_new_sites_every_tenant_table(db, site_a):
    created = site_create("tables", name="T", url="https://t.example/")
    query = "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1"
    with connection.cursor() as cur:
        cur.execute(query, [site_a.schema_name])
        expected = [r[0] for r in cur.fetchall()]
        cur.execute(query, [created.site.schema_name])
        assert [r[0] for r in cur.fetchall()] == expected
    assert "auth_user" in expected


def test_it_deletes_the_site_and_drops_its_schema(db):
    site_create("gone", name="Gone", url="https://gone.example/")
    site_delete("gone")
    assert not Site.objects.filter(site_id="gone").exists()
    assert not Domain.objects.filter(domain="gone.localhost").exists()
    assert not schema_exists("s_gone")


@pytest.mark.parametrize(
    ("site_id", "message"),
    [
        ("ab", "invalid site id"),
        ("Acme", "invalid site id"),
        ("acme_oy", "invalid site id"),
        ("-acme", "invalid site id"),
        ("a" * 41, "invalid site id"),
        ("www", "reserved"),
        ("site-a", "is taken"),
    ],
)
def test_it_refuses_bad_or_taken_site_ids(db, site_a, site_id, message):
    with pytest.raises(SiteError, match=message):
        site_create(site_id, name="X", url="https://x.example/")


@pytest.mark.parametrize("url", ["notaurl", "ftp://x.example/", "javascript:alert(1)", ""])
def test_it_refuses_bad_urls(db, url):
    with pytest.raises(SiteError, match="invalid URL"):
        site_create("badurl", name="X", url=url)
    assert not Site.objects.filter(site_id="badurl").exists()


def test_it_refuses_half_given_admin_credentials(db):
    with pytest.raises(SiteError, match="both --admin-email and --admin-password"):
        site_create("halfadmin", name="X", url="https://x.example/", admin_email="a@x.example")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://Example.com", "https://example.com"),
        ("https://example.com:443/", "https://example.com"),
        ("http://example.com:8080", "http://example.com:8080"),
    ],
)
def test_it_normalises_origins(given, expected):
    assert normalise_origin(given) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "example.com",
        "https://example.com/path",
        "https://u:p@example.com",
        "null",
        # urlsplit and .port raise ValueError for these; origins come from clients.
        "http://localhost:99999",
        "http://[::1",
        "http://example.com:-1",
        "https://[::1]:port",
    ],
)
def test_it_refuses_things_that_are_not_origins(bad):
    with pytest.raises(SiteError, match="invalid origin"):
        normalise_origin(bad)


def test_it_keeps_one_sites_rows_invisible_from_another(db, site_a, site_b):
    User = get_user_model()
    with tenant_context(site_a):
        User.objects.create_user("only-in-a", "a@a.example", "pw-123456789")
        assert User.objects.filter(username="only-in-a").exists()
    with tenant_context(site_b):
        assert not User.objects.filter(username="only-in-a").exists()
    with schema_context("public"):
        assert not User.objects.filter(username="only-in-a").exists()


def test_it_lists_sites_without_the_public_schema(db, site_a, site_b):
    ids = [s["site_id"] for s in site_list()]
    assert ids == ["site-a", "site-b"]


def test_it_migrates_a_stale_template_schema_before_cloning(db):
    from django.conf import settings

    from tenants.services import base_schema_ensure

    base = settings.TENANT_BASE_SCHEMA
    with connection.cursor() as cur:
        # Make the template look one migration behind: forget it applied sessions.0001.
        cur.execute(
            f'DELETE FROM "{base}".django_migrations WHERE app = %s AND name = %s',
            ["sessions", "0001_initial"],
        )
        cur.execute(f'DROP TABLE "{base}".django_session')
    assert base_schema_ensure() is True
    assert base_schema_ensure() is False
    created = site_create("fresh", name="F", url="https://f.example/")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = 'django_session'",
            [created.site.schema_name],
        )
        assert cur.fetchone()


def test_it_updates_only_the_site_fields_it_is_given(db, site_a):
    from tenants.models import Site
    from tenants.services import site_update

    before = Site.objects.get(pk=site_a.pk)
    site = Site.objects.get(pk=site_a.pk)
    site_update(site, allowed_origins=("https://x.test",))
    stored = Site.objects.get(pk=site_a.pk)
    assert stored.allowed_origins == ["https://x.test"] == site.allowed_origins
    assert stored.contact_email == before.contact_email
    site_update(site, contact_email="")
    assert Site.objects.get(pk=site_a.pk).contact_email == "" == site.contact_email


def test_it_normalises_origins_and_names_a_bad_one():
    from tenants.services import SiteError, origins_normalise

    assert origins_normalise(["https://B.test:443/", "http://a.test:8080", "https://b.test"]) == [
        "http://a.test:8080",
        "https://b.test",
    ]
    with pytest.raises(SiteError, match="invalid origin ''"):
        origins_normalise(["https://a.test", ""])
