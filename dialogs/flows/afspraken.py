"""Appointments in chat: book (child → type → day → time → confirm), move, cancel.

The options come from the context, computed by the binding
(`services.conversations.appointment_bindings`) from
the answers so far: the kinds this person may book for the chosen student, the days with a
free time, the free times on the chosen day. Their keys are computed here, from the answers,
by the steps' ``options_from``; so the same flows run in every channel.

Codes are plain and short (button payloads): a student id, a kind code, a school-local day
``2026-11-24`` and a slot ``2026-11-24T1030`` (school-local start; `slot_start` turns it into
the UTC instant storage books). The labels are dates and times the reader's locale formats.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time

from dialogs.flow import Answers, AnswerValue, Flow, Option, Step, StepKind, Updates
from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import N_, Text

# -- answer keys -----------------------------------------------------------------------------

STUDENT, KIND, DAY, TIME = "student_id", "kind", "day", "time"
#: Preset (not asked): the only student this person can book for (a student themselves, a
#: parent of one child). Its presence skips the child question.
FOR_STUDENT = "for_student"
#: Preset: the appointment a move or a cancellation is about.
APPOINTMENT = "appointment_id"
#: Set when the chosen time was taken meanwhile: the slots offered instead (nearest first).
OFFERED = "offered"
#: A time-out only, optional: the teacher whose lesson the student leaves (a person id).
TEACHER = "teacher_id"
#: The last step of every flow here (the answers and the confirm button).
SUMMARY = "summary"

#: The choices key of the children a parent may book for.
STUDENTS = "students"
#: The choices key of the school's teachers (and mentors) a time-out can be announced to.
TEACHERS = "teachers"

# Kind codes (the values of `storage.models.AppointmentKind`).
INTAKE, GESPREK, TIME_OUT, EVALUATION = "intake", "gesprek", "time_out", "evaluation"
KIND_LABELS: Mapping[str, str] = {
    INTAKE: N_("Intake meeting"),
    GESPREK: N_("Support talk"),
    TIME_OUT: N_("Time-out moment"),
    EVALUATION: N_("Evaluation meeting"),
}

_SLOT_FORMAT = "%Y-%m-%dT%H%M"


# -- codes and labels ------------------------------------------------------------------------


def student_of(answers: Answers) -> str | None:
    """The student the booking is for: the one picked, or the only one there is."""
    for key in (STUDENT, FOR_STUDENT):
        value = answers.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def slot_code(starts_at: datetime) -> str:
    """``2026-11-24T1030``: the school-local start of a slot (``starts_at`` is aware)."""
    return starts_at.astimezone(SCHOOL_TIMEZONE).strftime(_SLOT_FORMAT)


def slot_start(code: str) -> datetime | None:
    """The UTC instant of a `slot_code` (None for anything else: codes are user input)."""
    try:
        local = datetime.strptime(code, _SLOT_FORMAT)  # noqa: DTZ007 - school-local, set below
    except ValueError:
        return None
    return local.replace(tzinfo=SCHOOL_TIMEZONE).astimezone(UTC)


def kind_label(code: str) -> Text:
    """The name of an appointment kind ("Time-out moment")."""
    return Text.of(KIND_LABELS.get(code, N_("Appointment")))


def day_label(code: AnswerValue) -> Text:
    """A day as the reader's locale writes it: "dinsdag 24 november"."""
    try:
        return Text.raw(date.fromisoformat(str(code)))
    except ValueError:
        return Text.raw(str(code))


def time_label(code: AnswerValue) -> Text:
    """The school-local start time of a slot code: "10:30" (the locale's short time)."""
    start = slot_start(str(code))
    if start is None:
        return Text.raw(str(code))
    return Text.raw(_local_time(start))


def _kind_text(code: AnswerValue) -> Text:
    return kind_label(str(code))


def _local_time(starts_at: datetime) -> time:
    return starts_at.astimezone(SCHOOL_TIMEZONE).time().replace(tzinfo=None)


