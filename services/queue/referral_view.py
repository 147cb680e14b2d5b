"""The referral behind a queue item as the care coordinator reads it: fields, notes, history.

Read by the web's referral page and the Telegram summary; every opening is audited
(``referral.view``). A coach of the school may read an accepted referral, without the internal
notes (`services.queue.access.readable_item`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flows.verwijzing import CONSENT_PURPOSES, VERWIJZING
from dialogs.text import N_, Text
from services.accounts.people import name_of, people_by_id
from services.accounts.schools import school_timeout_cap
from services.consent.records import ConsentRow, consent_givers, consent_rows, has_consent
from services.kernel.adulthood import is_adult_at, staff_notice
from services.kernel.audit import record_audit
from services.queue.access import readable_item
from services.queue.duplicates import StudentCase, cases_of_student, merge_target
from services.queue.rules import ItemState, QueueAction, allowed_actions, refusal
from storage.models import (
    DEFAULT_TIMEOUTS_PER_WEEK,
    AuditLog,
    ConsentGiver,
    ConsentPurpose,
    Person,
    QueueDecision,
    QueueKind,
    QueueNote,
    QueueStatus,
    Role,
    SupportKind,
    Trajectory,
    Urgency,
    WaitingReason,
    Weekday,
)

log = logging.getLogger(__name__)

#: Audit actions that make up an item's history. Views (``referral.view``, ``queue.view``)
#: stay in the audit trail but are not part of the history shown with the referral.
HISTORY_LABELS: dict[str, str] = {
    "referral.submit": N_("Referred"),
    "queue.take": N_("Taken in analysis"),
    "queue.care_team": N_("Marked for the care team (ZAT)"),
    "queue.resume": N_("Back in analysis after the care team"),
    "queue.accept": N_("Accepted for an intake"),
    "queue.decline": N_("Declined"),
    "queue.note": N_("Note added"),
    "queue.merge": N_("Merged into another open referral of the student"),
    "queue.merged_in": N_("A duplicate referral was merged into this one"),
    "consent.record": N_("Consent recorded"),
    "consent.withdraw": N_("Consent withdrawn"),
    "referral.student_voice": N_("The student gave their own help question"),
}


@dataclass(frozen=True, slots=True)
class NoteView:
    """One internal note, oldest first. ``author_name`` is ``None`` once the author is erased."""

    note_id: int
    author_name: str | None
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One step in the item's history, from the audit trail (which cannot be edited).

    ``action`` is the audit code (a key of `HISTORY_LABELS`); ``actor_name`` is ``None`` for
    the system or an erased person.
    """

    action: str
    at: datetime
    actor_name: str | None

    @property
    def label(self) -> Text:
        """The action as translatable text."""
        return Text.of(HISTORY_LABELS.get(self.action, self.action))


