"""Extract messages and keep the catalogs in step: `python -m tools.i18n extract|update`.

One definition of what counts as a translatable call, used by the Makefile and by the catalog
tests, so the test sees exactly what `make update-catalogs` writes.
"""

from __future__ import annotations

import copy
import inspect
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
SOURCES = ("bot", "dialogs", "services", "storage", "web")
#: Python everywhere; Jinja2 templates of the web app (``{% trans %}``, ``_()``), read with the
#: options `web.templating` renders them with (new-style gettext, trimmed blocks).
METHOD_MAP = [("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")]
OPTIONS_MAP = {
    "templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true", "silent": "false"}
}
#: `N_()` marks, `Text.of(msgid, ...)`, and `Text.plural_of(singular, plural, n)`.
KEYWORDS = {**DEFAULT_KEYWORDS, "of": None, "plural_of": (1, 2)}
#: English is the source language: its catalog is generated from the message ids.
SOURCE_LANGUAGE = "en"


def extract() -> Catalog:
    """Every translatable message in the sources, as a template catalog."""
    template = Catalog(
        project="trajectbot",
        version="0.1",
        msgid_bugs_address="dev@example.invalid",
        charset="utf-8",
    )
    for source in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / source, method_map=METHOD_MAP, options_map=OPTIONS_MAP, keywords=KEYWORDS
        ):
            template.add(
                message,
                None,
                [(f"{source}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    for location, message in cli_help_messages():
        template.add(message, None, [location])
    return template


def cli_help_messages() -> list[tuple[tuple[str, int], str]]:
    """The help texts of the `trajectbot` command line (click ``help=``), with where each
    command is defined: translated at run time by `bot.cli_help` through the same catalogs."""
    from bot.cli import main as cli  # noqa: PLC0415 - the command tree, built on import
    from bot.cli_help import english_help, help_places  # noqa: PLC0415

    found: list[tuple[tuple[str, int], str]] = []
    for command, owner, attribute in help_places(cli):
        text = english_help(owner, attribute)
        if not text:
            continue
        callback = inspect.unwrap(command.callback) if command.callback else None
        filename, line = "bot/cli.py", 1
        if callback is not None:
            source = inspect.getsourcefile(callback)
            if source is not None:
                filename = Path(source).resolve().relative_to(ROOT).as_posix()
                line = callback.__code__.co_firstlineno
        found.append(((filename, line), text))
    return found


def po_path(language: str) -> Path:
    """Where a language's editable catalog lives."""
    return LOCALES / language / "LC_MESSAGES" / "messages.po"


def languages() -> list[str]:
    """The languages that have a catalog, sorted."""
    return sorted(p.parent.parent.name for p in LOCALES.glob("*/LC_MESSAGES/messages.po"))


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_by_file=False, omit_header=False)


def update(new_languages: list[str]) -> None:
    """Write the template, bring every catalog up to date with it (no fuzzy guessing)."""
    template = extract()
    _write(POT, template)
    for language in sorted(set(languages()) | set(new_languages)):
        path = po_path(language)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
        else:
            catalog = Catalog(locale=language, charset="utf-8")
        # Babel's update() adopts the template's Message objects; a copy per catalog keeps the
        # English fill-in below from leaking into the other languages.
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True, update_header_comment=False)
        catalog.obsolete.clear()
        # A fuzzy header would make the compiler skip the whole catalog.
        catalog.fuzzy = False
        catalog.project, catalog.version = "trajectbot", "0.1"
        catalog.language_team = f"trajectbot {language}"
        catalog.last_translator = "trajectbot developers"
        if language == SOURCE_LANGUAGE:
            for message in catalog:
                if message.id:
                    message.string = (
                        tuple(message.id) if isinstance(message.id, tuple) else message.id
                    )
        _write(path, catalog)


def main(argv: list[str]) -> int:
    """Command line: ``extract`` writes the template; ``update [LANG ...]`` also the catalogs."""
    if argv[:1] == ["extract"]:
        _write(POT, extract())
        return 0
    if argv[:1] == ["update"]:
        update(argv[1:])
        return 0
    sys.stderr.write("usage: python -m tools.i18n extract | update [NEW_LANGUAGE ...]\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