def appointment_text(kind: str, starts_at: datetime, student: str | None = None) -> Text:
    """One appointment in a sentence: "Time-out moment, Tuesday, November 24, 10:30 AM"."""
    if student is None:
        return Text.of(N_("{kind}, {when}"), kind=kind_label(kind), when=starts_at)
    return Text.of(
        N_("{kind} for {student}, {when}"),
        kind=kind_label(kind),
        student=Text.raw(student),
        when=starts_at,
    )


# -- choices keys (the binding builds the options under the same keys) -----------------------


def kinds_key_for(student: str) -> str:
    """Key of the kinds that may be booked for ``student``."""
    return f"kinds:{student}"


def days_key_for(student: str, kind: str) -> str:
    """Key of the days with a free time of ``kind`` for ``student``."""
    return f"days:{student}:{kind}"


def times_key_for(student: str, kind: str, day: str) -> str:
    """Key of the free times of ``kind`` for ``student`` on ``day`` (ISO date)."""
    return f"times:{student}:{kind}:{day}"


def offered_key_for(student: str, kind: str) -> str:
    """Key of the free slots offered instead of a taken one."""
    return f"offered:{student}:{kind}"


def _kinds_key(answers: Answers) -> str:
    return kinds_key_for(student_of(answers) or "")


def _days_key(answers: Answers) -> str:
    return days_key_for(student_of(answers) or "", str(answers.get(KIND, "")))


def _times_key(answers: Answers) -> str:
    student, kind = student_of(answers) or "", str(answers.get(KIND, ""))
    if OFFERED in answers:
        return offered_key_for(student, kind)
    return times_key_for(student, kind, str(answers.get(DAY, "")))


def slot_choices(
    student: str, kind: str, starts: Iterable[datetime]
) -> dict[str, tuple[Option, ...]]:
    """The day and time options of ``kind`` for ``student`` from its free slot starts.

    Days in order, each with its free times in order; a day appears only with a free time.
    """
    by_day: dict[str, list[datetime]] = {}
    for start in sorted(set(starts)):
        by_day.setdefault(slot_code(start)[:10], []).append(start)
    choices: dict[str, tuple[Option, ...]] = {
        days_key_for(student, kind): tuple(Option(day, day_label(day)) for day in by_day)
    }
    for day, day_starts in by_day.items():
        choices[times_key_for(student, kind, day)] = tuple(
            Option(slot_code(s), Text.raw(_local_time(s))) for s in day_starts
        )
    return choices


def offered_options(codes: Iterable[str], free: Iterable[datetime]) -> tuple[Option, ...]:
    """The offered slot codes that are still free, in the order offered, with day and time."""
    free_codes = {slot_code(s): s for s in free}
    return tuple(
        Option(code, Text.raw(free_codes[code]))
        for code in dict.fromkeys(codes)
        if code in free_codes
    )


# -- answers that depend on each other ------------------------------------------------------


def _changing_clears(key: str, *later: str) -> Updates:
    """A new answer to ``key`` (not the same one again) clears the ``later`` answers that were
    chosen from it."""

    def updates(value: AnswerValue, before: Answers) -> Mapping[str, AnswerValue | None]:
        return {} if before.get(key) == value else dict.fromkeys(later)

    return updates


_after_student = _changing_clears(STUDENT, KIND, DAY, TIME, OFFERED)
_after_kind = _changing_clears(KIND, DAY, TIME, OFFERED)
_after_day = _changing_clears(DAY, TIME, OFFERED)


def _after_time(value: AnswerValue, before: Answers) -> Mapping[str, AnswerValue | None]:
    # An offered slot may lie on another day: the day follows the slot. Another time may be
    # another lesson: the teacher is asked again.
    updates: dict[str, AnswerValue | None] = {DAY: str(value)[:10], OFFERED: None}
    if before.get(TIME) != value:
        updates[TEACHER] = None
    return updates


