"""The indicators' fixture: three schools whose figures are computed by hand in the tests.

Shared by the storage tests (`tests/services/indicators/test_indicators.py`) and the web tests
(`tests/web/test_indicators_web.py`); every name is invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.indicators.periods import Month
from storage.models import (
    ActivityKind,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    EvaluationKind,
    IndicatorTarget,
    ObservationAim,
    Person,
    PersonRole,
    Referral,
    RespondentType,
    Role,
    School,
    StudentEvent,
    StudentEventKind,
    StudentEventSource,
    SupportActivity,
    SupportKind,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    TeacherSupportKind,
    Trajectory,
    TrajectoryEvaluation,
    TrajectoryStatus,
    Urgency,
    VisitationReport,
)
from tests.support.factories import add_person, add_school

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
JAN, FEB, MAR = Month(2026, 1), Month(2026, 2), Month(2026, 3)
OBSERVATION = SupportKind.CLASS_OBSERVATION.value


def at(day: str, hour: int = 9, minute: int = 0) -> datetime:
    """A UTC instant on ``day`` (ISO date)."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC).replace(
        hour=hour, minute=minute
    )


async def _referral(
    session: AsyncSession,
    mentor: Person,
    student: Person,
    created_at: datetime,
    *support: str,
) -> Referral:
    referral = Referral(
        school_id=student.school_id,
        student_id=student.id,
        mentor_id=mentor.id,
        help_question_student="Ik wil rustiger worden in de klas.",
        help_question_teacher="Hoe help ik hem bij het plannen?",
        tried="Vaste plek in de klas.",
        urgency=Urgency.NORMAL,
        parents_informed=True,
        support=list(support or ("conversations",)),
        intake_from=created_at.date(),
        intake_days=["mon"],
        text_language="nl",
        created_at=created_at,
    )
    session.add(referral)
    await session.flush()
    return referral


async def _trajectory(
    session: AsyncSession,
    referral: Referral,
    *,
    created: str,
    activated: str | None,
    closed: str | None = None,
    end: str | None = None,
    timeouts_in_plan: bool = True,
    per_week: int = 2,
    evaluations: tuple[tuple[str, str | None], ...] = (),
) -> Trajectory:
    status = (
        TrajectoryStatus.CLOSED
        if closed
        else TrajectoryStatus.ACTIVE
        if activated
        else TrajectoryStatus.PLANNED
    )
    trajectory = Trajectory(
        school_id=referral.school_id,
        student_id=referral.student_id,
        referral_id=referral.id,
        status=status,
        goals="Rustig blijven in de les.",
        start_date=date.fromisoformat(activated) if activated else None,
        end_date=date.fromisoformat(end) if end else None,
        timeouts_in_plan=timeouts_in_plan,
        timeouts_per_week=per_week,
        created_at=at(created),
        activated_at=at(activated) if activated else None,
        closed_at=at(closed, 15) if closed else None,
    )
    session.add(trajectory)
    await session.flush()
    for due, held in evaluations:
        session.add(
            TrajectoryEvaluation(
                school_id=trajectory.school_id,
                trajectory_id=trajectory.id,
                kind=EvaluationKind.INTERIM,
                due_on=date.fromisoformat(due),
                held_on=date.fromisoformat(held) if held else None,
            )
        )
    await session.flush()
    return trajectory


async def _timeout(
    session: AsyncSession, trajectory: Trajectory, booker: Person, day: str, status: str
) -> None:
    starts = at(day, 10)
    session.add(
        Appointment(
            school_id=trajectory.school_id,
            trajectory_id=trajectory.id,
            student_id=trajectory.student_id,
            kind=AppointmentKind.TIME_OUT,
            status=AppointmentStatus(status),
            starts_at=starts,
            ends_at=starts + timedelta(minutes=50),
            busy_until=starts + timedelta(minutes=50),
            resource="room:time_out",
            booked_by_id=booker.id,
            cancelled_at=starts - timedelta(days=1) if status == "cancelled" else None,
        )
    )
    await session.flush()


