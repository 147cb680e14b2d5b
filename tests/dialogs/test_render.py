"""Rendering replies for a reader: isolates in Arabic, language fallbacks, local dates."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import get_day_names

from dialogs.flow import Step, StepKind
from dialogs.i18n import DEFAULT_LANGUAGE, FSI, LANGUAGES, PDI, Catalogs, pick_language
from dialogs.render import render_reply
from dialogs.text import Text
from tests.dialogs.helpers import CATALOGS, EN, Chat, toy_flow

AR = CATALOGS.get("ar")
DAY = Step("day", StepKind.DATE, prompt="Which day?", label="Day", max_days_ahead=30)
AGREE = Step("agree", StepKind.YES_NO, prompt="Agree?", label="Agree")


# -- right to left ---------------------------------------------------------------------------


def test_arabic_wraps_placeholder_values_in_isolates() -> None:
    assert AR.rtl
    text = Text.of("Question {number} of {total}", number=3, total=12)

    rendered = AR.render(text)

    assert f"{FSI}3{PDI}" in rendered
    assert f"{FSI}12{PDI}" in rendered
    assert (FSI, PDI) == ("\u2068", "\u2069")


def test_arabic_wraps_a_latin_name() -> None:
    assert AR.render(Text.raw("Zoë de Vries")) == "\u2068Zoë de Vries\u2069"


def test_a_raw_value_inside_a_message_is_isolated_once() -> None:
    # The same-day reminder showed "\u2068\u206810:00 ص\u2069\u2069": Text.raw nested in a
    # placeholder was isolated by itself and again as the placeholder's value.
    rendered = AR.render(Text.of("Starts at {time}.", time=Text.raw(time(10, 0))))
    assert rendered.count(FSI) == 1
    assert rendered.count(PDI) == 1
    assert rendered == AR.render(Text.of("Starts at {time}.", time=time(10, 0)))


def test_arabic_wraps_the_progress_of_a_real_question() -> None:
    chat = Chat(toy_flow(DAY, AGREE))

    rendered = render_reply(chat.question, AR)

    assert f"{FSI}1{PDI}" in rendered.text.splitlines()[0]
    assert f"{FSI}2{PDI}" in rendered.text.splitlines()[0]
    assert all(
        button.label.startswith(FSI) and button.label.endswith(PDI)
        for button in rendered.rows[0]  # the date buttons
    )


def test_english_has_no_isolates() -> None:
    assert not EN.rtl
    assert FSI not in EN.render(Text.of("Question {number} of {total}", number=3, total=12))
    assert EN.render(Text.raw("Zoë")) == "Zoë"


# -- language choice -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        (("nl-BE",), "nl"),
        (("nl_NL",), "nl"),
        ((None,), "nl"),
        (("fr",), "nl"),
        (("",), "nl"),
        ((), "nl"),
        (("en-GB",), "en"),
        (("AR",), "ar"),
        (("fr", "tr-TR"), "tr"),
        ((None, "uk"), "uk"),
        (("pl", "en"), "pl"),
    ],
)
def test_pick_language(candidates: tuple[str | None, ...], expected: str) -> None:
    assert pick_language(*candidates) == expected


def test_the_default_language_is_dutch_and_supported() -> None:
    assert DEFAULT_LANGUAGE == "nl"
    assert set(LANGUAGES) == {"nl", "en", "ar", "tr", "pl", "uk"}


@pytest.mark.parametrize("language", ["fr", None, "xx-YY"])
def test_an_unsupported_catalog_request_gets_dutch(language: str | None) -> None:
    assert Catalogs().get(language).language == "nl"


def test_catalogs_are_loaded_once() -> None:
    catalogs = Catalogs()

    assert catalogs.get("en") is catalogs.get("en-US")


def test_english_renders_from_the_msgids_without_a_catalog(tmp_path: Path) -> None:
    empty = Catalogs(path=tmp_path)
    english = empty.get("en")

    assert english.render(Text.of("Question {number} of {total}", number=3, total=12)) == (
        "Question 3 of 12"
    )
    assert english.render(Text.plural_of("{count} day", "{count} days", 1)) == "1 day"
    assert english.render(Text.plural_of("{count} day", "{count} days", 2)) == "2 days"
    assert empty.missing() == list(LANGUAGES)


# -- dates and lists -------------------------------------------------------------------------


def test_dates_render_with_the_weekday_in_english() -> None:
    rendered = EN.render(Text.raw(date(2026, 11, 30)))

    assert "Mon" in rendered  # "Monday" or "Mon"
    assert "30" in rendered


def test_dutch_dates_read_as_people_say_them() -> None:
    # ux.md: "dinsdag 1 december, 10:30" in nl.
    nl = CATALOGS.get("nl")
    school_time = datetime(2026, 12, 1, 10, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))

    assert nl.render(Text.raw(date(2026, 12, 1))) == "dinsdag 1 december"
    assert nl.render(Text.raw(school_time)) == "dinsdag 1 december, 10:30"


@pytest.mark.parametrize("language", ["nl", "en", "ar", "tr", "pl", "uk"])
def test_dates_render_with_the_weekday_in_each_locale(language: str) -> None:
    monday = date(2026, 11, 30)
    names = {
        str(get_day_names(width, locale=language)[monday.weekday()])
        for width in ("wide", "abbreviated")
    }

    rendered = CATALOGS.get(language).render(Text.raw(monday))

    assert any(name in rendered for name in names), (rendered, names)
    assert "30" in rendered


def test_the_date_buttons_show_weekdays() -> None:
    chat = Chat(toy_flow(DAY, AGREE))

    rendered = render_reply(chat.question, EN)

    date_labels = [b.label for row in rendered.rows[:3] for b in row]
    weekdays = [label.split(",")[0][:3] for label in date_labels]
    assert weekdays == ["Tue", "Wed", "Thu", "Fri", "Mon"]
    assert date_labels == [EN.render(Text.raw(date(2026, 11, d))) for d in (24, 25, 26, 27, 30)]


def test_datetimes_render_in_school_time() -> None:
    utc = datetime(2026, 12, 1, 9, 30, tzinfo=ZoneInfo("UTC"))  # 10:30 in Amsterdam

    assert "10:30" in EN.render(Text.raw(utc))
    assert "10:30" in CATALOGS.get("nl").render(Text.raw(utc))


def test_lists_are_joined_in_the_readers_language() -> None:
    items = (Text.raw("Apple"), Text.raw("Cherry"))

    assert EN.render(Text.raw(items)) == "Apple and Cherry"
    assert CATALOGS.get("nl").render(Text.raw(items)) == "Apple en Cherry"


def test_rendered_buttons_carry_the_encoded_event() -> None:
    chat = Chat(toy_flow(AGREE, DAY))

    rendered = render_reply(chat.question, EN)

    assert [(b.label, b.payload) for b in rendered.rows[0]] == [
        ("Yes", "c:1.run001:yes"),
        ("No", "c:1.run001:no"),
    ]
    assert rendered.step == "agree"
    assert rendered.kind.value == "question"