def _only_one_student(answers: Answers) -> bool:
    return FOR_STUDENT in answers


def _not_a_time_out(answers: Answers) -> bool:
    return answers.get(KIND) != TIME_OUT


def teacher_to_tell(answers: Answers) -> str | None:
    """The teacher to tell of a booked time-out: the one chosen, only for a time-out."""
    value = answers.get(TEACHER)
    if _not_a_time_out(answers) or not isinstance(value, str) or not value:
        return None
    return value


# -- the steps and flows ---------------------------------------------------------------------

STUDENT_STEP = Step(
    STUDENT,
    StepKind.SINGLE,
    options_from=STUDENTS,
    search=False,
    skip_if=_only_one_student,
    updates=_after_student,
    empty=N_("There is no one you can book an appointment for."),
    prompt=N_("Who is the appointment for?"),
    label=N_("For"),
)
KIND_STEP = Step(
    KIND,
    StepKind.SINGLE,
    options_from=_kinds_key,
    search=False,
    describe=_kind_text,
    updates=_after_kind,
    empty=N_(
        "There is nothing you can book right now. If you think that is wrong, please ask "
        "the mentor."
    ),
    prompt=N_("What would you like to book?"),
    label=N_("Appointment"),
)
DAY_STEP = Step(
    DAY,
    StepKind.SINGLE,
    options_from=_days_key,
    search=False,
    describe=day_label,
    updates=_after_day,
    empty=N_(
        "There is no free time in the next three weeks. Please go back and choose something "
        "else, or try again later."
    ),
    prompt=N_("Which day suits you? Only days with a free time are shown."),
    label=N_("Day"),
)
TIME_STEP = Step(
    TIME,
    StepKind.SINGLE,
    options_from=_times_key,
    search=False,
    describe=time_label,
    updates=_after_time,
    empty=N_("There is no free time left on this day. Please go back and choose another day."),
    prompt=N_("What time suits you?"),
    label=N_("Time"),
)

#: There is no timetable: the student names the lesson's teacher, or skips. The teacher reads
#: the times only; the reason is never sent (`services.appointments.teacher_notice`).
TEACHER_STEP = Step(
    TEACHER,
    StepKind.SINGLE,
    options_from=TEACHERS,
    search=True,
    optional=True,
    skip_if=_not_a_time_out,
    empty=N_("No teachers can be chosen here yet. Please press “Skip”."),
    prompt=N_(
        "Whose lesson are you leaving? That teacher gets a short message with the times, "
        "not the reason. You can also skip this."
    ),
    label=N_("Teacher told"),
)


def _summary(prompt: str) -> Step:
    """The last step: the answers, and the flow's confirm button."""
    return Step(SUMMARY, StepKind.SUMMARY, prompt=prompt, label=N_("Summary"))


BOOK = Flow(
    id="appointment",
    version=1,
    title=N_("Book an appointment"),
    confirm=N_("Book ✓"),
    done=N_("Your appointment is booked."),
    stopped=N_("Stopped. Nothing has been booked."),
    steps=(
        STUDENT_STEP,
        KIND_STEP,
        DAY_STEP,
        TIME_STEP,
        TEACHER_STEP,
        _summary(N_("Please check your appointment:")),
    ),
)

MOVE = Flow(
    id="appointment_move",
    version=1,
    title=N_("Move an appointment"),
    confirm=N_("Move ✓"),
    done=N_("Your appointment is moved."),
    stopped=N_("Nothing changed: the appointment stays as it was."),
    steps=(
        DAY_STEP,
        TIME_STEP,
        _summary(N_("Please check the new time:")),
    ),
)

CANCEL = Flow(
    id="appointment_cancel",
    version=1,
    title=N_("Cancel an appointment"),
    confirm=N_("Yes, cancel it"),
    done=N_("The appointment is cancelled."),
    stopped=N_("Nothing changed: the appointment stays as it was."),
    steps=(_summary(N_("Do you want to cancel this appointment?")),),
)
