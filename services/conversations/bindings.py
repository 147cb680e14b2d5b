"""What each flow needs from the database: who may use it, its context, what completing writes.

The engine knows flows as pure data; this table connects each one to storage. Adding a flow
means adding a binding here and its definition in `dialogs.flows`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flow import Answers, AnswerValue, FlowContext, Option
from dialogs.flows.afspraken import BOOK as BOOK_APPOINTMENT
from dialogs.flows.afspraken import CANCEL as CANCEL_APPOINTMENT
from dialogs.flows.afspraken import MOVE as MOVE_APPOINTMENT
from dialogs.flows.exit_survey import SURVEY_FLOWS
from dialogs.flows.logbook import AGENDA_LOGBOOK
from dialogs.flows.logbook import APPOINTMENT as AGENDA_APPOINTMENT
from dialogs.flows.parents_access import NO, PARENTS_ACCESS, SHARE
from dialogs.flows.plan import PLAN
from dialogs.flows.queue import DECLINE, NOTE, QUEUE_ITEM, TIMEOUT_DECLINE
from dialogs.flows.student_voice import OWN_WORDS, STUDENT_VOICE
from dialogs.flows.student_voice import REFERRAL as VOICE_REFERRAL
from dialogs.flows.verwijzing import (
    EXISTING,
    EXISTING_STEP,
    MENTEES,
    MORE,
    STUDENT_STEP,
    SUMMARY_STEP,
    VERWIJZING,
    existing_details,
    existing_note,
    parents_key,
)
from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import Text
from services.accounts.people import mentees_of, parents_of_students
from services.appointments.agenda import (
    NOT_ON_AGENDA,
    add_agenda_logbook_entry,
    agenda_appointment,
)
from services.appointments.timeout_requests import decline_timeout_request
from services.conversations import appointment_bindings as appointment_flows
from services.conversations import plan_bindings
from services.kernel.adulthood import may_decide, must_ask
from services.kernel.errors import NotAllowed, NotFound
from services.kernel.ids import parse_id
from services.kernel.uow import update_cache, update_memo
from services.privacy.parents_access import answer_parents_access
from services.queue.notes import add_note
from services.referrals.decisions import decline
from services.referrals.duplicates import open_referrals_of_mentees
from services.referrals.rules import stage_label
from services.referrals.student_voice import NOT_AVAILABLE as VOICE_NOT_AVAILABLE
from services.referrals.student_voice import pending_referral, save_student_voice
from services.referrals.submission import ReferralDraft, submit_referral
from services.surveys.completion import complete_survey, survey_context
from services.surveys.invitations import RESPONDENT_ROLES
from storage.models import (
    Absence,
    ConsentPurpose,
    ExternalCare,
    ObservationFocus,
    Person,
    RespondentType,
    Role,
    SupportKind,
    Urgency,
    Weekday,
    YesNoUnknown,
)


class ContextBuilder(Protocol):
    """Builds what the engine may know for one person (their mentees, say)."""

    async def __call__(
        self, *, session: AsyncSession, person: Person, today: date
    ) -> FlowContext: ...


class AnswersContextBuilder(Protocol):
    """Builds the context from the answers so far too (the free times of the day picked).

    The runtime calls it with the answers before each event, and again with the new answers
    when the event changed them or moved to another step (`dialogs.engine.reask`). ``step``
    is the step on screen (None: any step, as when a flow starts or resumes): a builder may
    leave out what only other steps show, so an ordinary step reads nothing it does not need.
    """

    async def __call__(
        self,
        *,
        session: AsyncSession,
        person: Person,
        now: datetime,
        answers: Answers,
        step: str | None = None,
    ) -> FlowContext: ...


class PresetBuilder(Protocol):
    """Answers a new run starts with, besides the caller's ``preset`` (the only student there
    is). Raises `NotAllowed` when the caller's preset is not this person's to use.
    """

    async def __call__(
        self, *, session: AsyncSession, person: Person, now: datetime, preset: Answers
    ) -> Mapping[str, AnswerValue]: ...


class Completion(Protocol):
    """Writes a confirmed flow's result inside the caller's transaction.

    May return the lines to show instead of the flow's fixed ``done`` text (what was booked).
    """

    async def __call__(
        self, *, session: AsyncSession, person: Person, answers: Answers, now: datetime
    ) -> Sequence[Text] | None: ...


@dataclass(frozen=True, slots=True)
class FlowBinding:
    """The storage side of one flow: who may use it, its context, what confirming writes.

    ``in_menu`` is False for flows that start from an item's own button (declining a
    referral), never from the main menu. ``answers_context``, when set, builds the context
    instead of ``context``, from the answers so far; ``preset`` adds answers to a new run.
    """

    roles: frozenset[Role]
    context: ContextBuilder
    complete: Completion
    in_menu: bool = True
    answers_context: AnswersContextBuilder | None = None
    preset: PresetBuilder | None = None
    #: Besides the roles, whom the flow is for (on the person as loaded, and the school's
    #: date): checked for the menu and again on every step, like the roles.
    offered: Callable[[Person, date], bool] | None = None
    #: When this holds the menu puts the flow first (a question the person still owes).
    first: Callable[[Person, date], bool] | None = None
    #: Completing it changes the person's own row (what the menu is built from).
    changes_person: bool = False


#: The verwijzing's steps that show or use a mentee's open referrals (`_referral_context`).
_WARNING_STEPS = frozenset({STUDENT_STEP, EXISTING_STEP, SUMMARY_STEP})


async def _referral_context(
    *,
    session: AsyncSession,
    person: Person,
    now: datetime,
    answers: Answers,
    step: str | None = None,
) -> FlowContext:
    """The mentor's own mentees; those with an open referral or trajectory; and, for the
    student picked, the warning with each one's date and stage (`open_referrals_of_mentees`).

    The open referrals are read only for the steps that use them (picking the student, the
    warning, the summary): the mentees come from the process cache, so a step in between reads
    nothing here."""
    today = now.astimezone(SCHOOL_TIMEZONE).date()
    picked = str(answers.get("student_id", ""))
    reads_open = step is None or step in _WARNING_STEPS
    # A step builds its context twice (before and after the answer): the same inputs, the same
    # context, built once per update.
    memo = update_memo()
    key = ("referral_context", person.id, today, picked, reads_open)
    if memo is not None and key in memo:
        kept = memo[key]
        assert isinstance(kept, FlowContext)  # noqa: S101 - only this function writes the key
        return kept
    choices = await _mentee_choices(session, person)
    labels = choices.labels
    existing = await open_referrals_of_mentees(session=session, mentor=person) if reads_open else {}
    cases = existing.get(int(picked), ()) if picked in labels else ()
    notes = tuple(
        existing_note(labels[picked], case.sent_on, stage_label(case.stage)) for case in cases
    )
    context = FlowContext(
        today=today,
        choices=MappingProxyType(
            {
                **choices.options,
                EXISTING: tuple(Option(str(sid), labels[str(sid)]) for sid in existing),
            }
        ),
        details=MappingProxyType(dict(existing_details(notes))),
    )
    if memo is not None:
        memo[key] = context
    return context


@dataclass(frozen=True, slots=True)
class _MenteeChoices:
    """A mentor's mentees as options, with each one's parents (what every verwijzing step
    shows the same way): built once per cache version, not on every step."""

    labels: Mapping[str, Text]
    options: Mapping[str, tuple[Option, ...]]


async def _mentee_choices(session: AsyncSession, person: Person) -> _MenteeChoices:
    cache = await update_cache()
    key = ("mentee_choices", person.id, person.school_id)
    if cache is not None and key in cache:
        kept: _MenteeChoices = cache.get(key)
        return kept
    mentees = await mentees_of(session=session, mentor=person)
    labels = {
        str(s.id): Text.raw(
            f"{s.display_name} ({s.group_name})" if s.group_name else s.display_name
        )
        for s in mentees
    }
    parents = await parents_of_students(
        session=session, school_id=person.school_id, student_ids=[s.id for s in mentees]
    )
    options: dict[str, tuple[Option, ...]] = {
        MENTEES: tuple(Option(code, label) for code, label in labels.items()),
        # Each mentee's parents, for the consent a parent gave (issue 15).
        **{
            parents_key(str(student_id)): tuple(
                Option(str(parent.id), Text.raw(parent.display_name)) for parent in found
            )
            for student_id, found in parents.items()
        },
    }
    choices = _MenteeChoices(MappingProxyType(labels), MappingProxyType(options))
    if cache is not None:
        # Valid while the people stand (mentorships, guardianships, names: the cache version).
        cache.put(key, choices)
    return choices


def referral_draft(answers: Answers, *, language: str) -> ReferralDraft:
    """The engine's verwijzing answers as the draft `submit_referral` validates again."""

    def text(key: str) -> str | None:
        value = answers.get(key)
        return value if isinstance(value, str) else None

    def codes(key: str) -> list[str]:
        value = answers.get(key)
        return value if isinstance(value, list) else []

    # The optional questions count only when the mentor chose to answer them (an answer
    # kept from before going back and choosing "no" does not).
    more = answers.get(MORE) is True

    def one(key: str) -> str | None:
        value = answers.get(key)
        return value if more and isinstance(value, str) and value else None

    def yes_no(key: str) -> bool | None:
        value = answers.get(key)
        return value if more and isinstance(value, bool) else None

    def extra_codes(key: str) -> list[str]:
        return codes(key) if more else []

    student_id = int(str(answers["student_id"]))
    consents = [(student_id, ConsentPurpose(code)) for code in extra_codes("consent_student")]
    parent = one("consent_parent")
    if parent is not None and parent.isdigit():
        consents += [
            (int(parent), ConsentPurpose(code)) for code in extra_codes("consent_parent_purposes")
        ]
    external_care = one("external_care")
    absence = one("absence")
    days = one("absence_days")
    has_opp = one("has_opp")
    return ReferralDraft(
        student_id=student_id,
        help_question_student=str(answers["help_question_student"]),
        help_question_teacher=str(answers["help_question_teacher"]),
        tried=str(answers["tried"]),
        works_at_home=text("works_at_home"),
        works_at_school=text("works_at_school"),
        urgency=Urgency(str(answers["urgency"])),
        parents_informed=answers["parents_informed"] is True,
        parents_not_informed_reason=text("parents_not_informed_reason"),
        support=tuple(SupportKind(code) for code in codes("support")),
        intake_from=date.fromisoformat(str(answers["intake_from"])),
        intake_days=tuple(Weekday(code) for code in codes("intake_days")),
        text_language=language,
        external_care=None if external_care is None else ExternalCare(external_care),
        external_care_which=one("external_care_which") if external_care == "yes" else None,
        has_opp=None if has_opp is None else YesNoUnknown(has_opp),
        absence=None if absence is None else Absence(absence),
        absence_days=(
            int(days)
            if days is not None and days.isdigit() and absence not in (None, "none")
            else None
        ),
        observation_focus=(
            tuple(ObservationFocus(code) for code in extra_codes("observation_focus"))
            if SupportKind.CLASS_OBSERVATION.value in codes("support")
            else ()
        ),
        parents_language=one("parents_language"),
        interpreter_needed=yes_no("interpreter_needed"),
        consents=tuple(consents),
        ask_student_now=yes_no("ask_student_now") is True,
    )


