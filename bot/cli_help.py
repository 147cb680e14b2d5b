"""The command line's help in CLI_LANGUAGE: every command's and option's help text translated
through the product's catalogs, without the product's machinery.

`trajectbot --help` must stay fast (`tests/bot/test_cli_imports.py`: no Babel, no
pydantic-settings at start), so the compiled catalog (``locales/<lang>/LC_MESSAGES/
messages.mo``) is read with the standard library's `gettext`, and CLI_LANGUAGE comes from the
environment or a ``CLI_LANGUAGE=`` line of ``.env`` (what `Settings` reads; Dutch by default).
The help texts stay English in the source; `tools.i18n` extracts them from the command tree
(`help_texts`), so they are in every catalog like any other message.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import click

LOCALES = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = ("nl", "en", "ar", "tr", "pl", "uk")  # as `dialogs.i18n.LANGUAGES`
DEFAULT_LANGUAGE = "nl"


def cli_language(environ: dict[str, str] | None = None, env_file: Path = Path(".env")) -> str:
    """CLI_LANGUAGE from the environment, else from ``.env``, else Dutch (as `Settings`)."""
    value = (environ if environ is not None else dict(os.environ)).get("CLI_LANGUAGE")
    if value is None:
        try:
            lines = env_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            lines = []
        for line in lines:
            key, sep, found = line.partition("=")
            if sep and key.strip().removeprefix("export ").strip() == "CLI_LANGUAGE":
                value = found.strip().strip("\"'")
    base = (value or "").replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def english_help(owner: object, attribute: str) -> str | None:
    """The English text of ``owner.attribute`` (remembered before the first translation)."""
    remembered = f"_english_{attribute}"
    if not hasattr(owner, remembered):
        setattr(owner, remembered, getattr(owner, attribute, None))
    text = getattr(owner, remembered)
    return text if isinstance(text, str) and text else None


def help_places(command: click.Command) -> Iterator[tuple[click.Command, object, str]]:
    """Every (command, object, attribute) holding a help text under ``command``: the
    command's own texts and its options' (the object is the command or the option)."""
    yield command, command, "help"
    yield command, command, "short_help"
    for param in command.params:
        if isinstance(param, click.Option):
            yield command, param, "help"
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            yield from help_places(sub)


def help_texts(command: click.Command) -> Iterator[str]:
    """Every help text of ``command`` and the commands under it, in English (the source)."""
    for _command, owner, attribute in help_places(command):
        text = english_help(owner, attribute)
        if text:
            yield text


def translate_help(command: click.Command, translate: Callable[[str], str]) -> None:
    """Set every help text under ``command`` to ``translate(english)`` (again and again: the
    English source is remembered, so a second language replaces the first)."""
    for _command, owner, attribute in help_places(command):
        text = english_help(owner, attribute)
        if text:
            setattr(owner, attribute, translate(text))


def localise_help(command: click.Command, language: str | None = None) -> None:
    """Put ``command``'s help texts in ``language`` (default: CLI_LANGUAGE)."""
    code = language or cli_language()
    # gettext caches the parsed catalog: a second call reads no file.
    translations = gettext.translation("messages", LOCALES, languages=[code], fallback=True)
    translate_help(command, translations.gettext)