@dataclass(frozen=True, slots=True)
class ReferralView:
    """Everything the care coordinator's summary of a referral shows.

    Names and free text are for display inside the chat only, never for logs or
    notifications. Free text is as the mentor wrote it, in ``text_language``.
    """

    queue_item_id: int
    referral_id: int
    status: QueueStatus
    created_at: datetime
    assignee_name: str | None
    decision: QueueDecision | None
    decision_reason: str | None
    decided_at: datetime | None
    decided_by_name: str | None
    student_name: str
    group_name: str | None
    mentor_name: str
    referred_at: datetime
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
    notes: tuple[NoteView, ...]
    history: tuple[HistoryEntry, ...]
    waiting_reason: WaitingReason | None = None
    waiting_since: datetime | None = None
    paused_seconds: int = 0
    #: The trajectory created when the referral was accepted.
    trajectory_id: int | None = None
    #: False for a coach's read-only view: internal notes and actions are the coordinator's.
    coordinator_view: bool = True
    #: The student's other referrals in the school, newest first, with their items and
    #: trajectories (a coach sees only those that led to a trajectory).
    others: tuple[StudentCase, ...] = ()
    #: The item of the student's open referral or running trajectory this one would be merged
    #: into (`services.queue.duplicates.merge_target`); ``None``: nothing to merge into.
    merge_into_id: int | None = None
    #: This item was closed as a duplicate, merged into that item.
    merged_into_id: int | None = None
    #: The school's time-out cap: what a new trajectory's plan starts with.
    timeouts_cap: int = DEFAULT_TIMEOUTS_PER_WEEK
    # Issue 15: the optional asks (None: not answered), the student's own words, consents.
    external_care: str | None = None
    external_care_which: str | None = None
    has_opp: str | None = None
    absence: str | None = None
    absence_days: int | None = None
    observation_focus: tuple[str, ...] = ()
    parents_language: str | None = None
    interpreter_needed: bool | None = None
    student_voice: str | None = None
    student_voice_language: str | None = None
    student_voice_at: datetime | None = None
    student_voice_asked_at: datetime | None = None
    consents: tuple[ConsentRow, ...] = ()
    #: Who may consent (the student, the parents): (person id, name, as whom).
    consent_givers: tuple[tuple[int, str, ConsentGiver], ...] = ()
    #: Whether the district coach may be asked in (`services.consent.rules.consent_holds`).
    district_coach_consent: bool = False
    #: The student is 18 or older today (`services.kernel.adulthood`): they consent alone.
    adult: bool = False
    #: When the adult student withdrew their parents' access (None: parents see).
    parents_access_withdrawn_at: datetime | None = None

    @property
    def actions(self) -> frozenset[QueueAction]:
        """What the reader may do with the item now: the rule both channels render."""
        return allowed_actions(
            kind=QueueKind.REFERRAL,
            status=self.status,
            waiting_reason=self.waiting_reason,
            coordinator=self.coordinator_view,
            open_duplicate=self.merge_into_id is not None,
        )

    def refusal_of(self, action: QueueAction) -> Text | None:
        """Why the reader may not do ``action`` now (the services' own words), or ``None``.

        A channel that asks for text before acting (the decline reason) asks this first, so
        nobody types a reason for an action the rules will refuse.
        """
        if not self.coordinator_view:
            return Text.of(N_("This is not available for your role."))
        return refusal(
            ItemState(
                kind=QueueKind.REFERRAL,
                status=self.status,
                waiting_reason=self.waiting_reason,
                decision=self.decision,
                open_duplicate=self.merge_into_id is not None,
            ),
            action,
        )

    @property
    def open_others(self) -> tuple[StudentCase, ...]:
        """The student's other referrals that are still open (for "Also: …")."""
        return tuple(case for case in self.others if case.is_open)


