"""Site provisioning: create, list, delete. Every entry point (commands, admin, tests) calls these.

Preconditions: called from sync code with the connection on the public schema (the default
outside a tenant_context). Each function leaves the connection on the public schema.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.validators import URLValidator, validate_email
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import (
    get_public_schema_name,
    schema_context,
    schema_exists,
    tenant_context,
)

from tenants import urls
from tenants.models import RESERVED_SITE_IDS, SITE_ID_RE, Domain, Site, schema_name_for

log = logging.getLogger(__name__)


class SiteError(Exception):
    """A request about a site that cannot be carried out; the message is for the user."""


@dataclass(frozen=True)
class SiteCreated:
    site: Site
    admin_url: str
    snippet: str

    def as_dict(self) -> dict:
        return {
            "site_id": self.site.site_id,
            "schema_name": self.site.schema_name,
            "admin_url": self.admin_url,
            "snippet": self.snippet,
        }


def validate_site_id(site_id: str) -> str:
    if not isinstance(site_id, str) or not SITE_ID_RE.match(site_id):
        raise SiteError(
            f"invalid site id {site_id!r}: use 3-40 lowercase letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    if site_id in RESERVED_SITE_IDS:
        raise SiteError(f"site id {site_id!r} is reserved; choose another")
    return site_id


def validate_site_url(url: str) -> str:
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise SiteError(f"invalid URL {url!r}: give the site's public http(s) address") from None
    return url


def normalise_origin(origin: str) -> str:
    """`https://Example.com:443/path` → `https://example.com`; raises SiteError if not an origin.

    Any string is safe to pass (origins come from clients): urlsplit's and `.port`'s
    ValueError (`http://[::1`, `http://host:99999`) become SiteError too.
    """
    if not isinstance(origin, str):
        raise SiteError(f"invalid origin {origin!r}: expected scheme://host[:port]")
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        raise SiteError(f"invalid origin {origin!r}: expected scheme://host[:port]") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SiteError(f"invalid origin {origin!r}: expected scheme://host[:port]")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise SiteError(
            f"invalid origin {origin!r}: an origin has no credentials, query or fragment"
        )
    if parts.path not in ("", "/"):
        raise SiteError(f"invalid origin {origin!r}: an origin has no path")
    host = parts.hostname.lower()
    default_port = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default_port else "")


def origins_normalise(origins) -> list[str]:
    """Each origin normalised, de-duplicated and sorted; SiteError on the first bad one."""
    return sorted({normalise_origin(o) for o in origins})


def validate_contact_email(email: str) -> str:
    try:
        validate_email(email)
    except ValidationError:
        raise SiteError(f"invalid e-mail address {email!r}") from None
    return email


def base_schema_ensure(verbosity: int = 0) -> bool:
    """Create or migrate the template schema new sites are cloned from.

    Returns True if it had to migrate. Keeps cloning correct after new migrations land: a
    stale template would give new sites a schema their recorded migrations do not match.
    """
    base = settings.TENANT_BASE_SCHEMA
    if schema_exists(base) and not _schema_has_pending_migrations(base):
        return False
    with connection.cursor() as cur:
        cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{base}"')
    call_command(
        "migrate_schemas", tenant=True, schema_name=base, interactive=False, verbosity=verbosity
    )
    connection.set_schema_to_public()  # type: ignore[attr-defined]  # django-tenants' connection
    return True


def platform_pending_migrations() -> list[str]:
    """Schemas not fully migrated: public, the template, then every site (missing ones too).

    Precondition: the public schema is reachable (its Site table may not exist yet: then
    public itself is reported). One query per schema against the graph loaded once, so it
    stays cheap with thousands of sites (deploy/k8s: web pods wait on it for the migrate Job).
    """
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    leaves = set(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes())

    def pending(schema: str) -> bool:
        if not schema_exists(schema):
            return True
        with schema_context(schema):
            recorder = MigrationRecorder(connection)
            return not recorder.has_table() or not leaves <= set(recorder.applied_migrations())

    public = get_public_schema_name()
    if pending(public):
        return [public]
    schemas = [settings.TENANT_BASE_SCHEMA]
    schemas += Site.objects.exclude(schema_name=public).values_list("schema_name", flat=True)
    return [schema for schema in schemas if pending(schema)]


def sites_without_schema() -> list[tuple[str, str]]:
    """(site_id, schema_name) of sites whose schema is gone (dropped by hand, a partial restore).

    Precondition: public schema. Before the public schema is migrated there are no sites: [].
    django-tenants would fail inside such a schema's migration with "no schema has been
    selected to create in"; migrate_platform names the sites instead.
    """
    if Site._meta.db_table not in connection.introspection.table_names():
        return []
    with connection.cursor() as cur:  # one query, not one per site: thousands of sites
        cur.execute("SELECT nspname FROM pg_namespace")
        schemas = {row[0] for row in cur.fetchall()}
    sites = Site.objects.exclude(schema_name=get_public_schema_name()).order_by("site_id")
    return [
        (s.site_id, s.schema_name)
        for s in sites.only("site_id", "schema_name")
        if s.schema_name not in schemas
    ]


def _schema_has_pending_migrations(schema: str) -> bool:
    with schema_context(schema):
        executor = MigrationExecutor(connection)
        targets = executor.loader.graph.leaf_nodes()
        return bool(executor.migration_plan(targets))


def site_create(
    site_id: str,
    *,
    name: str,
    url: str,
    origins: list[str] | None = None,
    contact_email: str = "",
    language: str = "en",
    admin_email: str = "",
    admin_password: str = "",
) -> SiteCreated:
    """Validate, create the Site and Domain rows, clone the schema and add the first admin user."""
    validate_site_id(site_id)
    if not name or not name.strip():
        raise SiteError("a site needs a name (--name)")
    validate_site_url(url)
    if contact_email:
        validate_contact_email(contact_email)
    if bool(admin_email) != bool(admin_password):
        raise SiteError("give both --admin-email and --admin-password, or neither")
    if admin_email:
        validate_contact_email(admin_email)
    if language not in dict(settings.LANGUAGES):
        raise SiteError(
            f"unsupported language {language!r}; choose one of {dict(settings.LANGUAGES)}"
        )
    allowed = sorted({normalise_origin(o) for o in (origins or [url])})
    if Site.objects.filter(site_id=site_id).exists():
        raise SiteError(f"site id {site_id!r} is taken")

    base_schema_ensure()
    with transaction.atomic():
        site = Site.objects.create(
            site_id=site_id,
            schema_name=schema_name_for(site_id),
            name=name.strip(),
            url=url,
            allowed_origins=allowed,
            contact_email=contact_email,
            language=language,
        )
        Domain.objects.create(domain=site.host, tenant=site, is_primary=True)
    try:
        site.create_schema(check_if_exists=True, verbosity=0)
        if admin_email:
            with tenant_context(site):
                from django.contrib.auth import get_user_model

                get_user_model().objects.create_superuser(
                    username=admin_email, email=admin_email, password=admin_password
                )
    except Exception:
        # Leave nothing half-made: drop the schema and the rows.
        log.exception("creating the schema of site %s failed; rolling back", site_id)
        site.delete(force_drop=True)
        raise
    finally:
        connection.set_schema_to_public()  # type: ignore[attr-defined]  # django-tenants' connection
    Site.objects.filter(pk=site.pk).update(ready=True)
    site.ready = True
    return SiteCreated(site=site, admin_url=urls.admin_url(site_id), snippet=urls.snippet(site_id))


def site_get(site_id: str) -> Site:
    """The site with this id, ready or not; SiteError naming the id if there is none."""
    try:
        return Site.objects.get(site_id=site_id)
    except Site.DoesNotExist:
        raise SiteError(f"unknown site {site_id!r}") from None


def site_get_ready(site_id: str) -> Site:
    """The site, only once its schema is migrated (`Site.ready`); else a SiteError.

    For entry points that go on to work inside the site's schema (staff commands), so a site
    still being created gives one clear message instead of a missing-table traceback.
    """
    site = site_get(site_id)
    if not site.ready:
        raise SiteError(f"site {site.site_id!r} is not ready (its schema is being made)")
    return site


def site_update(site: Site, *, contact_email: str | None = None, allowed_origins=None) -> None:
    """Set the site's contact e-mail and/or widget origins (None: leave as is), on its row and
    on `site` itself (so `connection.tenant` reflects it at once).

    Callable from inside the site's schema too (its admin, its API): the Site table is in the
    public schema, which stays on the search path. Values are already validated by the caller.
    """
    fields: dict[str, object] = {}
    if contact_email is not None:
        fields["contact_email"] = contact_email
    if allowed_origins is not None:
        fields["allowed_origins"] = list(allowed_origins)
    if not fields:
        return
    Site.objects.filter(pk=site.pk).update(**fields)
    for name, value in fields.items():
        setattr(site, name, value)


def site_list() -> list[dict]:
    """Every site (public schema), as the dicts `list_sites --json` prints (with the snippet
    to paste, built by `tenants.urls.snippet` like everywhere else)."""
    return [
        {
            "site_id": s.site_id,
            "name": s.name,
            "url": s.url,
            "schema_name": s.schema_name,
            "allowed_origins": s.allowed_origins,
            "ready": s.ready,
            "admin_url": urls.admin_url(s.site_id),
            "snippet": urls.snippet(s.site_id),
            "created_at": s.created_at.isoformat(),
        }
        for s in Site.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
    ]


def site_delete(site_id: str) -> None:
    """Drop the site's schema (all its data) and its rows. Irreversible."""
    site = site_get(site_id)
    site.delete(force_drop=True)
    connection.set_schema_to_public()  # type: ignore[attr-defined]  # django-tenants' connection


def site_link_origins(site: Site) -> list[str]:
    """Origins an answer may link a visitor to: the site's own pages (its URL's origin and
    its allowed origins) and its host on Cloop, where its custom answers have their pages."""
    out = []
    for raw in (site.url, *site.allowed_origins, urls.site_base_url(site.site_id)):
        try:
            parts = urlsplit(raw or "")
            out.append(normalise_origin(f"{parts.scheme}://{parts.netloc}"))
        except (SiteError, ValueError):
            continue
    return list(dict.fromkeys(o for o in out if o))
