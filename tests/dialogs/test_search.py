"""The mentee list: typed text searches, long lists page by eight."""

from __future__ import annotations

import pytest

from dialogs.engine import PAGE_SIZE
from dialogs.events import Action
from dialogs.flows.verwijzing import VERWIJZING
from dialogs.replies import ReplyKind
from tests.dialogs.helpers import (
    MENTEE_NAMES,
    MENTEE_OPTIONS,
    Chat,
    kinds,
    labels,
    mentee_context,
    notices,
    option_buttons,
    prompt,
    render,
    rows,
)


def _names(chat: Chat) -> list[str]:
    return [render_label for render_label in labels(chat.question) if render_label in MENTEE_NAMES]


def _chat() -> Chat:
    return Chat(VERWIJZING, mentee_context())


def test_the_mentee_question_accepts_text_and_hints_at_search() -> None:
    chat = _chat()

    assert chat.question.accepts_text
    assert render(chat.question).splitlines() == [
        "Question 1 of 13",
        prompt("student_id"),
        "Tip: type part of a name to search.",
    ]


def test_a_short_list_says_tap_a_name() -> None:
    chat = Chat(VERWIJZING, mentee_context(MENTEE_OPTIONS[:3]))

    assert render(chat.question).splitlines()[-1] == "Tap a name."
    assert _names(chat) == list(MENTEE_NAMES[:3])
    assert "More…" not in labels(chat.question)


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("zoe", ["Zoë de Vries"]),
        ("ZOË", ["Zoë de Vries"]),
        ("celik", ["Ahmed Çelik"]),
        ("  Çelik\n", ["Ahmed Çelik"]),
        (
            "DE",
            [
                "Zoë de Vries",
                "Emma de Boer",
                "Sem Mulder",
                "Julia de Graaf",
                "Finn Dekker",
                "Olivia de Wit",
            ],
        ),
    ],
)
def test_typed_text_filters_accent_and_case_insensitively(query: str, found: list[str]) -> None:
    chat = _chat()

    replies = chat.type(query)

    assert kinds(replies) == [ReplyKind.QUESTION]
    assert _names(chat) == found
    assert chat.state.query == query.strip()
    assert "student_id" not in chat.state.answers


def test_the_search_result_says_what_was_searched() -> None:
    chat = _chat()

    chat.type("zoe")

    assert render(chat.question).splitlines()[-1] == (
        "Showing results for “zoe”. Type another name to search again."
    )


def test_pressing_a_search_result_answers_the_question() -> None:
    chat = _chat()
    chat.type("zoe")

    replies = chat.press("Zoë de Vries")

    assert chat.state.answers == {"student_id": "s01"}
    assert render(replies[0]) == "Student: Zoë de Vries ✓"
    assert chat.state.query == ""
    assert chat.state.step == "help_question_student"


def test_no_match_gives_a_notice_and_the_full_list_again() -> None:
    chat = _chat()
    chat.type("zoe")

    replies = chat.type("Xavier")

    assert kinds(replies) == [ReplyKind.NOTICE, ReplyKind.QUESTION]
    assert notices(replies) == ["No one found for “Xavier”. Try another part of the name."]
    assert chat.state.query == ""
    assert _names(chat) == list(MENTEE_NAMES[:PAGE_SIZE])
    assert "More…" in labels(chat.question)


def test_the_list_pages_by_eight_with_more_and_previous() -> None:
    chat = _chat()  # 19 mentees: 8 + 8 + 3
    assert PAGE_SIZE == 8

    pages = []
    nav = []
    for _ in range(3):
        pages.append(_names(chat))
        nav.append([label for label in labels(chat.question) if label in ("More…", "‹ Previous")])
        if "More…" in labels(chat.question):
            chat.press("More…")

    assert pages == [
        list(MENTEE_NAMES[0:8]),
        list(MENTEE_NAMES[8:16]),
        list(MENTEE_NAMES[16:19]),
    ]
    assert nav == [["More…"], ["‹ Previous", "More…"], ["‹ Previous"]]
    assert chat.state.page == 2

    chat.press("‹ Previous")
    assert _names(chat) == list(MENTEE_NAMES[8:16])


def test_no_page_shows_more_than_eight_option_buttons() -> None:
    chat = _chat()
    counts = []
    while True:
        counts.append(len(option_buttons(chat.question)))
        if "More…" not in labels(chat.question):
            break
        chat.press("More…")

    assert counts == [8, 8, 3]


def test_names_fit_two_to_a_row() -> None:
    chat = _chat()

    name_rows = [row for row in rows(chat.question) if set(row) <= set(MENTEE_NAMES)]

    assert [len(row) for row in name_rows] == [2, 2, 2, 2]


def test_a_name_on_a_later_page_can_be_picked() -> None:
    chat = _chat()
    chat.press("More…", "More…")

    chat.press("Olivia de Wit")

    assert chat.state.answers == {"student_id": "s19"}


def test_a_name_from_another_page_is_still_a_valid_choice() -> None:
    # The keyboard shows a page, but the choice is checked against the whole list.
    chat = _chat()
    chat.press("More…")

    chat.act(Action.CHOOSE, "s01")

    assert chat.state.answers == {"student_id": "s01"}


def test_a_search_starts_again_on_the_first_page() -> None:
    chat = _chat()
    chat.press("More…")
    assert chat.state.page == 1

    chat.type("e")

    assert chat.state.page == 0
    assert len(option_buttons(chat.question)) == PAGE_SIZE  # many names have an e
    assert "More…" in labels(chat.question)


def test_an_out_of_range_page_shows_the_last_page() -> None:
    chat = _chat()

    chat.act(Action.PAGE, "40")

    assert _names(chat) == list(MENTEE_NAMES[16:19])
    chat.press("‹ Previous")
    assert _names(chat) == list(MENTEE_NAMES[8:16])
