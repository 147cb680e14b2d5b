"""The Telegram summary shows the referral's optional answers, the student's own words and
the consents — the same lines the web page shows (`services.queue.referral_view`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.telegram.handlers.care import summary_text
from dialogs.i18n import Catalogs
from services.consent.records import ConsentRow
from services.outbox.channels import ChatTarget, chat_target, parse_chat_target
from services.outbox.kinds import OutboxKind
from services.queue.referral_view import ReferralView
from storage.models import ConsentGiver, ConsentPurpose, QueueStatus, SupportKind, Urgency, Weekday

WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
EN = Catalogs().get("en")


def _view(**changes: object) -> ReferralView:
    values: dict[str, object] = {
        "queue_item_id": 4,
        "referral_id": 3,
        "status": QueueStatus.NEW,
        "created_at": WHEN,
        "assignee_name": None,
        "decision": None,
        "decision_reason": None,
        "decided_at": None,
        "decided_by_name": None,
        "student_name": "Noor Bremhorst",
        "group_name": "2B",
        "mentor_name": "Ruben Lesterhuis",
        "referred_at": WHEN,
        "help_question_student": "Ze wil rustiger worden.",
        "help_question_teacher": "Hoe help ik haar?",
        "tried": "Gesprekjes.",
        "works_at_home": None,
        "works_at_school": None,
        "urgency": Urgency.NORMAL,
        "parents_informed": True,
        "parents_not_informed_reason": None,
        "support": (SupportKind.CLASS_OBSERVATION,),
        "intake_from": date(2026, 3, 9),
        "intake_days": (Weekday.MON,),
        "text_language": "nl",
        "notes": (),
        "history": (),
    }
    values.update(changes)
    return ReferralView(**values)  # type: ignore[arg-type]


def test_the_summary_carries_the_asks_the_students_words_and_each_consent() -> None:
    view = _view(
        external_care="yes",
        external_care_which="Jeugdhulp",
        absence="a_lot",
        absence_days=6,
        observation_focus=("teacher",),
        parents_language="uk",
        interpreter_needed=True,
        student_voice="Ik wil beter plannen.",
        student_voice_at=WHEN,
        consents=(
            ConsentRow(
                1,
                ConsentGiver.PARENT,
                "Olena Bremhorst",
                ConsentPurpose.DISTRICT_COACH,
                WHEN,
                "Ruben Lesterhuis",
                WHEN,
                "Zora Zorg",
            ),
        ),
    )
    text = summary_text(view, EN)
    assert "External care: Yes (Jeugdhulp)" in text
    assert "Recent absence: A lot (6 days in the last four weeks)" in text
    assert "Observation looks at: The teacher's approach" in text
    assert "Parents' language: Українська" in text
    assert "Interpreter needed: Yes" in text
    assert "The student's own words" in text
    assert "Ik wil beter plannen." in text
    assert "Olena Bremhorst (parent): The district coach (from the partnership)" in text
    assert "recorded by Ruben Lesterhuis" in text
    assert "withdrawn" in text
    assert "by Zora Zorg" in text


def test_without_answers_the_summary_says_no_consent_yet() -> None:
    text = summary_text(_view(), EN)
    assert "Consent: none recorded yet." in text
    assert "External care" not in text


def test_the_email_link_opens_the_help_question() -> None:
    target = chat_target(OutboxKind.STUDENT_VOICE_ASK, {"referral_id": 3})
    assert target == "help-question/3"
    assert parse_chat_target(target) == (ChatTarget.HELP_QUESTION, 3)