async def _questionnaire(
    session: AsyncSession,
    trajectory: Trajectory,
    respondent: Person,
    kind: RespondentType,
    *,
    answered: str | None,
    answers: dict[str, str],
) -> None:
    """An invitation of 10 Feb (21 days valid), answered on ``answered`` with ``answers``."""
    invitation = SurveyInvitation(
        school_id=trajectory.school_id,
        trajectory_id=trajectory.id,
        respondent_id=respondent.id,
        respondent_type=kind,
        created_at=at("2026-02-10", 16),
        expires_at=at("2026-03-03", 16),
        completed_at=at(answered, 12) if answered else None,
    )
    session.add(invitation)
    await session.flush()
    if answered is None:
        return
    response = SurveyResponse(
        school_id=trajectory.school_id,
        invitation_id=invitation.id,
        respondent_type=kind,
        version=1,
        language="nl",
        completed_at=at(answered, 12),
    )
    session.add(response)
    await session.flush()
    for code, value in answers.items():
        session.add(
            SurveyAnswer(
                school_id=trajectory.school_id, response_id=response.id, code=code, value=value
            )
        )
    await session.flush()


def _day(value: str) -> date:
    return date.fromisoformat(value)


async def _seed_004_events(
    session: AsyncSession,
    *,
    noord: School,
    s: list[Person],
    coach: Person,
    t2: Trajectory,
    t3: Trajectory,
    t5: Trajectory,
    admin: Person,
) -> None:
    """Noord's recorded observations, teacher support, student events, visitations, targets.

    Observations held: 20 Jan about s1 (T2, from the referral's tick); 10 Feb about a teacher
    (T3); 3 Mar about the class (T5); one request (T2) not held yet. Teacher support held:
    11 Feb advice (T2), 20 Feb training (T3). OPP: s1 10 Jan, s2 5 Feb. TLV: s6 requested
    1 Feb, granted 10 Mar. Long-term absence: s7 5 Jan - 10 Feb, s8 from 1 Mar (open).
    Afstroom: s9 20 Feb (no OPP), s1 10 Mar (OPP since 10 Jan). VAVO: s2 15 Jan (its OPP came
    later, 5 Feb: without). Visitation reports: 1 Oct 2025 and 25 Feb 2026. Targets for
    2025-2026: referred 5 %, OPP 10 %, TLV requested 0.2 %; a target of 2024-2025 is not
    shown.
    """
    held = datetime(2026, 3, 1, tzinfo=UTC)
    for trajectory, kind, day, aim, support in (
        (t2, ActivityKind.CLASS_OBSERVATION, "2026-01-20", ObservationAim.STUDENT, None),
        (t3, ActivityKind.CLASS_OBSERVATION, "2026-02-10", ObservationAim.TEACHER, None),
        (t5, ActivityKind.CLASS_OBSERVATION, "2026-03-03", ObservationAim.CLASS, None),
        (t2, ActivityKind.TEACHER_SUPPORT, "2026-02-11", None, TeacherSupportKind.ADVICE),
        (t3, ActivityKind.TEACHER_SUPPORT, "2026-02-20", None, TeacherSupportKind.TRAINING),
    ):
        session.add(
            SupportActivity(
                school_id=noord.id,
                kind=kind,
                trajectory_id=trajectory.id,
                student_id=trajectory.student_id,
                aim=aim,
                support_kind=support,
                requested_at=held,
                performer_id=coach.id,
                held_on=_day(day),
                outcome="Rustig verloop.",
                recorded_at=held,
            )
        )
    session.add(
        SupportActivity(
            school_id=noord.id,
            kind=ActivityKind.CLASS_OBSERVATION,
            trajectory_id=t2.id,
            student_id=t2.student_id,
            requested_at=held,
        )
    )
    for student, event, day, until in (
        (s[0], StudentEventKind.OPP, "2026-01-10", None),
        (s[1], StudentEventKind.OPP, "2026-02-05", None),
        (s[5], StudentEventKind.TLV_REQUESTED, "2026-02-01", None),
        (s[5], StudentEventKind.TLV_GRANTED, "2026-03-10", None),
        (s[6], StudentEventKind.LONG_ABSENCE, "2026-01-05", "2026-02-10"),
        (s[7], StudentEventKind.LONG_ABSENCE, "2026-03-01", None),
        (s[8], StudentEventKind.OUTFLOW, "2026-02-20", None),
        (s[0], StudentEventKind.OUTFLOW, "2026-03-10", None),
        (s[1], StudentEventKind.VAVO, "2026-01-15", None),
    ):
        session.add(
            StudentEvent(
                school_id=noord.id,
                student_id=student.id,
                kind=event,
                on_day=_day(day),
                until=_day(until) if until else None,
                source=StudentEventSource.WEB,
            )
        )
    for day in ("2025-10-01", "2026-02-25"):
        session.add(VisitationReport(school_id=noord.id, held_on=_day(day), summary="Verslag."))
    for year, indicator, target in (
        (2025, "referred_share", 5.0),
        (2025, "opp_share", 10.0),
        (2025, "tlv_requested_share", 0.2),
        (2024, "referred_share", 50.0),
    ):
        session.add(
            IndicatorTarget(
                school_id=noord.id,
                school_year=year,
                indicator=indicator,
                target=target,
                set_by_id=admin.id,
            )
        )
    await session.flush()