async def open_referral(
    *, session: AsyncSession, viewer: Person, queue_item_id: int, now: datetime
) -> ReferralView:
    """The full referral behind a queue item, with its notes, history and the student's other
    referrals and trajectories; audited.

    An operation in the caller's unit of work. A care coordinator of the item's school may
    open it; a coach of that school may read an accepted one (the student is coming to the
    trajectvoorziening), without the internal notes (``coordinator_view`` False). Anyone
    else, and any unknown id, gets `NotAllowed`. The view is recorded as ``referral.view``.
    """
    viewer, item, referral = await readable_item(
        session=session, actor=viewer, queue_item_id=queue_item_id
    )
    coordinator_view = viewer.has_role(Role.CARE_COORDINATOR)
    notes = (
        (
            await session.scalars(
                select(QueueNote)
                .where(QueueNote.queue_item_id == item.id, QueueNote.school_id == item.school_id)
                .order_by(QueueNote.created_at, QueueNote.id)
            )
        ).all()
        if coordinator_view
        else []
    )
    trajectory_id = await session.scalar(
        select(Trajectory.id).where(
            Trajectory.referral_id == referral.id, Trajectory.school_id == item.school_id
        )
    )
    history = (
        await session.execute(
            select(AuditLog.action, AuditLog.at, AuditLog.actor_id)
            .where(
                AuditLog.school_id == item.school_id,
                AuditLog.action.in_(list(HISTORY_LABELS)),
                or_(
                    and_(AuditLog.subject_type == "queue_item", AuditLog.subject_id == item.id),
                    and_(AuditLog.subject_type == "referral", AuditLog.subject_id == referral.id),
                ),
            )
            .order_by(AuditLog.at, AuditLog.id)
        )
    ).all()
    cases = await cases_of_student(
        session=session, school_id=item.school_id, student_id=referral.student_id
    )
    target = merge_target(cases, referral_id=referral.id)
    others = tuple(
        case
        for case in cases
        if case.referral_id != referral.id and (coordinator_view or case.trajectory_id is not None)
    )
    people = await people_by_id(
        session=session,
        school_id=item.school_id,
        ids={
            referral.student_id,
            referral.mentor_id,
            item.assignee_id,
            item.decided_by_id,
            *(note.author_id for note in notes),
            *(actor_id for _action, _at, actor_id in history),
        },
    )
    student = people[referral.student_id]
    view = ReferralView(
        queue_item_id=item.id,
        referral_id=referral.id,
        status=item.status,
        created_at=item.created_at,
        assignee_name=name_of(people, item.assignee_id),
        decision=item.decision,
        decision_reason=item.decision_reason,
        decided_at=item.decided_at,
        decided_by_name=name_of(people, item.decided_by_id),
        student_name=student.display_name,
        group_name=student.group_name,
        mentor_name=people[referral.mentor_id].display_name,
        referred_at=referral.created_at,
        help_question_student=referral.help_question_student,
        help_question_teacher=referral.help_question_teacher,
        tried=referral.tried,
        works_at_home=referral.works_at_home,
        works_at_school=referral.works_at_school,
        urgency=referral.urgency,
        parents_informed=referral.parents_informed,
        parents_not_informed_reason=referral.parents_not_informed_reason,
        support=tuple(SupportKind(code) for code in referral.support),
        intake_from=referral.intake_from,
        intake_days=tuple(Weekday(code) for code in referral.intake_days),
        text_language=referral.text_language,
        notes=tuple(
            NoteView(note.id, name_of(people, note.author_id), note.created_at, note.text)
            for note in notes
        ),
        history=tuple(
            HistoryEntry(action, at, name_of(people, actor_id)) for action, at, actor_id in history
        ),
        waiting_reason=item.waiting_reason,
        waiting_since=item.waiting_since,
        paused_seconds=item.paused_seconds,
        trajectory_id=trajectory_id,
        coordinator_view=coordinator_view,
        others=others,
        merge_into_id=None if target is None else target.queue_item_id,
        merged_into_id=item.merged_into_id,
        timeouts_cap=await school_timeout_cap(session=session, school_id=item.school_id),
        external_care=referral.external_care,
        external_care_which=referral.external_care_which,
        has_opp=referral.has_opp,
        absence=referral.absence,
        absence_days=referral.absence_days,
        observation_focus=tuple(referral.observation_focus or ()),
        parents_language=referral.parents_language,
        interpreter_needed=referral.interpreter_needed,
        student_voice=referral.student_voice,
        student_voice_language=referral.student_voice_language,
        student_voice_at=referral.student_voice_at,
        student_voice_asked_at=referral.student_voice_asked_at,
        consents=tuple(
            await consent_rows(session=session, referral_id=referral.id, school_id=item.school_id)
        ),
        consent_givers=tuple(await consent_givers(session=session, referral=referral)),
        district_coach_consent=await has_consent(
            session=session,
            referral_id=referral.id,
            purpose=ConsentPurpose.DISTRICT_COACH,
            now=now,
        ),
        adult=is_adult_at(student.birth_date, now),
        parents_access_withdrawn_at=student.parents_access_withdrawn_at,
    )
    record_audit(
        session=session,
        school_id=item.school_id,
        actor_id=viewer.id,
        action="referral.view",
        subject_type="referral",
        subject_id=referral.id,
        details={"queue_item_id": item.id},
    )
    log.info("queue_item_id=%s opened by person_id=%s", item.id, viewer.id)
    return view


