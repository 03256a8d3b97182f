import contextlib
import os
import secrets
import subprocess
import sys
from pathlib import Path

from tests.cloop.settings_source import (
    app_setting_reads,
    readme_env_vars,
    settings_assignments,
    settings_env_vars,
)

ROOT = Path(__file__).resolve().parents[2]


def _production_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOOP_", "DJANGO_"))}
    env.pop("DEBUG", None)
    env.update(
        DATABASE_URL="postgres://cloop@db.internal:5432/cloop",
        REDIS_URL="redis://redis.internal:6379/0",
        SECRET_KEY=secrets.token_urlsafe(64),
        CLOOP_BASE_DOMAIN="cloop.example",
        DJANGO_SETTINGS_MODULE="cloop.settings",
    )
    env.update(extra)
    return env


def _manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_the_deploy_check_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_refuses_to_start_in_production_without_a_secret_key():
    env = _production_env()
    env.pop("SECRET_KEY")
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_it_keeps_production_safety_settings_on():
    code = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS >= 31536000, s.TENANT_LIMIT_SET_CALLS,"
        " s.CELERY_TASK_ACKS_LATE, s.CELERY_TASK_REJECT_ON_WORKER_LOST)"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "True",
        "True",
        "True",
        "True",
        "True",
        "True",
        "True",
    ]


def test_it_keeps_the_broker_visibility_timeout_above_the_longest_task(settings):
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert timeout >= 2 * settings.CELERY_TASK_TIME_LIMIT


def test_it_documents_every_environment_variable_in_the_readme():
    declared, documented = settings_env_vars(), readme_env_vars()
    assert declared - documented == set(), "read by cloop/settings.py, not in the README table"
    assert documented - declared == set(), "in the README table, never read by the settings"


def test_it_declares_every_cloop_setting_once_in_the_settings_module():
    assigned = [name for name in settings_assignments() if name.startswith("CLOOP_")]
    assert len(assigned) == len(set(assigned))
    reads = app_setting_reads()
    # getattr(settings, name, default) would be a second declaration, with a default of its own.
    assert reads.pop("getattr") == set()
    assert {name: files for name, files in reads.items() if name not in assigned} == {}


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if text in cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                found.append(cmdline.parent.name)
    return found


def test_it_starts_no_server_when_the_settings_are_imported(tmp_path):
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOOP_", "DJANGO_"))}
    for name in ("DATABASE_URL", "REDIS_URL", "DEBUG"):
        env.pop(name, None)
    env.update(CLOOP_DATA_DIR=str(data), DJANGO_SETTINGS_MODULE="cloop.settings")
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.DATABASE_URL); print(s.REDIS_URL)"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    database_url, redis_url = result.stdout.split()
    # The settings name this data directory's servers ...
    assert f"host={data}/pg" in database_url
    assert redis_url.startswith("unix://") and redis_url.endswith("redis.sock")
    # ... and nothing started them: no data directory, no socket, no server process.
    assert not data.exists()
    assert not Path(redis_url.removeprefix("unix://")).exists()
    assert _processes_mentioning(str(data)) == []