@dataclass
class IndicatorWorld:
    noord: School
    coordinator: Person
    admin: Person
    coach: Person
    mentor: Person
    viewer: Person
    student_names: tuple[str, ...]


async def build_indicator_world(
    session_factory: async_sessionmaker[AsyncSession],
) -> IndicatorWorld:
    """Three schools; Noord holds the trajectories, Zuid and West only referrals.

    Noord: 10 students (s1..s10). Referrals: s6 2025-12-15 (observation; before the period),
    s1 01-12 (observation), s2 01-20 and again 01-27, s4 at 2026-01-31 23:30 UTC (00:30 on
    1 February in Amsterdam: a February referral), s3 02-03 (observation), s5 03-05.
    Trajectories (created = accepted):
      T1 s6: created 2025-12-20, active 01-05, closed 02-10; final evaluation 02-10 held 02-10.
      T2 s1: created 01-15, active 01-26, end 06-30, 2 time-outs a week; interim evaluation due
         02-20, held 03-02.
      T3 s2: created 01-22, active 02-02, end 03-13, 1 time-out a week.
      T4 s3: created 02-05, still planned (no plan yet).
      T5 s4: created 02-09, active 02-16, end 05-29, no time-out in the plan.
    Time-outs: T2 attended 02-10, 02-12, 03-03, cancelled 03-04, no-show 03-05;
               T3 attended 02-17, 02-18 (week of 16 Feb: 2 > 1 allowed);
               T5 attended 03-02 (week of 2 March: 1 > 0 allowed).
    Exit questionnaire of T1: see below.
    Zuid: 6 students, referrals of b1, b2, b3 in February.
    West: 8 students, referrals of c1..c6 in March.
    """
    async with session_factory() as session, session.begin():
        noord = await add_school(session, "noord")
        noord.name = "Noord College"
        zuid = await add_school(session, "zuid")
        zuid.name = "Zuid Lyceum"
        west = await add_school(session, "west")
        west.name = "West Mavo"
        coordinator = await add_person(session, noord, "z1", Role.CARE_COORDINATOR)
        admin = await add_person(session, noord, "a1", Role.ADMIN)
        coach = await add_person(session, noord, "k1", Role.COACH)
        mentor = await add_person(session, noord, "m1", Role.MENTOR)
        viewer = await add_person(session, zuid, "p1", Role.PARTNERSHIP_VIEWER)
        s = [
            await add_person(session, noord, f"s{i}", Role.STUDENT, given_name=f"Noorda{i}")
            for i in range(1, 11)
        ]
        b = [
            await add_person(session, zuid, f"b{i}", Role.STUDENT, given_name=f"Zuidje{i}")
            for i in range(1, 7)
        ]
        c = [
            await add_person(session, west, f"c{i}", Role.STUDENT, given_name=f"Westje{i}")
            for i in range(1, 9)
        ]
        # Enrolment history (the roster import dates the roles): every role from 20 Aug 2025;
        # s10 left on 15 Feb 2026; s11 came on 1 Mar 2026. Enrolled: Jan 10, Feb 10, Mar 10
        # (s1-s9, s11); the school year 2025-2026: 11.
        s.append(await add_person(session, noord, "s11", Role.STUDENT, given_name="Noorda11"))
        await session.execute(update(PersonRole).values(started_at=at("2025-08-20")))
        await session.execute(
            update(PersonRole)
            .where(PersonRole.person_id == s[10].id)
            .values(started_at=at("2026-03-01"))
        )
        s[9].ended_at = at("2026-02-15")
        await session.execute(
            update(PersonRole)
            .where(PersonRole.person_id == s[9].id)
            .values(ended_at=at("2026-02-15"))
        )
        mentor_zuid = await add_person(session, zuid, "m2", Role.MENTOR)
        mentor_west = await add_person(session, west, "m3", Role.MENTOR)

        r6 = await _referral(session, mentor, s[5], at("2025-12-15"), OBSERVATION)
        r1 = await _referral(session, mentor, s[0], at("2026-01-12"), "conversations", OBSERVATION)
        r2 = await _referral(session, mentor, s[1], at("2026-01-20"), "time_out")
        await _referral(session, mentor, s[1], at("2026-01-27"))
        r4 = await _referral(session, mentor, s[3], at("2026-01-31", 23, 30))
        r3 = await _referral(session, mentor, s[2], at("2026-02-03"), OBSERVATION)
        await _referral(session, mentor, s[4], at("2026-03-05"))

        t1 = await _trajectory(
            session,
            r6,
            created="2025-12-20",
            activated="2026-01-05",
            closed="2026-02-10",
            end="2026-02-10",
            evaluations=(("2026-02-10", "2026-02-10"),),
        )
        t2 = await _trajectory(
            session,
            r1,
            created="2026-01-15",
            activated="2026-01-26",
            end="2026-06-30",
            per_week=2,
            evaluations=(("2026-02-20", "2026-03-02"),),
        )
        t3 = await _trajectory(
            session, r2, created="2026-01-22", activated="2026-02-02", end="2026-03-13", per_week=1
        )
        await _trajectory(session, r3, created="2026-02-05", activated=None)
        t5 = await _trajectory(
            session,
            r4,
            created="2026-02-09",
            activated="2026-02-16",
            end="2026-05-29",
            timeouts_in_plan=False,
        )
        for day, status in (
            ("2026-02-10", "attended"),
            ("2026-02-12", "attended"),
            ("2026-03-03", "attended"),
            ("2026-03-04", "cancelled"),
            ("2026-03-05", "no_show"),
        ):
            await _timeout(session, t2, coach, day, status)
        await _timeout(session, t3, coach, "2026-02-17", "attended")
        await _timeout(session, t3, coach, "2026-02-18", "attended")
        await _timeout(session, t5, coach, "2026-03-02", "attended")

        # T1's exit questionnaire (invitations of 10 Feb): the student, one parent and six
        # teachers (t1..t6). Answers on the statements T1..T4 ("na": don't know):
        #   t1 11 Feb: 4 5 3 na | t2 12 Feb: 5 4 4 4 | t3 13 Feb: 3 4 5 2 | t4 14 Feb: 4 3 4 4
        #   t5 15 Feb: 5 5 4 3  | t6 2 Mar: 2 2 2 2
        # The student answers S1 = 5 on 12 Feb; the parent never answers.
        parent = await add_person(session, noord, "q1", Role.PARENT)
        await _questionnaire(
            session, t1, s[5], RespondentType.STUDENT, answered="2026-02-12", answers={"S1": "5"}
        )
        await _questionnaire(session, t1, parent, RespondentType.PARENT, answered=None, answers={})
        teacher_answers = (
            ("2026-02-11", ("4", "5", "3", "na")),
            ("2026-02-12", ("5", "4", "4", "4")),
            ("2026-02-13", ("3", "4", "5", "2")),
            ("2026-02-14", ("4", "3", "4", "4")),
            ("2026-02-15", ("5", "5", "4", "3")),
            ("2026-03-02", ("2", "2", "2", "2")),
        )
        for i, (day, scores) in enumerate(teacher_answers, start=1):
            teacher = await add_person(session, noord, f"t{i}", Role.TEACHER)
            await _questionnaire(
                session,
                t1,
                teacher,
                RespondentType.TEACHER,
                answered=day,
                answers=dict(zip(("T1", "T2", "T3", "T4"), scores, strict=True)),
            )

        await _seed_004_events(
            session, noord=noord, s=s, coach=coach, t2=t2, t3=t3, t5=t5, admin=admin
        )

        for student, day in zip(b[:3], ("2026-02-10", "2026-02-11", "2026-02-12"), strict=True):
            await _referral(session, mentor_zuid, student, at(day))
        for i, student in enumerate(c[:6]):
            await _referral(session, mentor_west, student, at(f"2026-03-{i + 2:02d}"))
        names = tuple(p.given_name for p in (*s, *b, *c))
    return IndicatorWorld(noord, coordinator, admin, coach, mentor, viewer, names)
