"""What cloop/settings.py declares and the README documents, read from their source text.

Shared by tests/cloop/test_deploy.py (deploy/ sets only variables the settings read) and
tests/cloop/test_settings.py (the README's Configuration table lists exactly those).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Modules whose environment reads make up Cloop's settings (settings.py reads through db.py).
SETTINGS_MODULES = ("cloop/settings.py", "cloop/db.py")
ENV_READERS = {"get", "getenv", "envbool", "envlist"}
ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]+")
# The apps whose code reads settings (cloop/ included: settings.py itself is not a reader).
APP_PACKAGES = ("cloop", "tenants", "crawler", "conversations", "widget", "team")


def settings_env_vars() -> set[str]:
    """Every environment variable the settings read: `os.environ[...]`, `environ.get(...)`,
    `os.getenv(...)`, `envbool(...)`, `envlist(...)` with a literal name."""
    names = set()
    for module in SETTINGS_MODULES:
        for node in ast.walk(ast.parse((ROOT / module).read_text())):
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                first = node.args[0]
                if called in ENV_READERS and isinstance(first, ast.Constant):
                    names.add(first.value)
            elif (
                isinstance(node, ast.Subscript)
                and isinstance(node.slice, ast.Constant)
                and getattr(node.value, "attr", getattr(node.value, "id", "")) == "environ"
            ):
                names.add(node.slice.value)
    return {n for n in names if isinstance(n, str) and ENV_NAME.fullmatch(n)}


def readme_env_vars() -> set[str]:
    """The variables in the first column of the README's Configuration table."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def settings_assignments() -> list[str]:
    """The names cloop/settings.py assigns at module level, once per assignment."""
    tree = ast.parse((ROOT / "cloop/settings.py").read_text())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def app_setting_reads() -> dict[str, set[str]]:
    """`settings.CLOOP_…` read by the apps' code, by file, and every `getattr(settings, …)`
    (which would carry a default of its own), under the key "getattr"."""
    reads: dict[str, set[str]] = {"getattr": set()}
    for package in APP_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "cloop/settings.py":
                continue
            where = str(path.relative_to(ROOT))
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "settings"
                    and node.attr.startswith("CLOOP_")
                ):
                    reads.setdefault(node.attr, set()).add(where)
                elif (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", "") == "getattr"
                    and node.args
                    and getattr(node.args[0], "id", "") == "settings"
                ):
                    reads["getattr"].add(where)
    return reads