async def _submit_referral(
    *, session: AsyncSession, person: Person, answers: Answers, now: datetime
) -> None:
    draft = referral_draft(answers, language=person.language)
    await submit_referral(session=session, mentor=person, draft=draft, now=now)


def _voice_referral(answers: Answers) -> int:
    value = parse_id(answers.get(VOICE_REFERRAL))
    if value is None:
        raise NotAllowed(Text.of(VOICE_NOT_AVAILABLE))
    return value


async def _voice_preset(
    *, session: AsyncSession, person: Person, now: datetime, preset: Answers
) -> Mapping[str, AnswerValue]:
    """Nothing to add; refuses a referral that is not this student's to answer."""
    del now
    await pending_referral(session=session, person=person, referral_id=_voice_referral(preset))
    return {}


async def _save_voice(
    *, session: AsyncSession, person: Person, answers: Answers, now: datetime
) -> None:
    await save_student_voice(
        session=session,
        person=person,
        referral_id=_voice_referral(answers),
        text=str(answers[OWN_WORDS]),
        now=now,
    )


async def _parents_access(
    *, session: AsyncSession, person: Person, answers: Answers, now: datetime
) -> None:
    await answer_parents_access(
        session=session, student=person, share=answers.get(SHARE) != NO, now=now
    )


