"""What 1,000 sites cost: site creation, migrations, catalog size, chat and search latency.

Usage: .venv/bin/python bench/many_sites.py [--sites 1000] [--database-url URL] [--redis-url URL]
       [--out docs/many_sites.json] [--timed-first 30] [--sample 10]
   Parts on their own, on an existing set of sites: --ab N (site_create with all the sites vs
   none, alternately, N rounds), --migrate-sample N (per-schema migrate times on the last N
   sites), --latency-only.

Defaults: the machine's PostgreSQL (`postgres://postgres@127.0.0.1:5432/cloop_many`, created if
missing) and Redis db 11. Re-running continues where the site creation stopped (existing
`many-NNNN` sites are kept), so a long run can be resumed.

Measures, with DEBUG off as in production:
- `tenants.services.site_create` (clones the template schema) p50/p95/max for the first
  `--timed-first` sites and for `--sample` sites ending at 1/4, 1/2 and all of `--sites`. The
  sites between are provisioned in bulk (`sites_bulk_provision`: the template's DDL and rows
  replayed under each schema name, Site and Domain rows as site_create makes them), because
  clone_schema's own time grows with the number of schemas and 1,000 clones would take hours;
- catalog size after every 250 sites: pg_class rows, pg_attribute rows, pg_catalog's size on
  disk, the database size;
- `manage.py migrate_platform` in a fresh process with nothing to do, then with one new tenant
  migration (a RunSQL adding a nullable column to every site's `conversations_message`, in a
  copy of the app's migrations in a temporary directory, via MIGRATION_MODULES — nothing is
  written to the repository), then migrating it back;
- the catalog cache one PostgreSQL connection builds up by touching every site once (what a
  pooled connection serving all sites costs the server in memory);
- search (`crawler.search.search`) and an offline answer (`answer_question`) in site #1 vs
  site #N, in-process, and a chat round trip over a WebSocket through a real uvicorn process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
SITE_FMT = "many-{:04d}"
QUESTION = "How much does the Pro plan cost?"


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))]


def ms(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50_ms": round(pct(values, 50) * 1000, 1),
        "p95_ms": round(pct(values, 95) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


def database_ensure(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def catalog_size() -> dict:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM pg_class), (SELECT count(*) FROM pg_attribute),"
            " (SELECT count(*) FROM pg_namespace),"
            " (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
            "   JOIN pg_namespace n ON n.oid = c.relnamespace"
            "   WHERE n.nspname = 'pg_catalog' AND c.relkind = 'r')::bigint,"
            " pg_database_size(current_database())"
        )
        classes, attributes, schemas, catalog, database = cur.fetchone()
    return {
        "pg_class_rows": classes,
        "pg_attribute_rows": attributes,
        "schemas": schemas,
        "pg_catalog_mib": round(catalog / 2**20, 1),
        "database_mib": round(database / 2**20, 1),
    }


def template_sql(database_url: str) -> str:
    """The template schema (tables, indexes, constraints, sequences and its rows) as SQL."""
    dump = subprocess.run(  # noqa: S603
        [
            "pg_dump",
            "--inserts",
            "--no-owner",
            "--no-privileges",
            "--schema=cloop_base",
            "--dbname",
            database_url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # psql meta-commands (\restrict) are not SQL.
    return "\n".join(line for line in dump.splitlines() if not line.startswith("\\"))


def sites_bulk_provision(database_url: str, template: str, numbers: list[int]) -> None:
    """Sites made like site_create (Site and Domain rows, a schema like the template's) without
    django-tenants' clone_schema: its catalog queries make each clone slower as sites pile up
    (see docs/scaling.md). Replays the template's DDL and rows under each new schema name."""
    import psycopg

    from tenants.models import Domain, Site, schema_name_for

    sites = [
        Site(
            site_id=SITE_FMT.format(i),
            schema_name=schema_name_for(SITE_FMT.format(i)),
            name=f"Many {i}",
            url=f"http://{SITE_FMT.format(i)}.test/",
            allowed_origins=[f"http://{SITE_FMT.format(i)}.test"],
            ready=True,
        )
        for i in numbers
    ]
    with psycopg.connect(database_url) as conn:
        for site in sites:
            conn.execute(template.replace("cloop_base", site.schema_name))
    Site.objects.bulk_create(sites)
    Domain.objects.bulk_create(
        [Domain(domain=site.host, tenant=site, is_primary=True) for site in sites]
    )


def timed_numbers(count: int, first: int, sample: int) -> set[int]:
    """Which sites are made by site_create (timed): the first `first`, `sample` ending at
    count/4, count/2 and count."""
    timed = set(range(1, min(first, count) + 1))
    for end in (count // 4, count // 2, count):
        timed |= set(range(max(1, end - sample + 1), end + 1))
    return timed


def sites_create(count: int, report: dict, save, database_url: str, first: int, sample: int):
    from tenants.models import Site
    from tenants.services import site_create

    existing = set(
        Site.objects.filter(site_id__startswith="many-").values_list("site_id", flat=True)
    )
    timings = report.setdefault("create_seconds", {})
    bulk = report.setdefault("bulk_provision_seconds", [])
    catalog = report.setdefault("catalog", {})
    if "0" not in catalog and not existing:
        catalog["0"] = catalog_size()
    timed = timed_numbers(count, first, sample)
    template = template_sql(database_url)
    pending: list[int] = []

    def flush():
        if pending:
            t = time.perf_counter()
            sites_bulk_provision(database_url, template, pending)
            bulk.append(round((time.perf_counter() - t) / len(pending), 4))
            pending.clear()

    for i in range(1, count + 1):
        site_id = SITE_FMT.format(i)
        if site_id in existing:
            continue
        if i in timed:
            flush()
            t = time.perf_counter()
            site_create(site_id, name=f"Many {i}", url=f"http://{site_id}.test/")
            # Keyed by the number of sites that existed before this one.
            timings[str(i - 1)] = round(time.perf_counter() - t, 4)
            save()
        else:
            pending.append(i)
            if len(pending) == 25:
                flush()
        if i % 250 == 0 or i == count:
            flush()
            catalog[str(i)] = catalog_size()
            print(f"  {i} sites; catalog {catalog[str(i)]}", flush=True)
            save()
    flush()


def create_figures(timings: dict, count: int, first: int, sample: int) -> dict:
    """site_create p50/p95 for the first sites and for each sample of `sample` sites."""
    by_n = {int(k): v for k, v in timings.items()}
    groups = {f"sites 1-{first}": [v for n, v in by_n.items() if n < first]}
    for end in (count // 4, count // 2, count):
        groups[f"sites {end - sample + 1}-{end}"] = [
            v for n, v in by_n.items() if end - sample <= n < end
        ]
    return {name: ms(values) for name, values in groups.items() if values}


def migrate_platform(env: dict, extra_path: str | None = None, settings: str | None = None):
    """`manage.py migrate_platform` in a fresh process, as a deploy runs it; seconds."""
    env = {**env, "CLOOP_PROCESS": "cloop-manage"}
    if extra_path:
        env["PYTHONPATH"] = extra_path + os.pathsep + str(ROOT)
        env["DJANGO_SETTINGS_MODULE"] = settings
    t = time.perf_counter()
    subprocess.run(  # noqa: S603
        [PY, "manage.py", "migrate_platform", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    return round(time.perf_counter() - t, 2)


def throwaway_migration(tmp: Path) -> tuple[str, str]:
    """A copy of conversations' migrations plus one RunSQL migration, loadable through a
    settings module in `tmp`; returns (settings module, previous migration name)."""
    package = tmp / "bench_conversations_migrations"
    shutil.copytree(ROOT / "conversations" / "migrations", package)
    previous = sorted(p.stem for p in package.glob("0*.py"))[-1]
    (package / "9999_bench_add_column.py").write_text(
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = [('conversations', '{previous}')]\n"
        "    operations = [migrations.RunSQL(\n"
        "        'ALTER TABLE conversations_message ADD COLUMN bench_tmp integer NULL',\n"
        "        'ALTER TABLE conversations_message DROP COLUMN bench_tmp')]\n"
    )
    (tmp / "bench_many_settings.py").write_text(
        "from cloop.settings import *  # noqa: F403\n\n"
        "MIGRATION_MODULES = {'conversations': 'bench_conversations_migrations'}\n"
    )
    return "bench_many_settings", previous


def migrate_back(env: dict, tmp: Path, previous: str) -> float:
    """Unapply the throwaway migration in every site schema and the template."""
    env = {**env, "PYTHONPATH": f"{tmp}{os.pathsep}{ROOT}"}
    env["DJANGO_SETTINGS_MODULE"] = "bench_many_settings"
    env["CLOOP_PROCESS"] = "cloop-manage"
    t = time.perf_counter()
    subprocess.run(  # noqa: S603
        [
            PY,
            "manage.py",
            "migrate_schemas",
            "--tenant",
            "-v",
            "0",
            "--executor",
            "multiprocessing",
            "conversations",
            previous,
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    subprocess.run(  # noqa: S603
        [
            PY,
            "manage.py",
            "migrate_schemas",
            "--schema",
            "cloop_base",
            "-v",
            "0",
            "conversations",
            previous,
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return round(time.perf_counter() - t, 2)


def backend_cache(database_url: str, schemas: list[str]) -> dict:
    """Memory of one server connection (pg_backend_memory_contexts) before and after a
    query in each schema, as a pooled connection serving every site ends up."""
    import psycopg

    query = (
        "SELECT sum(total_bytes) FILTER (WHERE name = 'CacheMemoryContext'), sum(total_bytes)"
        " FROM pg_backend_memory_contexts"
    )
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = conn.execute(query).fetchone()
        t = time.perf_counter()
        for schema in schemas:
            conn.execute(f'SET search_path = "{schema}", public')
            conn.execute("SELECT count(*) FROM conversations_message").fetchone()
            conn.execute("SELECT count(*) FROM crawler_chunk").fetchone()
        seconds = time.perf_counter() - t
        after = conn.execute(query).fetchone()
    return {
        "schemas_touched": len(schemas),
        "cache_mib_before": round(float(before[0]) / 2**20, 1),
        "cache_mib_after": round(float(after[0]) / 2**20, 1),
        "backend_mib_before": round(float(before[1]) / 2**20, 1),
        "backend_mib_after": round(float(after[1]) / 2**20, 1),
        "kib_per_schema": round(float(after[1] - before[1]) / 1024 / len(schemas), 1),
        "seconds": round(seconds, 2),
    }


def index_site(site) -> None:
    from django_tenants.utils import tenant_context

    from conversations.models import SiteSettings
    from crawler.index import index_html
    from crawler.models import Page
    from tests.conversations.pages import PAGES_A

    with tenant_context(site):
        if not Page.objects.exists():
            for url, html in PAGES_A.items():
                index_html(url, html)
        SiteSettings.objects.update_or_create(pk=1, defaults={"daily_message_quota": 10_000_000})


def in_process_latency(site, rounds: int) -> dict:
    from django_tenants.utils import tenant_context

    from conversations.chat.answer import answer_question
    from crawler.search import search

    searches, answers = [], []
    with tenant_context(site):
        search(QUESTION)  # warm-up
        for _ in range(rounds):
            t = time.perf_counter()
            assert search(QUESTION)
            searches.append(time.perf_counter() - t)
    for _ in range(rounds):
        t = time.perf_counter()
        result = asyncio.run(answer_question(QUESTION, site=site))
        answers.append(time.perf_counter() - t)
        assert not result.error and not result.refused, result
    return {"search": ms(searches), "answer_offline": ms(answers)}


async def ws_chat_latency(port: int, site_id: str, origin: str, rounds: int) -> dict:
    """hello → ready and message → answer over a WebSocket, a new visitor each round."""
    from websockets.asyncio.client import connect

    readies, answers = [], []
    for i in range(rounds + 1):
        async with connect(
            f"ws://127.0.0.1:{port}/ws/chat/{site_id}/", origin=origin, proxy=None
        ) as ws:
            t = time.perf_counter()
            await ws.send(json.dumps({"type": "hello", "visitor_id": str(uuid.uuid4())}))
            while json.loads(await ws.recv())["type"] != "ready":
                pass
            ready = time.perf_counter() - t
            t = time.perf_counter()
            await ws.send(
                json.dumps({"type": "message", "text": QUESTION, "client_message_id": f"q{i}"})
            )
            while (frame := json.loads(await ws.recv()))["type"] not in ("answer", "error"):
                pass
            assert frame["type"] == "answer", frame
            if i:  # the first round warms the process's caches
                readies.append(ready)
                answers.append(time.perf_counter() - t)
    return {"ws_hello_ready": ms(readies), "ws_message_answer": ms(answers)}


def create_one(site_id: str) -> None:
    """`--create-one ID`: time one site_create in the database of DATABASE_URL (a child)."""
    import django

    django.setup()
    from tenants.services import base_schema_ensure, site_create, site_delete

    base_schema_ensure()
    t = time.perf_counter()
    site_create(site_id, name=site_id, url=f"http://{site_id}.test/")
    seconds = time.perf_counter() - t
    site_delete(site_id)
    print(json.dumps({"seconds": round(seconds, 3)}))


def per_schema(count: int, target: str) -> None:
    """`--per-schema N --target T` (a child): `migrate_schemas --schema` on the last N sites,
    in this process, timed per schema. T names the migration target (`latest`,
    or an app:migration to go back to); the settings module decides which migrations exist."""
    import django

    django.setup()
    from django.core.management import call_command

    from tenants.models import Site

    # The last sites: an interrupted platform-wide run (which goes in site order) may have
    # migrated the first ones already.
    schemas = list(
        Site.objects.filter(site_id__startswith="many-")
        .order_by("-site_id")
        .values_list("schema_name", flat=True)[:count]
    )
    times = []
    for schema in schemas:
        args = [] if target == "latest" else target.split(":")
        t = time.perf_counter()
        call_command("migrate_schemas", *args, schema_name=schema, interactive=False, verbosity=0)
        times.append(time.perf_counter() - t)
    print(json.dumps(ms(times)))


def migrate_sampled(env: dict, count: int, sites: int) -> dict:
    """Per-schema migrate times at this many sites, no-op and one new migration (and back),
    and the whole-platform time they imply with CLOOP_MIGRATION_PROCESSES processes."""

    def child(target: str, tmp: Path | None) -> dict:
        child_env = {**env, "CLOOP_PROCESS": "cloop-manage"}
        if tmp is not None:
            child_env["PYTHONPATH"] = f"{tmp}{os.pathsep}{ROOT}"
            child_env["DJANGO_SETTINGS_MODULE"] = "bench_many_settings"
        done = subprocess.run(  # noqa: S603
            [PY, __file__, "--per-schema", str(count), "--target", target],
            cwd=ROOT,
            env=child_env,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(done.stdout.strip().splitlines()[-1])

    processes = int(env.get("CLOOP_MIGRATION_PROCESSES", "2"))
    with tempfile.TemporaryDirectory() as tmp:
        _, previous = throwaway_migration(Path(tmp))
        figures = {
            "noop": child("latest", None),
            "one_migration": child("latest", Path(tmp)),
            "back": child(f"conversations:{previous}", Path(tmp)),
        }
    for f in figures.values():
        f["implied_platform_minutes"] = round(f["p50_ms"] / 1000 * sites / processes / 60, 1)
    return {"schemas_sampled": count, "processes": processes, **figures}


def create_ab(env: dict, many_url: str, rounds: int) -> dict:
    """site_create with ~1,000 sites vs with none, alternately, so both see the same load:
    the effect of the number of sites apart from the machine's other work."""
    small_url = many_url + "_small"
    database_ensure(small_url)
    migrate_platform({**env, "DATABASE_URL": small_url})
    times: dict[str, list[float]] = {"none": [], "many": []}
    for r in range(rounds):
        for label, url in (("many", many_url), ("none", small_url)):
            done = subprocess.run(  # noqa: S603
                [PY, __file__, "--create-one", f"ab-{r}"],
                cwd=ROOT,
                env={**env, "DATABASE_URL": url},
                check=True,
                capture_output=True,
                text=True,
            )
            times[label].append(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])
            print(f"  site_create with {label} sites: {times[label][-1]} s", flush=True)
    return {label: ms(values) for label, values in times.items()} | {"seconds": times}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/cloop_many")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--out", default=str(ROOT / "docs" / "many_sites.json"))
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--timed-first", type=int, default=30)
    parser.add_argument("--sample", type=int, default=10)
    parser.add_argument("--ab", type=int, default=0, help="only the A/B site_create rounds")
    parser.add_argument("--create-one", help=argparse.SUPPRESS)
    parser.add_argument("--per-schema", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--target", default="latest", help=argparse.SUPPRESS)
    parser.add_argument("--migrate-sample", type=int, default=0, help="only per-schema migrate")
    parser.add_argument("--latency-only", action="store_true")
    args = parser.parse_args()
    if args.create_one:
        return create_one(args.create_one)
    if args.per_schema:
        return per_schema(args.per_schema, args.target)

    env = dict(os.environ)
    env.update(
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        SECRET_KEY=os.environ.get("SECRET_KEY") or "bench-" + "k" * 50,
        SECURE_SSL_REDIRECT="0",
        CLOOP_OFFLINE_CHUNK_MS="0",
        DJANGO_SETTINGS_MODULE="cloop.settings",
    )
    os.environ.update(env)
    database_ensure(args.database_url)
    out = Path(args.out)
    report = json.loads(out.read_text()) if out.exists() else {}
    report["sites_target"] = args.sites

    def save():
        out.write_text(json.dumps(report, indent=1) + "\n")

    if args.migrate_sample:
        report["migrate_sampled"] = migrate_sampled(env, args.migrate_sample, args.sites)
        save()
        return None
    if args.latency_only:
        import django

        django.setup()
        return latency_phase(report, args, save)
    if args.ab:
        report["create_ab"] = create_ab(env, args.database_url, args.ab)
        save()
        return None

    if "migrate_platform_initial_seconds" not in report:
        print("migrate_platform (initial) ...", flush=True)
        report["migrate_platform_initial_seconds"] = migrate_platform(env)
    import django

    django.setup()
    from django_tenants.utils import schema_exists

    from tenants.models import Site
    from tenants.services import site_delete

    # A site whose creation was interrupted (an earlier run stopped mid-clone) has no schema.
    for site in Site.objects.filter(site_id__startswith="many-"):
        if not schema_exists(site.schema_name):
            site_delete(site.site_id)

    print(f"creating {args.sites} sites ...", flush=True)
    sites_create(args.sites, report, save, args.database_url, args.timed_first, args.sample)
    report["create"] = create_figures(
        report["create_seconds"], args.sites, args.timed_first, args.sample
    )
    bulk = report["bulk_provision_seconds"]
    report["bulk_provision"] = ms(bulk) if bulk else None
    save()

    print("migrate_platform with nothing to do ...", flush=True)
    report["migrate_platform_noop_seconds"] = migrate_platform(env)
    with tempfile.TemporaryDirectory() as tmp:
        settings_module, previous = throwaway_migration(Path(tmp))
        print("migrate_platform with one new tenant migration ...", flush=True)
        report["migrate_platform_one_migration_seconds"] = migrate_platform(
            env, tmp, settings_module
        )
        print("unapplying it ...", flush=True)
        report["migrate_back_one_migration_seconds"] = migrate_back(env, Path(tmp), previous)
    save()

    latency_phase(report, args, save)


def latency_phase(report: dict, args, save) -> None:
    """Chat and search on site #1 vs site #N; a connection's catalog cache over all sites."""
    from tenants.models import Site

    first = Site.objects.get(site_id=SITE_FMT.format(1))
    last = Site.objects.get(site_id=SITE_FMT.format(args.sites))
    for site in (first, last):
        index_site(site)
    report["latency"] = {}
    from chat_common import server_start

    origin = "http://bench.localhost"
    proc, port = server_start()  # CLOOP_PUBLIC_URL = chat_common.ORIGIN, the same origin
    try:
        for label, site in (("site_1", first), (f"site_{args.sites}", last)):
            print(f"latency on {site.site_id} ...", flush=True)
            figures = in_process_latency(site, args.rounds)
            figures.update(asyncio.run(ws_chat_latency(port, site.site_id, origin, args.rounds)))
            report["latency"][label] = figures
    finally:
        proc.terminate()
        proc.wait()
    schemas = list(
        Site.objects.filter(site_id__startswith="many-").values_list("schema_name", flat=True)
    )
    report["backend_cache"] = backend_cache(args.database_url, schemas)
    report["postgres"] = _server_facts()
    save()
    skip = ("create_seconds", "bulk_provision_seconds")
    print(json.dumps({k: v for k, v in report.items() if k not in skip}, indent=1))


def _server_facts() -> dict:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT version(), current_setting('max_connections'), "
            "current_setting('shared_buffers')"
        )
        version, max_conn, shared = cur.fetchone()
    return {
        "version": version.split(" on ")[0],
        "max_connections": int(max_conn),
        "shared_buffers": shared,
    }


if __name__ == "__main__":
    main()
