"""The whole referral through the engine, as a mentor would fill it in."""

from __future__ import annotations

from datetime import date

from dialogs.flows import FLOWS, get_flow
from dialogs.flows.verwijzing import VERWIJZING
from dialogs.replies import ReplyKind
from dialogs.state import Status
from dialogs.text import Text
from tests.dialogs.helpers import (
    EN,
    Chat,
    day,
    kinds,
    label,
    mentee_context,
    opt,
    prompt,
    render,
)


def test_the_flow_is_registered() -> None:
    assert get_flow("verwijzing") is VERWIJZING
    assert {"verwijzing", "queue_decline", "queue_note"} <= set(FLOWS)


def test_a_full_referral_ends_with_the_exact_answers() -> None:
    chat = Chat(VERWIJZING, mentee_context())

    chat.type("zoe")
    chat.press("Zoë de Vries")
    chat.type("Ik wil minder boos worden in de klas.")
    chat.type("Hoe help ik hem rustig te blijven?")
    chat.type("Twee gesprekken met de mentor, plek bij de deur.")
    chat.press("Skip")  # what works at home
    chat.type("Vooraan zitten.")
    chat.press(opt("urgency", "high"))
    chat.press("No")
    chat.type("Ik bel ze donderdag na de ouderavond.")
    chat.press(opt("support", "time_out"), opt("support", "conversations"), "Done ✓")
    chat.type("28-11")  # a Saturday: refused
    chat.type("30-11")
    chat.press(opt("intake_days", "thu"), opt("intake_days", "tue"), "Done ✓", "No")
    assert chat.state.step == "summary"

    summary = render(chat.question).splitlines()
    replies = chat.press("Send ✓")

    assert summary == [
        prompt("summary"),
        f"{label('student_id')}: Zoë de Vries",
        f"{label('help_question_student')}: Ik wil minder boos worden in de klas.",
        f"{label('help_question_teacher')}: Hoe help ik hem rustig te blijven?",
        f"{label('tried')}: Twee gesprekken met de mentor, plek bij de deur.",
        f"{label('works_at_home')}: (skipped)",
        f"{label('works_at_school')}: Vooraan zitten.",
        f"{label('urgency')}: {opt('urgency', 'high')}",
        f"{label('parents_informed')}: No",
        f"{label('parents_not_informed_reason')}: Ik bel ze donderdag na de ouderavond.",
        f"{label('support')}: {opt('support', 'conversations')} and {opt('support', 'time_out')}",
        f"{label('intake_from')}: {day(date(2026, 11, 30))}",
        f"{label('intake_days')}: {opt('intake_days', 'tue')} and {opt('intake_days', 'thu')}",
        f"{label('more_details')}: No",
    ]
    assert kinds(replies) == [ReplyKind.DONE]
    assert render(replies[0]) == EN.render(Text.of(VERWIJZING.done))
    assert chat.state.status is Status.COMPLETED
    assert dict(chat.state.answers) == {
        "student_id": "s01",
        "help_question_student": "Ik wil minder boos worden in de klas.",
        "help_question_teacher": "Hoe help ik hem rustig te blijven?",
        "tried": "Twee gesprekken met de mentor, plek bij de deur.",
        "works_at_school": "Vooraan zitten.",
        "urgency": "high",
        "parents_informed": False,
        "parents_not_informed_reason": "Ik bel ze donderdag na de ouderavond.",
        "support": ["conversations", "time_out"],
        "intake_from": "2026-11-30",
        "intake_days": ["tue", "thu"],
        "more_details": False,
    }


def test_a_referral_with_parents_informed_has_no_reason() -> None:
    chat = Chat(VERWIJZING, mentee_context())
    chat.press("Ahmed Çelik")
    chat.type("Ik wil rustiger worden.")
    chat.type("Hoe help ik haar focussen?")
    chat.type("Een gesprek met de ouders.")
    chat.type("Vaste routine.")
    chat.press("Skip", opt("urgency", "low"), "Yes")
    assert chat.state.step == "support"
    chat.press(opt("support", "return_after_absence"), "Done ✓")
    chat.press(day(date(2026, 11, 27)))
    chat.press(opt("intake_days", "mon"), opt("intake_days", "fri"), "Done ✓", "No")

    chat.press("Send ✓")

    assert chat.state.status is Status.COMPLETED
    assert dict(chat.state.answers) == {
        "student_id": "s02",
        "help_question_student": "Ik wil rustiger worden.",
        "help_question_teacher": "Hoe help ik haar focussen?",
        "tried": "Een gesprek met de ouders.",
        "works_at_home": "Vaste routine.",
        "urgency": "low",
        "parents_informed": True,
        "support": ["return_after_absence"],
        "intake_from": "2026-11-27",
        "intake_days": ["mon", "fri"],
        "more_details": False,
    }


def test_help_questions_need_ten_characters() -> None:
    chat = Chat(VERWIJZING, mentee_context())
    chat.press("Zoë de Vries")

    replies = chat.type("Boos.")

    assert render(replies[0]) == "That is too short: please write at least 10 characters."
    assert chat.state.step == "help_question_student"