async def _plain_context(*, session: AsyncSession, person: Person, today: date) -> FlowContext:
    del session, person  # these flows need nothing but the date
    return FlowContext(today=today)


async def _decline(
    *, session: AsyncSession, person: Person, answers: Answers, now: datetime
) -> None:
    await decline(
        session=session,
        actor=person,
        queue_item_id=int(str(answers[QUEUE_ITEM])),
        reason=str(answers["reason"]),
        now=now,
    )


async def _decline_timeout(
    *, session: AsyncSession, person: Person, answers: Answers, now: datetime
) -> None:
    await decline_timeout_request(
        session=session,
        actor=person,
        queue_item_id=int(str(answers[QUEUE_ITEM])),
        reason=str(answers["reason"]),
        now=now,
    )


async def _note(*, session: AsyncSession, person: Person, answers: Answers, now: datetime) -> None:
    await add_note(
        session=session,
        actor=person,
        queue_item_id=int(str(answers[QUEUE_ITEM])),
        text=str(answers["text"]),
        now=now,
    )


def _agenda_appointment_id(answers: Answers) -> int:
    """The preset appointment id; `NotAllowed` when there is none (a forged start)."""
    value = parse_id(answers.get(AGENDA_APPOINTMENT))
    if value is None:
        raise NotAllowed(Text.of(NOT_ON_AGENDA))
    return value


