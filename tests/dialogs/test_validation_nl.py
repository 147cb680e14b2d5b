"""Validation errors in Dutch: the reader's language, with the numbers that matter.

Needs the compiled Dutch catalog (``locales/nl/LC_MESSAGES/messages.mo``, built by
``make locales``); without it Dutch falls back to the English source text and these fail.
"""

from __future__ import annotations

from datetime import date

import pytest

from dialogs.flow import Step, StepKind
from dialogs.flows.verwijzing import VERWIJZING
from dialogs.i18n import Catalog
from dialogs.replies import Reply, ReplyKind
from dialogs.text import Text
from tests.dialogs.helpers import CATALOGS, EN, Chat, mentee_context, toy_flow

NL = CATALOGS.get("nl")

NOTE = Step("note", StepKind.TEXT, prompt="A note?", label="Note", min_length=3, max_length=12)
ONE = Step("one", StepKind.TEXT, prompt="One?", label="One", max_length=1)
DAY = Step("day", StepKind.DATE, prompt="Which day?", label="Day", max_days_ahead=30)


def _first_notice(replies: list[Reply]) -> Text:
    notices = [r for r in replies if r.kind is ReplyKind.NOTICE]
    assert notices, "expected a notice"
    return notices[0].lines[0]


def _both(text: Text) -> tuple[str, str]:
    return NL.render(text), EN.render(text)


def test_the_dutch_catalog_is_compiled() -> None:
    assert "nl" not in CATALOGS.missing(), "run `make locales`"
    assert isinstance(NL, Catalog)
    assert NL.language == "nl"


def test_too_short_in_dutch_names_the_count() -> None:
    chat = Chat(VERWIJZING, mentee_context())
    chat.press("Zoë de Vries")

    dutch, english = _both(_first_notice(chat.type("Boos.")))

    assert dutch != english
    assert "10" in dutch
    assert "character" not in dutch


def test_too_short_singular_in_dutch() -> None:
    chat = Chat(toy_flow(ONE))

    singular = _first_notice(chat.type("   "))
    dutch, english = _both(singular)

    assert dutch != english
    assert "1" in dutch
    assert singular.plural is not None
    plural_dutch = NL.render(Text.plural_of(singular.msgid, singular.plural, 2))
    assert plural_dutch != dutch  # the Dutch catalog has both plural forms


def test_too_long_in_dutch_names_the_limit_and_the_length() -> None:
    chat = Chat(toy_flow(NOTE))

    dutch, english = _both(_first_notice(chat.type("a" * 15)))

    assert dutch != english
    assert "12" in dutch
    assert "15" in dutch


@pytest.mark.parametrize(
    ("typed_date", "must_contain"),
    [
        ("20-11-2026", ""),
        ("31-2", "14-12-2026"),  # the example date
        ("24-12-2026", "december"),  # the limit, a date in Dutch
    ],
)
def test_date_errors_in_dutch(typed_date: str, must_contain: str) -> None:
    chat = Chat(toy_flow(DAY))

    dutch, english = _both(_first_notice(chat.type(typed_date)))

    assert dutch != english
    assert must_contain in dutch


def test_weekend_error_in_dutch() -> None:
    chat = Chat(VERWIJZING, mentee_context())
    chat.state = chat.state.evolve(step="intake_from")

    dutch, english = _both(_first_notice(chat.type("28-11")))

    assert dutch != english


def test_help_after_two_invalid_answers_in_dutch() -> None:
    chat = Chat(VERWIJZING, mentee_context())
    chat.press("Zoë de Vries")
    chat.type("Boos.")
    replies = chat.type("Boos.")

    notices = [r for r in replies if r.kind is ReplyKind.NOTICE]
    assert len(notices) == 2
    help_nl = [NL.render(line) for line in notices[1].lines]
    help_en = [EN.render(line) for line in notices[1].lines]

    assert len(help_nl) == 3
    assert all(nl != en for nl, en in zip(help_nl, help_en, strict=True))


def test_progress_in_dutch() -> None:
    # ux.md: "Vraag 3 van 8".
    chat = Chat(VERWIJZING, mentee_context())

    assert NL.render(chat.question.lines[0]) == "Vraag 1 van 13"


def test_dutch_dates_in_a_validation_error_use_dutch_names() -> None:
    chat = Chat(toy_flow(DAY))

    dutch = NL.render(_first_notice(chat.type("24-12-2026")))

    assert NL.render(Text.raw(date(2026, 12, 23))) in dutch
    assert "woensdag" in dutch
