"""Docs, docstrings, comments and templates cite only files inside the repository.

A reference to a file kept elsewhere (a design note beside the clone, a path on one machine)
cannot be followed from a fresh clone and goes stale unseen. So in prose (Markdown, templates,
Python docstrings and comments) every path naming a file or folder of the repository
(`docs/…`, `crawler/index.py`, any `*.md`) must exist, and nothing, code included, may point
outside the repository (`../…` above its root, absolute paths beside it).
"""

import ast
import functools
import io
import re
import subprocess
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Folders people cite that are not in the repository: any path starting with one is checked.
OUTSIDE = ("notes", "shared", "seed")
# The folder the repository was made in, beside the shared notes it must not cite.
MADE_IN = "/work"
# Cited on purpose though absent from a clone, with the reason.
ABSENT_ON_PURPOSE = {"deploy/.env": "the operator's own file, made from deploy/env.example"}
# Files that are configuration or scripts: checked only for paths outside the repository.
CONFIG = ("Makefile", "pyproject.toml", ".ci/", "deploy/")


@functools.cache
def _files() -> tuple[str, ...]:
    """The repository's files (what a clone has), not what a run left beside them."""
    out = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return tuple(out.splitlines())


def _top_dirs() -> list[str]:
    return sorted({f.split("/")[0] for f in _files() if "/" in f} | set(OUTSIDE))


def _reference_re() -> re.Pattern:
    paths = "|".join(map(re.escape, _top_dirs()))
    beside = "|".join(map(re.escape, sorted(_beside())))
    return re.compile(
        r"(?<![\w./@:<>{}-])("
        r"(?:\.\./)+[\w./-]*"  # relative to the citing file
        rf"|(?:{beside})/[\w./-]*"  # absolute, beside the repository
        r"|(?:[\w.-]+/)*[\w-][\w.-]*\.md"  # any Markdown file
        rf"|(?:{paths})/[\w./-]*"  # a path from the repository's root
        r")(?P<glob>[*{])?"
    )


def _prose(path: str, text: str) -> str:
    """What of a file is prose: all of a Markdown file or template; a Python file's
    docstrings and comments."""
    if not path.endswith(".py"):
        return text
    parts = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            parts.append(ast.get_docstring(node, clean=False) or "")
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    parts += [t.string for t in tokens if t.type == tokenize.COMMENT]
    return "\n".join(parts)


def _beside() -> set[str]:
    """Absolute folders beside the repository: its parent here, /work where it was made
    (not a system folder a clone may sit in: code rightly names /usr/sbin/haproxy)."""
    return {str(ROOT.parent), MADE_IN} - {"/", "/tmp", "/usr", "/opt", "/var", "/srv"}


def _outside(ref: str, citing: Path) -> bool:
    if ref.startswith("/"):
        return True
    if ref.startswith("../"):
        return not (citing.parent / ref).resolve().is_relative_to(ROOT)
    return False


@functools.cache
def _template_and_static_dirs() -> list[Path]:
    """Where a template or static file's name (`privacy/notice.html`) is looked up."""
    return [ROOT / "templates", *ROOT.glob("*/templates"), *ROOT.glob("*/static")]


def _exists(ref: str, citing: Path, glob: bool) -> bool:
    if ref in ABSENT_ON_PURPOSE:
        return True
    bases = [ROOT, citing.parent, *_template_and_static_dirs()]
    if glob:  # `bench/chat_*.py`, `templates/emails/summary.{txt,html}`
        return any(any(base.glob(ref.rstrip(".") + "*")) for base in bases)
    return any((base / ref).exists() for base in bases)


def _bad_references() -> list[str]:
    pattern, bad = _reference_re(), []
    for path in _files():
        citing = ROOT / path
        in_templates = "templates/" in path and path.endswith((".html", ".txt"))
        is_prose = path.endswith((".md", ".py")) or in_templates
        if not (is_prose or path.startswith(CONFIG)):
            continue
        text = citing.read_text(errors="replace")
        if not pattern.search(text):
            continue
        prose = _prose(path, text) if is_prose else ""
        for scope, checked in ((text, False), (prose, True)):
            for m in pattern.finditer(scope):
                ref = m.group(1).rstrip(".,:;")
                if _outside(ref, citing):
                    bad.append(f"{path}: {ref} (outside the repository)")
                elif checked and not _exists(ref, citing, m["glob"]):
                    bad.append(f"{path}: {ref} (no such file in the repository)")
    return sorted(set(bad))


def test_it_cites_only_files_that_are_in_the_repository():
    assert _bad_references() == []


def test_it_finds_a_citation_of_a_file_kept_outside():
    """The check itself: the citations this test was written against are caught."""
    pattern = _reference_re()
    text = (
        "See DESIGN.md and docs/tenancy-pitfalls, ../shared/seed/notice.txt, "
        f"{MADE_IN}/shared/DESIGN.md and notes/embedded-services.md; docs/chat.md is here."
    )
    refs = [m.group(1).rstrip(".,:;") for m in pattern.finditer(text)]
    citing = ROOT / "docs" / "admin.md"
    missing = [r for r in refs if _outside(r, citing) or not _exists(r, citing, False)]
    assert len(refs) == 6 and missing == refs[:-1] and refs[-1] == "docs/chat.md"