async def _agenda_logbook_preset(
    *, session: AsyncSession, person: Person, now: datetime, preset: Answers
) -> Mapping[str, AnswerValue]:
    """Nothing to add; refuses an appointment that is not on this coach's agenda."""
    del now
    try:
        await agenda_appointment(
            session=session, coach=person, appointment_id=_agenda_appointment_id(preset)
        )
    except NotFound as missing:
        raise NotAllowed(missing.reason) from missing
    return {}


async def _agenda_logbook(
    *, session: AsyncSession, person: Person, answers: Answers, now: datetime
) -> None:
    try:
        await add_agenda_logbook_entry(
            session=session,
            coach=person,
            appointment_id=_agenda_appointment_id(answers),
            text=str(answers["text"]),
            now=now,
        )
    except NotFound as missing:
        raise NotAllowed(missing.reason) from missing


def _survey_binding(respondent_type: RespondentType) -> FlowBinding:
    """The exit questionnaire of one respondent type: opened from its invitation only."""

    async def context(
        *,
        session: AsyncSession,
        person: Person,
        now: datetime,
        answers: Answers,
        step: str | None = None,
    ) -> FlowContext:
        return await survey_context(
            session=session,
            person=person,
            respondent_type=respondent_type,
            now=now,
            answers=answers,
        )

    async def complete(
        *, session: AsyncSession, person: Person, answers: Answers, now: datetime
    ) -> None:
        await complete_survey(
            session=session,
            person=person,
            respondent_type=respondent_type,
            answers=answers,
            now=now,
        )

    return FlowBinding(
        roles=RESPONDENT_ROLES[respondent_type],
        context=_plain_context,
        answers_context=context,
        complete=complete,
        in_menu=False,
    )


