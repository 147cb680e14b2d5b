"""`trajectbot --help` in CLI_LANGUAGE (issue 14): every command's and option's help text is
translated through the product's catalogs, read with the standard library (no Babel at start)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.cli_help import cli_language, english_help, help_places, help_texts, localise_help
from dialogs.i18n import LANGUAGES, Catalogs
from tests.bot.test_cli_imports import _help_in_fresh_interpreter

CATALOGS = Catalogs()
#: Help texts that read the same in every language (codes only).
SAME_EVERYWHERE = {"nl, en, ar, tr, pl, uk."}


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    """The tests translate the module's own command tree: it is English again after each."""
    yield
    localise_help(main, "en")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nl", "Toon de wachtrij van de zorgcoördinator als tabel."),
        ("ar", "عرض قائمة انتظار منسّق الرعاية في جدول."),
    ],
)
def test_the_help_is_in_cli_language_and_still_imports_nothing_heavy(
    language: str, expected: str
) -> None:
    found = _help_in_fresh_interpreter(["--help"], language=language)
    assert found["code"] == 0
    assert expected in str(found["help"])
    assert "Show the care coordinator's queue as a table." not in str(found["help"])
    assert found["heavy"] == []
    options = _help_in_fresh_interpreter(["queue", "--help"], language=language)
    assert CATALOGS.get(language).gettext("The care coordinator's id at the school.") in str(
        options["help"]
    )


@pytest.mark.parametrize("language", sorted(set(LANGUAGES) - {"en"}))
def test_every_help_text_has_a_translation(language: str) -> None:
    english = set(help_texts(main))
    localise_help(main, language)
    translated = {
        getattr(owner, attribute)
        for _command, owner, attribute in help_places(main)
        if english_help(owner, attribute)
    }
    assert len(english) > 100
    assert english & translated <= SAME_EVERYWHERE, english & translated
    catalog = CATALOGS.get(language)
    assert {catalog.gettext(text) for text in english} == translated


def test_a_second_language_replaces_the_first() -> None:
    localise_help(main, "ar")
    localise_help(main, "nl")
    assert main.help == CATALOGS.get("nl").gettext(english_help(main, "help") or "")
    localise_help(main, "en")
    assert main.help == "trajectbot: the assistant of the trajectvoorziening."


def test_cli_language_comes_from_the_environment_then_dot_env(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    assert cli_language({}, env_file) == "nl"  # the default, as Settings
    env_file.write_text("DATABASE_URL=sqlite:///x\nCLI_LANGUAGE='uk'\n", encoding="utf-8")
    assert cli_language({}, env_file) == "uk"
    assert cli_language({"CLI_LANGUAGE": "ar"}, env_file) == "ar"
    assert cli_language({"CLI_LANGUAGE": "tr_TR"}, env_file) == "tr"
    assert cli_language({"CLI_LANGUAGE": "xx"}, env_file) == "nl"
