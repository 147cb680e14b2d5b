"""The seed systems' exports, pure: facts in, rows and files out (no database, no session).

- **Weeks**: an ISO week (``2026-W49``) of the school's calendar runs from Monday 00:00 to the
  next Monday 00:00 *school time*; `Week.bounds` turns that into UTC instants (a week with a
  change to or from summer time is 167 or 169 hours long).
- **Magister** (attendance administration): one row per support moment (appointment) that
  was marked attended or no-show and starts in the week: student number, date, time
  (start-end, school time), kind, present/absent (`magister_table`).
- **LVS** (leerlingvolgsysteem): one row per student whose trajectory ran in the week, with
  facts only: appointments attended and missed, time-outs, evaluations held, the number and
  the dates of logbook entries and a link to the trajectory page (the weekly reference to the
  logbook the seeds ask for). No free text at all: the logbook has no notion of "shared by
  the student", so none of its text, nor any note, goes to another system (`lvs_rows`,
  `lvs_table`, `lvs_text`).
- **Closing report**: its data (`ClosingReport`) and the outcome line (`closing_outcome`);
  the PDF is `services.exports.closing_report_pdf`.
- **Encoding** (`encode_csv`): ``;``-separated, UTF-8 with a byte order mark, CRLF line ends:
  what Dutch Excel opens with the columns split and the accents right, and what Magister's
  and the LVS's CSV imports read. A cell that starts like a formula (``=``, ``+``, ``-``,
  ``@``) gets a leading apostrophe, so a name from the administration system never runs as
  a formula in a spreadsheet.

Texts are `Text` (message ids) rendered by the caller's catalog: the school's language,
`SCHOOL_LANGUAGE` (Dutch: the product has no per-school language setting; see
docs/decisions.md, "Exports for the seed systems").
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from dialogs.i18n import Catalog
from dialogs.text import N_, Text
from storage.models import AppointmentKind, AppointmentStatus, EvaluationKind

#: The language of what goes to the school's own systems (Magister, the LVS, the student file).
SCHOOL_LANGUAGE = "nl"
#: The CSV dialect of every export (see the module's docstring).
DELIMITER = ";"
BOM = "\ufeff"
#: Dates in the files: day-month-year, as Dutch school systems and Dutch Excel show them.
DATE_FORMAT = "%d-%m-%Y"
#: The statuses an attendance export carries: marked by the coach (cancelled ones never).
MARKED = frozenset({AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW})

_WEEK = re.compile(r"\s*(\d{4})-?[Ww](\d{1,2})\s*")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FIRST_YEAR = 2000
LAST_YEAR = 2100

#: Cells: a `str` is written as it is, a `Text` in the catalog's language.
Cell = str | Text

KIND_LABELS: dict[AppointmentKind, str] = {
    AppointmentKind.INTAKE: N_("intake meeting"),
    AppointmentKind.GESPREK: N_("support talk"),
    AppointmentKind.TIME_OUT: N_("time-out"),
    AppointmentKind.EVALUATION: N_("evaluation meeting"),
}
PRESENT = N_("present")
ABSENT = N_("absent")


# --- weeks ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, order=True)
class Week:
    """One ISO week (``2026-W49``)."""

    year: int
    week: int

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @classmethod
    def of(cls, day: date) -> Week:
        """The ISO week ``day`` lies in."""
        year, week, _weekday = day.isocalendar()
        return cls(year, week)

    @property
    def monday(self) -> date:
        """The week's first day."""
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        """The week's last day."""
        return self.monday + timedelta(days=6)

    def days(self) -> tuple[date, ...]:
        """Monday to Sunday."""
        return tuple(self.monday + timedelta(days=n) for n in range(7))

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """Monday 00:00 and the next Monday 00:00 in ``zone``, as UTC instants (end excluded)."""
        start = datetime.combine(self.monday, time(0), tzinfo=zone)
        end = datetime.combine(self.monday + timedelta(days=7), time(0), tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def contains(self, day: date) -> bool:
        """Whether the (school-local) ``day`` lies in the week."""
        return self.monday <= day <= self.sunday


def parse_week(value: str) -> Week | Text:
    """``2026-W49`` (also ``2026W49``, ``2026-w9``) as a `Week`, or what is wrong."""
    match = _WEEK.fullmatch(value)
    problem = Text.of(
        N_("“{value}” is not a week: write the year and the week number, for example 2026-W49."),
        value=Text.raw(value),
    )
    if match is None:
        return problem
    year, number = int(match.group(1)), int(match.group(2))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return problem
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        return Text.of(
            N_("The year {year} has no week {week}."),
            year=Text.raw(str(year)),
            week=Text.raw(str(number)),
        )
    return Week(year, number)


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    """``moment`` on the school's clock."""
    return moment.astimezone(zone)


def day_text(day: date) -> str:
    """A date as the files write it (``01-12-2026``)."""
    return day.strftime(DATE_FORMAT)


# --- tables and their encoding ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ExportTable:
    """A table for a file: column headers (message ids) and rows of cells."""

    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def _safe(value: str) -> str:
    """A cell that a spreadsheet would read as a formula, defused with an apostrophe."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def render_cell(cell: Cell, catalog: Catalog) -> str:
    """One cell's text in the catalog's language."""
    return _safe(cell if isinstance(cell, str) else catalog.render(cell))


def encode_csv(table: ExportTable, catalog: Catalog) -> bytes:
    """The table as a ``;``-separated CSV file, UTF-8 with a byte order mark, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow([catalog.gettext(header) for header in table.header])
    for row in table.rows:
        writer.writerow([render_cell(cell, catalog) for cell in row])
    return (BOM + buffer.getvalue()).encode("utf-8")


def encode_text(lines: Iterable[Text | str], catalog: Catalog) -> bytes:
    """Lines of a readable text file (UTF-8, no byte order mark, LF line ends)."""
    rendered = [line if isinstance(line, str) else catalog.render(line) for line in lines]
    return ("\n".join(rendered) + "\n").encode("utf-8")


# --- Magister ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AttendanceFact:
    """One appointment as the attendance export needs it (ids, number, times, kind, status)."""

    appointment_id: int
    student_number: str
    starts_at: datetime
    ends_at: datetime
    kind: AppointmentKind
    status: AppointmentStatus


MAGISTER_HEADER = (
    N_("Student number"),
    N_("Date"),
    N_("Time"),
    N_("Kind"),
    N_("Attendance"),
)


def magister_facts(
    facts: Iterable[AttendanceFact], week: Week, zone: ZoneInfo
) -> list[AttendanceFact]:
    """The marked appointments (attended / no-show) that start in the week, in time order."""
    kept = [
        fact
        for fact in facts
        if fact.status in MARKED and week.contains(local(fact.starts_at, zone).date())
    ]
    return sorted(kept, key=lambda f: (f.starts_at, f.student_number, f.kind, f.appointment_id))


def magister_table(facts: Iterable[AttendanceFact], week: Week, zone: ZoneInfo) -> ExportTable:
    """The attendance rows for Magister: number, date, ``09:00-09:45``, kind, present/absent."""
    rows: list[tuple[Cell, ...]] = []
    for fact in magister_facts(facts, week, zone):
        start, end = local(fact.starts_at, zone), local(fact.ends_at, zone)
        rows.append(
            (
                fact.student_number,
                day_text(start.date()),
                f"{start:%H:%M}-{end:%H:%M}",
                Text.of(KIND_LABELS[fact.kind]),
                Text.of(PRESENT if fact.status is AppointmentStatus.ATTENDED else ABSENT),
            )
        )
    return ExportTable(MAGISTER_HEADER, tuple(rows))


# --- the LVS weekly summary -------------------------------------------------------------------
class WeekState(StrEnum):
    """Where a trajectory stood at the end of the week."""

    INTAKE_HELD = "intake_held"
    ACTIVE = "active"
    CLOSED = "closed"


#: The same message ids as the trajectory's status on the staff pages (`web.labels`).
STATE_LABELS: dict[WeekState, str] = {
    WeekState.INTAKE_HELD: N_("intake held — plan to complete"),
    WeekState.ACTIVE: N_("active"),
    WeekState.CLOSED: N_("closed"),
}


@dataclass(frozen=True, slots=True)
class TrajectoryWeekFacts:
    """What the summary may know of one trajectory: dates and counts, never free text.

    ``appointments`` are (kind, status, start) of its appointments; ``evaluations_held``
    the days its evaluations were held; ``logbook_at`` when its logbook entries were written
    (not what they say).
    """

    trajectory_id: int
    student_number: str
    student_name: str
    intake_held_at: datetime | None
    activated_at: datetime | None
    closed_at: datetime | None
    appointments: tuple[tuple[AppointmentKind, AppointmentStatus, datetime], ...] = ()
    evaluations_held: tuple[date, ...] = ()
    logbook_at: tuple[datetime, ...] = ()

    @property
    def began_at(self) -> datetime | None:
        """When the support began: the intake held (or, without that mark, the activation)."""
        return self.intake_held_at or self.activated_at


def ran_in(facts: TrajectoryWeekFacts, start: datetime, end: datetime) -> bool:
    """Whether the trajectory ran during [start, end): begun before the end, not closed before
    the start (a trajectory still planned, its intake not held, did not run)."""
    began = facts.began_at
    return (
        began is not None and began < end and (facts.closed_at is None or facts.closed_at >= start)
    )


def state_at(facts: TrajectoryWeekFacts, end: datetime) -> WeekState:
    """Where the trajectory stood at ``end`` (the end of the week)."""
    if facts.closed_at is not None and facts.closed_at < end:
        return WeekState.CLOSED
    if facts.activated_at is not None and facts.activated_at < end:
        return WeekState.ACTIVE
    return WeekState.INTAKE_HELD


@dataclass(frozen=True, slots=True)
class LvsRow:
    """One student's week, facts only."""

    student_number: str
    student_name: str
    trajectory_id: int
    state: WeekState
    appointments_attended: int = 0
    appointments_missed: int = 0
    timeouts_attended: int = 0
    timeouts_missed: int = 0
    evaluations_held: int = 0
    logbook_days: tuple[date, ...] = ()
    logbook_entries: int = 0


@dataclass(slots=True)
class _Tally:
    attended: int = 0
    missed: int = 0
    timeouts: int = 0
    timeouts_missed: int = 0
    evaluations: int = 0
    logbook: list[date] = field(default_factory=list)


def lvs_rows(facts: Iterable[TrajectoryWeekFacts], week: Week, zone: ZoneInfo) -> list[LvsRow]:
    """One row per student whose trajectory ran in the week (a student with two, one closed and
    one begun that week, gets one row: counts added, the newest trajectory named), by number."""
    start, end = week.bounds(zone)
    by_student: dict[str, list[TrajectoryWeekFacts]] = defaultdict(list)
    for fact in facts:
        if ran_in(fact, start, end):
            by_student[fact.student_number].append(fact)
    rows: list[LvsRow] = []
    for number in sorted(by_student):
        trajectories = sorted(by_student[number], key=lambda f: f.trajectory_id)
        tally = _Tally()
        for fact in trajectories:
            _count(tally, fact, week, zone)
        newest = trajectories[-1]
        rows.append(
            LvsRow(
                student_number=number,
                student_name=newest.student_name,
                trajectory_id=newest.trajectory_id,
                state=state_at(newest, end),
                appointments_attended=tally.attended,
                appointments_missed=tally.missed,
                timeouts_attended=tally.timeouts,
                timeouts_missed=tally.timeouts_missed,
                evaluations_held=tally.evaluations,
                logbook_days=tuple(sorted(set(tally.logbook))),
                logbook_entries=len(tally.logbook),
            )
        )
    return rows


def _count(tally: _Tally, fact: TrajectoryWeekFacts, week: Week, zone: ZoneInfo) -> None:
    for kind, status, starts_at in fact.appointments:
        if status not in MARKED or not week.contains(local(starts_at, zone).date()):
            continue
        attended = status is AppointmentStatus.ATTENDED
        if kind is AppointmentKind.TIME_OUT:
            tally.timeouts += attended
            tally.timeouts_missed += not attended
        else:
            tally.attended += attended
            tally.missed += not attended
    tally.evaluations += sum(1 for day in fact.evaluations_held if week.contains(day))
    tally.logbook.extend(
        local(moment, zone).date()
        for moment in fact.logbook_at
        if week.contains(local(moment, zone).date())
    )


LVS_HEADER = (
    N_("Student number"),
    N_("Name"),
    N_("Week"),
    N_("Trajectory status"),
    N_("Appointments attended"),
    N_("Appointments missed"),
    N_("Time-outs used"),
    N_("Time-outs missed"),
    N_("Evaluations held"),
    N_("Logbook entries"),
    N_("Logbook dates"),
    N_("Logbook"),
)


def trajectory_link(base_url: str, trajectory_id: int) -> str:
    """The trajectory page (with its logbook) in the staff web app."""
    return f"{base_url.rstrip('/')}/trajectories/{trajectory_id}"


def lvs_table(rows: Sequence[LvsRow], week: Week, base_url: str) -> ExportTable:
    """The weekly summary as a table: one row per student, counts and dates only."""
    return ExportTable(
        LVS_HEADER,
        tuple(
            (
                row.student_number,
                row.student_name,
                str(week),
                Text.of(STATE_LABELS[row.state]),
                str(row.appointments_attended),
                str(row.appointments_missed),
                str(row.timeouts_attended),
                str(row.timeouts_missed),
                str(row.evaluations_held),
                str(row.logbook_entries),
                ", ".join(day_text(day) for day in row.logbook_days),
                trajectory_link(base_url, row.trajectory_id),
            )
            for row in rows
        ),
    )


def lvs_text(
    rows: Sequence[LvsRow], week: Week, *, school_name: str, base_url: str
) -> list[Text | str]:
    """The weekly summary as readable text: a heading, then one block per student."""
    lines: list[Text | str] = [
        Text.of(
            N_("Weekly summary for the student tracking system, week {week} ({first} to {last})"),
            week=Text.raw(str(week)),
            first=Text.raw(day_text(week.monday)),
            last=Text.raw(day_text(week.sunday)),
        ),
        school_name,
        Text.of(N_("Facts only: what the logbook says is read in the logbook itself.")),
    ]
    if not rows:
        lines += ["", Text.of(N_("No student had a running trajectory this week."))]
    for row in rows:
        lines += [
            "",
            f"{row.student_number} {row.student_name}",
            _item(Text.of(N_("Trajectory: {state}"), state=Text.of(STATE_LABELS[row.state]))),
            _item(
                Text.of(
                    N_("Appointments: {attended} attended, {missed} missed"),
                    attended=Text.raw(str(row.appointments_attended)),
                    missed=Text.raw(str(row.appointments_missed)),
                )
            ),
            _item(
                Text.of(
                    N_("Time-outs: {used} used, {missed} missed"),
                    used=Text.raw(str(row.timeouts_attended)),
                    missed=Text.raw(str(row.timeouts_missed)),
                )
            ),
            _item(
                Text.of(
                    N_("Evaluations held: {count}"),
                    count=Text.raw(str(row.evaluations_held)),
                )
            ),
            _item(
                Text.of(
                    N_("Logbook entries: {count}{dates}"),
                    count=Text.raw(str(row.logbook_entries)),
                    dates=Text.raw(
                        f" ({', '.join(day_text(day) for day in row.logbook_days)})"
                        if row.logbook_days
                        else ""
                    ),
                )
            ),
            _item(
                Text.of(
                    N_("Logbook: {link}"),
                    link=Text.raw(trajectory_link(base_url, row.trajectory_id)),
                )
            ),
        ]
    return lines


def _item(text: Text) -> Text:
    return Text.of(N_("- {item}"), item=text)


# --- the closing report -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ClosingEvaluation:
    """One evaluation of the trajectory: planned, held (or not), what it concluded."""

    kind: EvaluationKind
    due_on: date
    held_on: date | None
    notes: str | None


@dataclass(frozen=True, slots=True)
class ClosingReport:
    """Everything the closing report shows, as plain data (the PDF is made without a database).

    ``attended`` counts the attended appointments per kind; ``missed`` the no-shows.
    ``questionnaires`` is (answered, invited) of the exit questionnaire.
    """

    trajectory_id: int
    school_name: str
    student_name: str
    student_number: str
    group_name: str | None
    goals: str
    start: date | None
    end: date | None
    intake_held_on: date | None
    closed_on: date
    coach_name: str
    mentor_names: tuple[str, ...]
    closed_by_name: str
    evaluations: tuple[ClosingEvaluation, ...]
    advice: str
    attended: tuple[tuple[AppointmentKind, int], ...]
    missed: int
    questionnaires: tuple[int, int]
    made_on: date

    @property
    def final_evaluation(self) -> ClosingEvaluation | None:
        """The final evaluation held (the latest), if any."""
        finals = [e for e in self.evaluations if e.kind is EvaluationKind.FINAL]
        return max(finals, key=lambda e: (e.held_on or e.due_on, e.due_on)) if finals else None

    @property
    def attended_total(self) -> int:
        """All attended appointments."""
        return sum(count for _kind, count in self.attended)


def attended_by_kind(
    appointments: Iterable[tuple[AppointmentKind, AppointmentStatus]],
) -> tuple[tuple[tuple[AppointmentKind, int], ...], int]:
    """Attended appointments per kind (every kind, in the enum's order) and the no-shows."""
    counts = dict.fromkeys(AppointmentKind, 0)
    missed = 0
    for kind, status in appointments:
        if status is AppointmentStatus.ATTENDED:
            counts[kind] += 1
        elif status is AppointmentStatus.NO_SHOW:
            missed += 1
    return tuple(counts.items()), missed


def closing_outcome(
    end: date | None, closed_on: date, shown: Callable[[date], str] = day_text
) -> Text:
    """The trajectory's end against its plan: on, before or after the planned end date
    (``shown`` writes the date: the files' ``01-12-2026``, or the PDF's long date)."""
    if end is None or closed_on == end:
        return Text.of(
            N_("Closed on {date}, the planned end date."), date=Text.raw(shown(closed_on))
        )
    days = abs((end - closed_on).days)
    if closed_on < end:
        return Text.plural_of(
            "Closed on {date}, {count} day before the planned end date.",
            "Closed on {date}, {count} days before the planned end date.",
            days,
            date=Text.raw(shown(closed_on)),
        )
    return Text.plural_of(
        "Closed on {date}, {count} day after the planned end date.",
        "Closed on {date}, {count} days after the planned end date.",
        days,
        date=Text.raw(shown(closed_on)),
    )


__all__ = [
    "ABSENT",
    "BOM",
    "DELIMITER",
    "KIND_LABELS",
    "LVS_HEADER",
    "MAGISTER_HEADER",
    "MARKED",
    "PRESENT",
    "SCHOOL_LANGUAGE",
    "AttendanceFact",
    "ClosingEvaluation",
    "ClosingReport",
    "ExportTable",
    "LvsRow",
    "TrajectoryWeekFacts",
    "Week",
    "WeekState",
    "attended_by_kind",
    "closing_outcome",
    "encode_csv",
    "encode_text",
    "lvs_rows",
    "lvs_table",
    "lvs_text",
    "magister_table",
    "parse_week",
    "ran_in",
    "state_at",
]