_CARE = frozenset({Role.CARE_COORDINATOR})
#: Who makes a trajectory's plan (at the intake): a coach or the care coordinator.
_PLANNERS = frozenset({Role.COACH, Role.CARE_COORDINATOR})
#: Who books appointments in chat (time-outs and talks: students; intakes: parents).
_BOOKERS = frozenset({Role.STUDENT, Role.PARENT})
BINDINGS: MappingProxyType[str, FlowBinding] = MappingProxyType(
    {
        VERWIJZING.id: FlowBinding(
            roles=frozenset({Role.MENTOR}),
            context=_plain_context,
            answers_context=_referral_context,
            complete=_submit_referral,
        ),
        # Started from the question's button or web chat link with the referral as preset.
        STUDENT_VOICE.id: FlowBinding(
            roles=frozenset({Role.STUDENT}),
            context=_plain_context,
            preset=_voice_preset,
            complete=_save_voice,
            in_menu=False,
        ),
        DECLINE.id: FlowBinding(
            roles=_CARE, context=_plain_context, complete=_decline, in_menu=False
        ),
        NOTE.id: FlowBinding(roles=_CARE, context=_plain_context, complete=_note, in_menu=False),
        TIMEOUT_DECLINE.id: FlowBinding(
            roles=_CARE, context=_plain_context, complete=_decline_timeout, in_menu=False
        ),
        BOOK_APPOINTMENT.id: FlowBinding(
            roles=_BOOKERS,
            context=_plain_context,
            answers_context=appointment_flows.booking_context,
            preset=appointment_flows.booking_preset,
            complete=appointment_flows.complete_booking,
        ),
        MOVE_APPOINTMENT.id: FlowBinding(
            roles=_BOOKERS,
            context=_plain_context,
            answers_context=appointment_flows.move_context,
            preset=appointment_flows.own_appointment_preset,
            complete=appointment_flows.complete_move,
            in_menu=False,
        ),
        CANCEL_APPOINTMENT.id: FlowBinding(
            roles=_BOOKERS,
            context=_plain_context,
            answers_context=appointment_flows.cancel_context,
            preset=appointment_flows.cancel_preset,
            complete=appointment_flows.complete_cancel,
            in_menu=False,
        ),
        # Started from "Plans to complete" with the trajectory as preset, never the menu.
        PLAN.id: FlowBinding(
            roles=_PLANNERS,
            context=_plain_context,
            answers_context=plan_bindings.plan_context,
            preset=plan_bindings.plan_preset,
            complete=plan_bindings.complete_plan,
            in_menu=False,
        ),
        # Offered after a coach marks attendance, with the appointment as preset.
        AGENDA_LOGBOOK.id: FlowBinding(
            roles=frozenset({Role.COACH}),
            context=_plain_context,
            preset=_agenda_logbook_preset,
            complete=_agenda_logbook,
            in_menu=False,
        ),
        # A student of 18 or older: whether their parents still see their data (domain.md).
        PARENTS_ACCESS.id: FlowBinding(
            roles=frozenset({Role.STUDENT}),
            context=_plain_context,
            complete=_parents_access,
            offered=may_decide,
            first=must_ask,
            changes_person=True,
        ),
        **{
            SURVEY_FLOWS[respondent_type.value].id: _survey_binding(respondent_type)
            for respondent_type in RespondentType
        },
    }
)


def binding_for(flow_id: str) -> FlowBinding:
    """The binding of ``flow_id`` (KeyError when the flow has none)."""
    return BINDINGS[flow_id]
