"""Cloop's translations (locale/): complete, and compiled.

Django reads only the compiled `.mo`, and compiling needs GNU gettext's `msgfmt`, which a
machine with only Python lacks; so the `.mo` is committed beside its `.po` (`make messages`
compiles it in pure Python). These tests keep the two equal and every translatable string of
the templates translated, so a sentence added in English cannot silently stay English on a
Finnish page.
"""

import gettext
from pathlib import Path

import polib
import pytest
from django.apps import apps
from django.conf import settings
from django.template import engines
from django.templatetags.i18n import BlockTranslateNode, TranslateNode

ROOT = Path(settings.BASE_DIR)
LOCALE = ROOT / "locale"
CATALOGS = sorted(LOCALE.glob("*/LC_MESSAGES/django.po"))


def _key(msgid: str, context: str | None) -> str:
    """A message's key in a compiled catalog: context and msgid joined by EOT, as gettext."""
    return f"{context}\x04{msgid}" if context else msgid


def _po_catalog(path: Path) -> dict[str, str]:
    return {
        _key(e.msgid, e.msgctxt): e.msgstr
        for e in polib.pofile(str(path))
        if not e.obsolete and e.msgid
    }


def _template_messages(source: str) -> set[str]:
    """The keys a template looks up: every {% translate %} and {% blocktranslate %} in it."""
    nodelist = engines["django"].from_string(source).template.nodelist
    keys = set()
    for node in nodelist.get_nodes_by_type(TranslateNode):
        context = node.message_context.var if node.message_context else None
        keys.add(_key(node.filter_expression.var.literal.replace("%", "%%"), context))
    for node in nodelist.get_nodes_by_type(BlockTranslateNode):
        assert not node.plural, "no plural forms yet: add them to this test"
        context = node.message_context.var if node.message_context else None
        keys.add(_key(node.render_token_list(node.singular)[0], context))
    return keys


def _translated_templates() -> list[Path]:
    """Cloop's templates that load i18n (the project's and its apps', not Django's)."""
    ours = [Path(c.path) for c in apps.get_app_configs() if Path(c.path).parent == ROOT]
    dirs = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]] + [p / "templates" for p in ours]
    paths = [p for d in dirs for p in d.rglob("*.html") if "{% load i18n" in p.read_text()]
    assert paths, "no template loads i18n: is the privacy notice still translated?"
    return paths


def test_it_has_a_finnish_catalog():
    assert [p.relative_to(LOCALE).parts[0] for p in CATALOGS] == ["fi"]
    assert "fi" in dict(settings.LANGUAGES) and LOCALE in map(Path, settings.LOCALE_PATHS)


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: p.relative_to(LOCALE).parts[0])
def test_it_ships_a_compiled_catalog_equal_to_its_po(po):
    """Compare what the catalogs say, not their bytes: msgfmt and polib lay a .mo out
    differently, and either may have compiled it."""
    entries = polib.pofile(str(po))
    assert [e.msgid for e in entries if "fuzzy" in e.flags] == [], "fuzzy entries are not used"
    assert [e.msgid for e in entries.untranslated_entries()] == []
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run `make messages`"
    with mo.open("rb") as f:
        compiled = dict(gettext.GNUTranslations(f)._catalog)
    compiled.pop("", None)  # the header: its dates change nothing that is served
    assert compiled == _po_catalog(po), f"{mo} is older than its .po: run `make messages`"


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: p.relative_to(LOCALE).parts[0])
def test_it_translates_every_string_of_the_templates_and_nothing_else(po):
    used = set()
    for template in _translated_templates():
        used |= _template_messages(template.read_text())
    catalog = _po_catalog(po)
    assert sorted(used - set(catalog)) == [], "untranslated: run makemessages and translate"
    assert sorted(set(catalog) - used) == [], "no longer used: remove them from the .po"
