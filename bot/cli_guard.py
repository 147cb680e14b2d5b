"""The command line's one place for bad settings: one line on stderr, exit code 2.

`load_settings` (`bot.config`) turns every unusable setting into a `SettingsError`, and so
does `bot.app.database_reachable` for a database that cannot be opened or reached; this group
class catches it for every command, whichever module defines the command, so no operator sees
a traceback for a typo in `.env`.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

#: The exit code of a command that could not start because of its settings (as click's usage
#: errors).
SETTINGS_EXIT_CODE = 2


class GuardedGroup(click.Group):
    """A click group whose commands answer a `SettingsError` with one line and exit code 2.

    As the top group (`trajectbot`), it also puts every help text in CLI_LANGUAGE before the
    command line is read, and click's own words ("Usage:", "Error: ...") while it runs
    (`bot.cli_help`: the standard library's gettext, no Babel).
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        from bot.cli_help import cli_language, click_words, localise_help  # noqa: PLC0415

        language = cli_language()
        localise_help(self, language)
        with click_words(language):
            return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as problem:
            from bot.settings_error import SettingsError  # noqa: PLC0415 - kept light

            if not isinstance(problem, SettingsError):
                raise
            click.echo(_render(problem), err=True)
            sys.exit(SETTINGS_EXIT_CODE)


def _render(problem: Any) -> str:
    """The line in the command line's language (CLI_LANGUAGE: the settings could not be read,
    so it comes straight from the environment; Dutch by default, as `Settings`)."""
    from dialogs.i18n import DEFAULT_LOCALES_PATH, Catalogs  # noqa: PLC0415

    try:
        catalog = Catalogs(DEFAULT_LOCALES_PATH).get(os.environ.get("CLI_LANGUAGE", "nl"))
        line = catalog.render(problem.text)
    except Exception:
        line = f"{problem.name}: {problem.reason.msgid}"
    return " ".join(line.split())
