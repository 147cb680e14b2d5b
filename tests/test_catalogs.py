"""The catalogs are complete, consistent with the code, and compile: a broken one fails here."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path
from typing import TypeGuard

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from dialogs.i18n import LANGUAGES, Catalogs
from tools.i18n import LOCALES, POT, extract, languages, po_path

#: Every language the product offers must have a complete catalog (domain.md, "Languages").
REQUIRED = LANGUAGES


def _read(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def _ids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


_PERCENT_FIELD = re.compile(r"%\((\w+)\)[sd]")


def _fields(template: str) -> set[str]:
    """``{name}`` fields (Python code) and ``%(name)s`` fields (Jinja2 templates)."""
    percent = set(_PERCENT_FIELD.findall(template))
    try:
        braces = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError:
        braces = {"<unbalanced braces>"}
    return braces | percent


def test_required_languages_have_catalogs() -> None:
    assert set(REQUIRED) <= set(languages())
    assert set(languages()) <= set(LANGUAGES), "a catalog for a language the product does not offer"


def test_template_is_up_to_date_with_the_code() -> None:
    in_code, in_template = _ids(extract()), _ids(_read(POT))
    assert in_code - in_template == set(), "new strings: run `make update-catalogs`"
    assert in_template - in_code == set(), "stale strings: run `make update-catalogs`"


@pytest.mark.parametrize("language", sorted(set(REQUIRED) | set(languages())))
def test_catalog_is_complete_and_consistent(language: str) -> None:
    template = _read(POT)
    catalog = _read(po_path(language), language)
    expected_plurals = get_plural(language).num_plurals
    assert catalog.num_plurals == expected_plurals, "Plural-Forms header differs from CLDR"
    assert not catalog.fuzzy, "the header is marked fuzzy: the compiler would skip the catalog"
    problems: list[str] = []
    for wanted in template:
        if not wanted.id:
            continue
        message = catalog.get(wanted.id)
        if message is None:
            problems.append(f"missing: {wanted.id!r}")
            continue
        problems.extend(_check(message, expected_plurals))
    assert problems == []


def _check(message: Message, plurals: int) -> list[str]:
    label = repr(message.id)
    if message.fuzzy:
        return [f"fuzzy: {label}"]
    ids = (message.id,) if isinstance(message.id, str) else tuple(message.id or ())
    strings = (message.string,) if isinstance(message.string, str) else tuple(message.string or ())
    if len(ids) > 1 and len(strings) != plurals:
        return [f"{len(strings)} plural forms instead of {plurals}: {label}"]
    if any(not s for s in strings):
        return [f"untranslated: {label}"]
    source_fields = set().union(*(_fields(i) for i in ids))
    # Each form translates the singular or the plural: it has every field of one of them (click's
    # own plurals differ, e.g. {possibility} / {possibilities}; ours have the same fields).
    wanted_sets = {frozenset(_fields(i) - {"count"}) for i in ids}
    problems = []
    for translated in strings:
        fields = _fields(translated)
        # A plural form used only for n == 1 may leave out {count}; nothing else may differ.
        if fields - source_fields or not any(wanted <= fields for wanted in wanted_sets):
            problems.append(f"placeholders {sorted(fields)} != {sorted(source_fields)}: {label}")
    return problems


@pytest.mark.parametrize("language", REQUIRED)
def test_compiled_catalog_is_used(language: str) -> None:
    catalogs = Catalogs(LOCALES)
    assert language not in catalogs.missing(), "not compiled: run `make locales`"
    catalog = catalogs.get(language)
    expected = {"nl": "Ja", "en": "Yes", "ar": "نعم", "tr": "Evet", "pl": "Tak", "uk": "Так"}
    assert catalog.gettext("Yes") == expected[language]


def _marks_its_forms(node: ast.AST) -> TypeGuard[ast.Call]:
    """`Text.plural_of(N_("…"), N_("…"), n)`: extraction then takes the forms as two single
    messages, the catalog has no plural entry, and every reader gets the English text."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "plural_of"
        and any(
            isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id == "N_"
            for arg in node.args[:2]
        )
    )


def test_plural_forms_are_plain_strings_so_they_are_extracted_as_plurals() -> None:
    root = Path(__file__).resolve().parents[1]
    found: list[str] = []
    for package in ("bot", "dialogs", "services", "web"):
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            found.extend(
                f"{path.relative_to(root)}:{node.lineno}"
                for node in ast.walk(tree)
                if _marks_its_forms(node)
            )
    assert found == []
