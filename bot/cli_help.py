"""The command line's help in CLI_LANGUAGE: every command's and option's help text translated
through the product's catalogs, without the product's machinery.

`trajectbot --help` must stay fast (`tests/bot/test_cli_imports.py`: no Babel, no
pydantic-settings at start), so the compiled catalog (``locales/<lang>/LC_MESSAGES/
messages.mo``) is read with the standard library's `gettext`, and CLI_LANGUAGE comes from the
environment or a ``CLI_LANGUAGE=`` line of ``.env`` (what `Settings` reads; Dutch by default).
The help texts stay English in the source; `tools.i18n` extracts them from the command tree
(`help_texts`), so they are in every catalog like any other message.

Click's own words ("Usage:", "Options", "Error: {message}", "No such command {name!r}.", ...)
come from click's calls of the standard library's global `gettext.gettext`/`ngettext`, which
look the message up in the *global text domain* at call time. `click_words` binds that domain
to our catalogs (`gettext.bindtextdomain`/`gettext.textdomain`, domain ``messages``) and
chooses the language with the variable GNU gettext reads first (``LANGUAGE``), for as long as
the command line runs; afterwards both are as before. The msgids are listed in `CLICK_WORDS`
and `CLICK_PLURALS` (exactly as in click's source), so extraction keeps them in the catalogs.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from dialogs.text import N_

LOCALES = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = ("nl", "en", "ar", "tr", "pl", "uk")  # as `dialogs.i18n.LANGUAGES`
DEFAULT_LANGUAGE = "nl"
#: The stdlib gettext domain of our catalogs (``locales/<lang>/LC_MESSAGES/messages.mo``).
DOMAIN = "messages"


def plural_of(singular: str, plural: str) -> tuple[str, str]:
    """Marks a click plural message for extraction (`tools.i18n` reads ``plural_of``)."""
    return singular, plural


#: Click's words a user of `trajectbot` sees in help and usage errors, exactly as click's
#: source passes them to `gettext.gettext` (click 8; placeholders are click's).
CLICK_WORDS = (
    N_("Usage:"),
    N_("Options"),
    N_("Commands"),
    N_("Positional arguments"),
    N_("Show this message and exit."),
    N_("Show the version and exit."),
    N_("Error: {message}"),
    N_("Try '{command} {option}' for help."),
    N_("No such command {name!r}."),
    N_("No such option {name!r}."),
    N_("Missing command."),
    N_("Missing argument"),
    N_("Missing option"),
    N_("Missing parameter"),
    N_("Invalid value: {message}"),
    N_("Invalid value for {param_hint}: {message}"),
    N_("{value!r} is not a valid {number_type}."),
    N_("Option {name!r} does not take a value."),
    N_("Aborted!"),
    N_("default: {default}"),
    N_("required"),
)
#: Click's plural messages (``ngettext``), singular and plural as in click's source.
CLICK_PLURALS = (
    plural_of("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"),
    plural_of("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"),
    plural_of(
        "Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."
    ),
    plural_of("{value!r} is not {choice}.", "{value!r} is not one of {choices}."),
)


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
    forget_help_options(command)


def forget_help_options(command: click.Command) -> None:
    """Let click make each ``--help`` option anew: click keeps it once made (``_help_option``,
    its help text "Show this message and exit." in the language of that moment), which in a
    process that runs the command line more than once (the tests) would keep the first
    language."""
    if getattr(command, "_help_option", None) is not None:
        command._help_option = None
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            forget_help_options(sub)


@contextmanager
def click_words(language: str | None = None) -> Iterator[None]:
    """While open, click's own words are in ``language`` (default: CLI_LANGUAGE).

    Click calls the standard library's global `gettext.gettext` (bound at click's import, but
    it reads the domain and the language at call time), so this is gettext's documented
    application set-up: our locales directory bound to our domain, that domain made the global
    one, and the language in ``LANGUAGE``. All three are restored on leaving, so a command line
    run inside a longer process (the tests) leaves nothing behind.
    """
    code = language or cli_language()
    previous_domain = gettext.textdomain()
    previous_language = os.environ.get("LANGUAGE")
    gettext.bindtextdomain(DOMAIN, str(LOCALES))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = code
    try:
        yield
    finally:
        gettext.textdomain(previous_domain)
        if previous_language is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = previous_language
