"""`trajectbot --help` in CLI_LANGUAGE (issue 14): every command's and option's help text, and
click's own words ("Usage:", "Error: ...", usage errors), are translated through the product's
catalogs, read with the standard library (no Babel at start)."""

from __future__ import annotations

import gettext
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from bot.cli import main
from bot.cli_help import (
    CLICK_PLURALS,
    CLICK_WORDS,
    cli_language,
    click_words,
    english_help,
    help_places,
    help_texts,
    localise_help,
)
from dialogs.i18n import LANGUAGES, Catalogs
from tests.bot.test_cli_imports import _help_in_fresh_interpreter

CATALOGS = Catalogs()
ROOT = Path(__file__).resolve().parents[2]
CLICK_SOURCE = Path(click.__file__).parent
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
        ("nl", "Toon de werkvoorraad van de zorgcoördinator als tabel."),
        ("ar", "عرض قائمة مهام منسّق رعاية الطلاب في جدول."),
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


# --- click's own words ("Usage:", "Error: ...") in CLI_LANGUAGE -------------------------------


def _trajectbot(args: list[str], language: str) -> subprocess.CompletedProcess[str]:
    """``trajectbot ARGS`` in a fresh interpreter (click's standalone mode: help and usage
    errors printed as an operator sees them), with CLI_LANGUAGE set."""
    source = "import bot.cli; bot.cli.main(prog_name='trajectbot')"
    return subprocess.run(
        [sys.executable, "-c", source, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "CLI_LANGUAGE": language},
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("nl", ["Gebruik: trajectbot", "Opties:", "Opdrachten:", "Toon dit bericht en stop."]),
        ("ar", ["الاستخدام: trajectbot", "الخيارات:", "الأوامر:", "عرض هذه الرسالة والخروج."]),
        ("en", ["Usage: trajectbot", "Options:", "Commands:", "Show this message and exit."]),
    ],
)
def test_clicks_words_in_the_help_are_in_cli_language(language: str, words: list[str]) -> None:
    done = _trajectbot(["--help"], language)
    assert done.returncode == 0, done.stderr
    for word in words:
        assert word in done.stdout
    if language != "en":
        for english in ("Usage:", "Options:", "Commands:", "Show this message and exit."):
            assert english not in done.stdout


@pytest.mark.parametrize(
    ("language", "lines"),
    [
        (
            "nl",
            [
                "Gebruik: trajectbot [OPTIONS] COMMAND [ARGS]...",
                "Probeer 'trajectbot --help' voor hulp.",
                "Fout: Onbekende opdracht 'nosuchcommand'.",
            ],
        ),
        (
            "ar",
            [
                "الاستخدام: trajectbot [OPTIONS] COMMAND [ARGS]...",
                "جرّب 'trajectbot --help' للمساعدة.",
                "خطأ: لا يوجد أمر باسم 'nosuchcommand'.",
            ],
        ),
        (
            "en",
            [
                "Usage: trajectbot [OPTIONS] COMMAND [ARGS]...",
                "Try 'trajectbot --help' for help.",
                "Error: No such command 'nosuchcommand'.",
            ],
        ),
    ],
)
def test_a_usage_error_is_in_cli_language(language: str, lines: list[str]) -> None:
    done = _trajectbot(["nosuchcommand"], language)
    assert done.returncode == 2
    assert [line for line in done.stderr.splitlines() if line] == lines


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nl", "Fout: Ontbrekende optie '--as'."),
        ("ar", "خطأ: خيار مفقود '--as'."),
        ("en", "Error: Missing option '--as'."),
    ],
)
def test_a_missing_option_is_in_cli_language(language: str, expected: str) -> None:
    done = _trajectbot(["queue"], language)
    assert done.returncode == 2
    assert expected in done.stderr.splitlines()


def test_a_plural_of_click_is_in_cli_language() -> None:
    done = _trajectbot(["quue"], "nl")
    assert "Fout: Onbekende opdracht 'quue'. Bedoelde je 'queue'?" in done.stderr


def test_clicks_words_are_clicks_own_msgids() -> None:
    """Each listed msgid is passed to gettext in click's source as written (a click upgrade
    that rewords one is noticed here) and translated in every language but English."""
    source = "".join(path.read_text(encoding="utf-8") for path in CLICK_SOURCE.glob("*.py"))
    messages = [*CLICK_WORDS, *(text for pair in CLICK_PLURALS for text in pair)]
    for message in messages:
        assert f'"{message}"' in source, message
    for language in sorted(set(LANGUAGES) - {"en"}):
        catalog = CATALOGS.get(language)
        for message in CLICK_WORDS:
            assert catalog.gettext(message) != message, (language, message)
        for singular, plural in CLICK_PLURALS:
            assert catalog.ngettext(singular, plural, 1) != singular, (language, singular)


def test_click_words_leave_the_process_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGUAGE", "fr")
    before = gettext.textdomain()
    with click_words("nl"):
        assert gettext.gettext("Usage:") == "Gebruik:"
        assert gettext.ngettext(*CLICK_PLURALS[0], 2) == "Onverwachte extra argumenten ({args})"
    assert gettext.textdomain() == before
    assert os.environ["LANGUAGE"] == "fr"
    assert gettext.gettext("Usage:") == "Usage:"
    monkeypatch.delenv("LANGUAGE")
    with click_words("ar"):
        assert gettext.gettext("Options") == "الخيارات"
    assert "LANGUAGE" not in os.environ


def test_in_one_process_the_help_option_follows_the_language(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for language, expected in (("nl", "Toon dit bericht en stop."), ("en", "Show this message")):
        monkeypatch.setenv("CLI_LANGUAGE", language)
        with pytest.raises(SystemExit):
            main(["queue", "--help"], prog_name="trajectbot")
        assert expected in capsys.readouterr().out