# --------------------------------------------------------------------------------------------
# Issue 15: what the web page and the Telegram summary both show of the optional asks, the
# student's own words and the consents (one rendering, two channels).

CONSENT_PURPOSE_LABELS: dict[str, str] = {
    option.code: option.label.msgid for option in CONSENT_PURPOSES
}
GIVER_LABELS: dict[str, str] = {
    ConsentGiver.STUDENT.value: N_("student"),
    ConsentGiver.PARENT.value: N_("parent"),
}


def _line(step: str, answer: Text | tuple[Text, ...]) -> Text:
    # The same wording as the chat's summary ("{question}: {answer}").
    return Text.of(
        N_("{question}: {answer}"), question=Text.of(VERWIJZING.step(step).label), answer=answer
    )


def _option(step: str, code: str) -> Text:
    for option in VERWIJZING.step(step).options:
        if option.code == code:
            return option.label
    return Text.raw(code)


def extra_lines(view: ReferralView) -> tuple[Text, ...]:
    """The optional asks that were answered, the student's own words, in order; first, for a
    student of 18 or older, that they decide (and whether their parents still see)."""
    lines: list[Text] = []
    notice = staff_notice(adult=view.adult, withdrawn_at=view.parents_access_withdrawn_at)
    if notice is not None:
        lines.append(notice)
    if view.external_care is not None:
        answer = _option("external_care", view.external_care)
        if view.external_care_which:
            answer = Text.of(
                N_("{answer} ({details})"),
                answer=answer,
                details=Text.raw(view.external_care_which),
            )
        lines.append(_line("external_care", answer))
    if view.has_opp is not None:
        lines.append(_line("has_opp", _option("has_opp", view.has_opp)))
    if view.absence is not None:
        answer = _option("absence", view.absence)
        if view.absence_days is not None:
            answer = Text.of(
                N_("{answer} ({details})"),
                answer=answer,
                details=Text.plural_of(
                    "{count} day in the last four weeks",
                    "{count} days in the last four weeks",
                    view.absence_days,
                ),
            )
        lines.append(_line("absence", answer))
    if view.observation_focus:
        lines.append(
            _line(
                "observation_focus",
                tuple(_option("observation_focus", code) for code in view.observation_focus),
            )
        )
    if view.parents_language is not None:
        lines.append(_line("parents_language", _option("parents_language", view.parents_language)))
    if view.interpreter_needed is not None:
        lines.append(
            _line(
                "interpreter_needed",
                Text.of(N_("Yes") if view.interpreter_needed else N_("No")),
            )
        )
    if view.student_voice is not None and view.student_voice_at is not None:
        lines.append(
            Text.of(
                N_("The student's own words ({date}): {text}"),
                date=view.student_voice_at,
                text=Text.raw(view.student_voice),
            )
        )
    elif view.student_voice_asked_at is not None:
        lines.append(
            Text.of(
                N_("The student was asked for their own help question on {date}; no answer yet."),
                date=view.student_voice_asked_at,
            )
        )
    return tuple(lines)


def consent_line(row: ConsentRow) -> Text:
    """One consent: who (as whom) for what, when, recorded by whom; withdrawn when and by whom."""
    given = Text.of(
        N_("{name} ({giver}): {purpose}, {date}, recorded by {recorder}"),
        name=Text.raw(row.giver_name),
        giver=Text.of(GIVER_LABELS[row.giver.value]),
        purpose=Text.of(CONSENT_PURPOSE_LABELS[row.purpose.value]),
        date=row.given_at,
        recorder=Text.raw(row.recorded_by),
    )
    if row.withdrawn_at is None:
        return given
    return Text.of(
        N_("{consent} — withdrawn {date} by {name}"),
        consent=given,
        date=row.withdrawn_at,
        name=Text.raw(row.withdrawn_by or ""),
    )


def consent_lines(view: ReferralView) -> tuple[Text, ...]:
    """The consents under a heading, or that none is recorded yet."""
    if not view.consents:
        return (Text.of(N_("Consent: none recorded yet.")),)
    return (Text.of(N_("Consent:")), *(consent_line(row) for row in view.consents))
