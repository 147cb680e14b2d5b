"""No user-facing string bypasses translation: a literal sent to a person fails here.

The catalogs test (`tests/test_catalogs.py`) proves that every *marked* string is translated;
this one proves that nothing user-facing is left *unmarked*. It reads the sources (Python by
their syntax tree, Jinja2 templates by their template tree) and reports every English literal
that reaches a person without going through `Text.of` / `N_` / `Text.plural_of` or a template's
``{% trans %}`` / ``_()``.

What counts as "reaching a person":

* Python: the text arguments of the calls that put words on a screen — aiogram's
  ``answer``/``send_message``/``edit_text``/``reply``/``answer_document``/``send_document``,
  ``InlineKeyboardButton``/``KeyboardButton`` labels, ``click.echo``/``click.secho`` (the CLI
  is used by school staff and prints in ``CLI_LANGUAGE``), and ``Text.raw`` (which is for user
  data, never for product wording).
* Templates: text between tags and the ``title``, ``placeholder``, ``alt``, ``aria-label`` and
  ``value`` attributes (of buttons) outside translation blocks.

A literal without letters (punctuation, a separator) is not wording and passes. A line that
is deliberately untranslated (a URL, a protocol token) says so with ``# i18n: not wording``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON_SOURCES = ("bot", "dialogs", "services", "storage", "web")
TEMPLATES = ROOT / "web" / "templates"

#: Methods whose text argument is shown to a person.
_SENDERS = {
    "answer",
    "send_message",
    "edit_text",
    "edit_message_text",
    "reply",
    "answer_document",
    "send_document",
    "echo",
    "secho",
}
_TEXT_KEYWORDS = {"text", "caption", "message"}
_BUTTONS = {"InlineKeyboardButton", "KeyboardButton"}
_WORDING = re.compile(r"[^\W\d_]{2,}")
_WAIVER = "i18n: not wording"


def _is_wording(node: ast.AST) -> bool:
    """A string literal (or an f-string with a literal part) that contains a word."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(_WORDING.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_is_wording(part) for part in node.values)
    return False


def _call_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def untranslated_python(source: str) -> Iterator[tuple[int, str]]:
    """(line, call) for every literal wording handed to a person in Python ``source``."""
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name in _SENDERS:
            # send_message(chat_id, text): the text may be the first or second argument.
            candidates = [
                *node.args[:2],
                *(k.value for k in node.keywords if k.arg in _TEXT_KEYWORDS),
            ]
        elif name in _BUTTONS:
            candidates = [*node.args[:1], *(k.value for k in node.keywords if k.arg == "text")]
        elif name == "raw" and isinstance(node.func, ast.Attribute):
            candidates = list(node.args[:1])
        else:
            continue
        if any(_is_wording(arg) for arg in candidates) and _WAIVER not in lines[node.lineno - 1]:
            yield node.lineno, name or "?"


_TAG = re.compile(r"<(script|style)\b.*?</\1>|<!--.*?-->|<[^>]*>", re.DOTALL | re.IGNORECASE)
_ATTRIBUTE = re.compile(
    r"""\b(title|placeholder|alt|aria-label)\s*=\s*("([^"]*)"|'([^']*)')""", re.IGNORECASE
)
_BUTTON_VALUE = re.compile(
    r"""<(?:input)\b[^>]*type\s*=\s*["'](?:submit|button)["'][^>]*\bvalue\s*=\s*["']([^"']*)["']""",
    re.IGNORECASE,
)
_ENTITY = re.compile(r"&[a-zA-Z]+;|&#\d+;")


_TRANSLATED_BLOCK = re.compile(r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}", re.DOTALL)
_JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.DOTALL)


def untranslated_template(source: str) -> Iterator[str]:
    """Every piece of wording outside translation blocks in Jinja2 template ``source``."""
    # Expressions and translation blocks become a neutral mark, so tags split by an
    # expression (``<html lang="{{ lang }}">``) stay whole for the HTML checks below.
    html = _JINJA.sub("\x00", _TRANSLATED_BLOCK.sub("\x00", source))
    for match in _ATTRIBUTE.finditer(html):
        value = match.group(3) if match.group(3) is not None else match.group(4)
        if _WORDING.search(value):
            yield value.strip()
    for match in _BUTTON_VALUE.finditer(html):
        if _WORDING.search(match.group(1)):
            yield match.group(1).strip()
    text = _ENTITY.sub(" ", _TAG.sub(" ", html))
    for line in text.splitlines():
        if _WORDING.search(line):
            yield " ".join(line.replace("\x00", " ").split())


def _python_files() -> list[Path]:
    return sorted(
        path
        for source in PYTHON_SOURCES
        if (ROOT / source).is_dir()
        for path in (ROOT / source).rglob("*.py")
    )


def _template_files() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html")) if TEMPLATES.is_dir() else []


def test_the_sources_are_scanned() -> None:
    # Guards the scan itself: if the paths moved, the tests below would pass vacuously.
    assert len(_python_files()) > 50


def test_no_python_literal_reaches_a_person_untranslated() -> None:
    problems = [
        f"{path.relative_to(ROOT)}:{line}: literal text in {call}()"
        for path in _python_files()
        for line, call in untranslated_python(path.read_text(encoding="utf-8"))
    ]
    assert problems == [], "mark these with Text.of(N_(...)):\n" + "\n".join(problems)


def test_no_template_wording_outside_translation_blocks() -> None:
    problems = [
        f"{path.relative_to(ROOT)}: {text!r}"
        for path in _template_files()
        for text in untranslated_template(path.read_text(encoding="utf-8"))
    ]
    assert problems == [], "wrap these in {% trans %} or _():\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "snippet",
    [
        'await message.answer("Hello there")',
        "await bot.send_message(chat_id, f'Hi {name}, welcome')",
        'InlineKeyboardButton(text="Cancel", callback_data="x")',
        'await query.message.edit_text(text="Saved")',
        'click.echo("Done.")',
        'Text.raw("Your appointment")',
    ],
)
def test_the_python_check_catches_literal_wording(snippet: str) -> None:
    assert list(untranslated_python(snippet)) != []


@pytest.mark.parametrize(
    "snippet",
    [
        "await message.answer(catalog.render(Text.of(N_('Hello there'))))",
        'click.echo("  ".join(cells))',
        'click.echo("—")',
        "Text.raw(person.display_name)",
        'log.info("appointment %s booked", appointment_id)',
        'await message.answer("https://example.invalid")  # i18n: not wording',
    ],
)
def test_the_python_check_lets_translated_and_non_wording_through(snippet: str) -> None:
    assert list(untranslated_python(snippet)) == []


@pytest.mark.parametrize(
    "snippet",
    [
        "<p>Queue</p>",
        '<input name="q" placeholder="Search">',
        '<a href="/" title="Home">{{ _("Home") }}</a>',
        '<input type="submit" value="Save">',
        "{% if x %}<span>New</span>{% endif %}",
    ],
)
def test_the_template_check_catches_wording(snippet: str) -> None:
    assert list(untranslated_template(snippet)) != []


@pytest.mark.parametrize(
    "snippet",
    [
        "<p>{% trans %}Queue{% endtrans %}</p>",
        '<input name="q" placeholder="{{ _("Search") }}">',
        "<p>{{ item.student_name }} &middot; {{ age }}</p>",
        '<script src="/static/app.js"></script><style>body { margin: 0 }</style>',
        '<html lang="{{ lang }}" dir="{{ dir }}"><meta charset="utf-8">',
    ],
)
def test_the_template_check_lets_translated_markup_through(snippet: str) -> None:
    assert list(untranslated_template(snippet)) == []
