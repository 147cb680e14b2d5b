"""Referrals (verwijzingen): a mentor asks the care coordinator to take a student on."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flows.verwijzing import ABSENCE_DAYS_MAX, SHORT_TEXT_MAX
from dialogs.text import N_, Text
from services.consent.records import add_consents
from services.kernel.access import is_mentor_of, require_role
from services.kernel.errors import DraftInvalid, NotAllowed
from services.kernel.languages import SUPPORTED_LANGUAGES
from services.kernel.text_input import clean_text, validate_text
from services.outbox.kinds import OutboxKind
from services.queue.items import Audit, Notice, open_item
from services.referrals.student_voice import ask_student_voice
from storage.models import (
    Absence,
    ConsentPurpose,
    ExternalCare,
    ObservationFocus,
    Person,
    QueueKind,
    Referral,
    Role,
    SupportKind,
    Urgency,
    Weekday,
    YesNoUnknown,
)

log = logging.getLogger(__name__)

FREE_TEXT_MAX = 2000
EXTERNAL_CARE_MAX = SHORT_TEXT_MAX
#: The parents' language: a language the product speaks, or ``other``.
PARENT_LANGUAGES = frozenset({*SUPPORTED_LANGUAGES, "other"})
REFERRAL_NEW = OutboxKind.REFERRAL_NEW

__all__ = [
    "FREE_TEXT_MAX",
    "REFERRAL_NEW",
    "ReferralDraft",
    "SupportKind",
    "Urgency",
    "Weekday",
    "list_referrals_by_mentor",
    "submit_referral",
    "validate_draft",
]


@dataclass(frozen=True, slots=True)
class ReferralDraft:
    """What the mentor answered, before it is stored. Free text is kept as written."""

    student_id: int
    help_question_student: str
    help_question_teacher: str
    tried: str
    works_at_home: str | None
    works_at_school: str | None
    urgency: Urgency
    parents_informed: bool
    parents_not_informed_reason: str | None
    support: tuple[SupportKind, ...]
    intake_from: date
    intake_days: tuple[Weekday, ...]
    text_language: str
    # Issue 15: the optional asks (None: not answered).
    external_care: ExternalCare | None = None
    external_care_which: str | None = None
    has_opp: YesNoUnknown | None = None
    absence: Absence | None = None
    absence_days: int | None = None
    observation_focus: tuple[ObservationFocus, ...] = ()
    parents_language: str | None = None
    interpreter_needed: bool | None = None
    #: The consents the mentor records: (who gave it, for what); the student or a parent.
    consents: tuple[tuple[int, ConsentPurpose], ...] = ()
    #: Ask the student for their own help question now, not after acceptance.
    ask_student_now: bool = False


def validate_draft(draft: ReferralDraft) -> dict[str, Text]:
    """Problems with ``draft`` by field name; empty when it may be stored.

    The dialog validates as it asks; this repeats the rules the database relies on, because
    a draft can also come from elsewhere (a test, a future web form, an old stored state).
    """
    problems: dict[str, Text] = {}
    required = {
        "help_question_student": draft.help_question_student,
        "help_question_teacher": draft.help_question_teacher,
        "tried": draft.tried,
    }
    optional = {"works_at_home": draft.works_at_home, "works_at_school": draft.works_at_school}
    if not draft.parents_informed:
        required["parents_not_informed_reason"] = draft.parents_not_informed_reason or ""
    for name, value in (required | optional).items():
        if value is None:
            continue
        if not value.strip():
            if name in required:
                problems[name] = Text.of(N_("Please fill this in."))
            else:
                problems[name] = Text.of(N_("Skip this question or write an answer."))
        elif len(value) > FREE_TEXT_MAX:
            problems[name] = Text.plural_of(
                "Please write at most {count} character.",
                "Please write at most {count} characters.",
                FREE_TEXT_MAX,
            )
    if draft.external_care_which is not None and (
        problem := validate_text(draft.external_care_which, 1, EXTERNAL_CARE_MAX)
    ):
        problems["external_care_which"] = problem
    if draft.absence_days is not None and not 0 <= draft.absence_days <= ABSENCE_DAYS_MAX:
        problems["absence_days"] = Text.of(
            N_("Four weeks have at most {count} school days."), count=ABSENCE_DAYS_MAX
        )
    if draft.parents_language is not None and draft.parents_language not in PARENT_LANGUAGES:
        problems["parents_language"] = Text.of(N_("Please choose one of the options."))
    if not draft.support:
        problems["support"] = Text.of(N_("Choose at least one kind of support."))
    if draft.text_language not in SUPPORTED_LANGUAGES:
        problems["text_language"] = Text.of(N_("This language is not supported."))
    # Enum fields are checked too: a draft rebuilt from stored JSON may hold plain strings.
    for name, values, kind in (
        ("urgency", (draft.urgency,), Urgency),
        ("support", draft.support, SupportKind),
        ("intake_days", draft.intake_days, Weekday),
        (
            "external_care",
            () if draft.external_care is None else (draft.external_care,),
            ExternalCare,
        ),
        ("has_opp", () if draft.has_opp is None else (draft.has_opp,), YesNoUnknown),
        ("absence", () if draft.absence is None else (draft.absence,), Absence),
        ("observation_focus", draft.observation_focus, ObservationFocus),
        ("consents", tuple(purpose for _giver, purpose in draft.consents), ConsentPurpose),
    ):
        if any(value not in set(kind) for value in values):
            problems.setdefault(name, Text.of(N_("Please choose one of the options.")))
    return problems


async def submit_referral(
    *, session: AsyncSession, mentor: Person, draft: ReferralDraft, now: datetime
) -> Referral:
    """Store a referral with its queue item, notifications and audit row; return the referral.

    An operation: joins the caller's transaction and flushes, never commits, so the four
    writes land together or not at all (the item, its notifications and the audit row through
    `services.queue.items.open_item`). Raises `DraftInvalid` for a draft that breaks the
    rules, `NotAllowed` unless ``mentor`` holds the mentor role and is mentor of the student
    in their own school (both read from the database).
    """
    problems = validate_draft(draft)
    if problems:
        raise DraftInvalid(problems)
    mentor = await require_role(session=session, actor=mentor, role=Role.MENTOR)
    if not await is_mentor_of(session=session, mentor=mentor, student_id=draft.student_id):
        log.info("referral refused: person_id=%s is not mentor of %s", mentor.id, draft.student_id)
        raise NotAllowed(Text.of(N_("You can only refer students you are the mentor of.")))

    referral = Referral(
        school_id=mentor.school_id,
        student_id=draft.student_id,
        mentor_id=mentor.id,
        help_question_student=draft.help_question_student,
        help_question_teacher=draft.help_question_teacher,
        tried=draft.tried,
        works_at_home=draft.works_at_home,
        works_at_school=draft.works_at_school,
        urgency=Urgency(draft.urgency),
        parents_informed=draft.parents_informed,
        # A reason only means something when the parents were not told.
        parents_not_informed_reason=(
            None if draft.parents_informed else draft.parents_not_informed_reason
        ),
        support=_unique_codes(draft.support),
        intake_from=draft.intake_from,
        intake_days=_unique_codes(draft.intake_days),
        text_language=draft.text_language,
        external_care=None if draft.external_care is None else draft.external_care.value,
        # Which care only means something when there is some.
        external_care_which=(
            clean_text(draft.external_care_which)
            if draft.external_care is ExternalCare.YES and draft.external_care_which
            else None
        ),
        has_opp=None if draft.has_opp is None else draft.has_opp.value,
        absence=None if draft.absence is None else draft.absence.value,
        absence_days=None if draft.absence in (None, Absence.NONE) else draft.absence_days,
        observation_focus=(
            _unique_codes(draft.observation_focus)
            if SupportKind.CLASS_OBSERVATION in draft.support and draft.observation_focus
            else None
        ),
        parents_language=draft.parents_language,
        interpreter_needed=draft.interpreter_needed,
        created_at=now,
    )
    session.add(referral)
    await session.flush()
    await add_consents(
        session=session,
        referral=referral,
        given=[
            (giver, ConsentPurpose(purpose)) for giver, purpose in dict.fromkeys(draft.consents)
        ],
        recorded_by=mentor,
        now=now,
    )

    await open_item(
        session=session,
        school_id=mentor.school_id,
        kind=QueueKind.REFERRAL,
        actor_id=mentor.id,
        referral_id=referral.id,
        notice=Notice(REFERRAL_NEW, subject_id=referral.id, payload={"referral_id": referral.id}),
        audit=Audit(
            "referral.submit",
            subject_type="referral",
            subject_id=referral.id,
            details={"student_id": draft.student_id},
        ),
        now=now,
    )
    if draft.ask_student_now:
        await ask_student_voice(session=session, referral=referral, now=now)
    await session.flush()
    log.info("referral_id=%s submitted by person_id=%s", referral.id, mentor.id)
    return referral


async def list_referrals_by_mentor(*, session: AsyncSession, mentor: Person) -> list[Referral]:
    """The referrals ``mentor`` submitted in their school, newest first (a query, no writes)."""
    result = await session.scalars(
        select(Referral)
        .where(Referral.mentor_id == mentor.id, Referral.school_id == mentor.school_id)
        .order_by(Referral.created_at.desc(), Referral.id.desc())
    )
    return list(result)


def _unique_codes(codes: tuple[str, ...]) -> list[str]:
    return [str(code) for code in dict.fromkeys(codes)]
