"""The plan in Telegram (feed_update; issue 11: the plan is made at the intake, in the chat too):
the coach opens "Plans to complete", fills in the plan of the demo student whose intake was
held, saves it, and the trajectory is active; a mentor's forged button and an old button of a
trajectory closed meanwhile are refused with the reason, in the presser's language."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from bot.telegram.callbacks import PlanCallback
from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import N_, Text
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from storage.models import EvaluationKind, Role, Trajectory, TrajectoryEvaluation, TrajectoryStatus
from tests.bot.telegram_fakes import Person
from tests.bot.test_telegram_flows import Harness
from tests.bot.test_telegram_flows import flood_limit as _flood_limit
from tests.bot.test_telegram_flows import tg as _tg
from tests.support.factories import add_trajectory

tg = _tg
flood_limit = _flood_limit

COACH_USER, ZOCO_USER, MENTOR_USER = 3101, 3102, 3103
GOALS = "Amira vraagt zelf om een time-out voordat het in de les te veel wordt."


def _typed(day: date) -> str:
    return f"{day.day}-{day.month}-{day.year}"


async def _amiras_trajectory(tg: Harness) -> int:
    """A trajectory of the demo student lln15 (Amira, 3A) whose intake was held without a
    complete plan: goals and dates from the referral's acceptance, no evaluations, no coach."""
    async with tg.app.sessions() as session, session.begin():
        school = await find_school(session=session, code="demo")
        people = {}
        for external_id in ("lln15", "mentor2"):
            person = await get_person_by_external_id(
                session=session, school_id=school.id, external_id=external_id
            )
            assert person is not None
            people[external_id] = person
        trajectory = await add_trajectory(
            session, people["mentor2"], people["lln15"], status=TrajectoryStatus.INTAKE_HELD
        )
        return trajectory.id


async def _close(tg: Harness, trajectory_id: int) -> None:
    async with tg.app.sessions() as session, session.begin():
        await session.execute(
            update(Trajectory)
            .where(Trajectory.id == trajectory_id)
            .values(status=TrajectoryStatus.CLOSED, closed_at=datetime.now(UTC))
        )


async def test_the_coach_completes_a_plan_in_the_chat_and_the_trajectory_is_active(
    tg: Harness,
) -> None:
    trajectory_id = await _amiras_trajectory(tg)
    coach = Person(COACH_USER, "en")
    await tg.link(coach, "coach", Role.COACH, "en")
    menu = tg.api.last(COACH_USER)
    await tg.feed(coach.press(menu, menu.data_for("Plans to complete")))
    listing = tg.api.last(COACH_USER)
    assert listing.text == "Whose plan do you want to complete?"
    assert listing.buttons() == [
        ("Amira Oosterbeek-Haddou (3A) · intake held", f"pl:open:{trajectory_id}")
    ]
    await tg.feed(coach.press(listing, listing.data_for("Amira")))
    question = tg.api.last(COACH_USER).text
    assert question.startswith("Question 1 of 6\nWhat are the goals of this trajectory")
    assert "The plan of Amira Oosterbeek-Haddou (3A)." in question

    today = datetime.now(UTC).astimezone(SCHOOL_TIMEZONE).date()
    end, interim = today + timedelta(weeks=12), today + timedelta(weeks=6)
    await tg.feed(coach.text("Te kort"))  # too short: the limit, in the coach's language
    assert tg.api.last(COACH_USER).text.startswith("Question 1 of 6")
    assert "That is too short: please write at least 10 characters." in [
        m.text for m in tg.api.chat(COACH_USER)
    ]
    for answer in (GOALS, _typed(today), _typed(end), _typed(interim)):
        await tg.feed(coach.text(answer))
    skip = tg.api.last(COACH_USER)
    assert "second interim evaluation" in skip.text
    await tg.feed(coach.press(skip, skip.data_for("Skip")))
    coaches = tg.api.last(COACH_USER)
    await tg.feed(coach.press(coaches, coaches.data_for("Jeroen Trajectveld")))
    summary = tg.api.last(COACH_USER)
    assert summary.text.startswith("Please check the plan before saving it:")
    assert f"Goals: {GOALS}" in summary.text
    assert "Coach: Jeroen Trajectveld" in summary.text
    assert [label for label, _ in summary.buttons()] == [
        "Save the plan ✓",
        "Change an answer",
        "« Back",
        "Stop",
    ]
    # Every button of the summary belongs to this run (f:<flow>:<action>:<version>:<run>:…).
    assert all(data.startswith("f:trajectory_plan:") for _, data in summary.buttons())
    await tg.feed(coach.press(summary, summary.data_for("Save the plan")))
    assert "The plan is saved and complete: the trajectory is active now." in [
        m.text for m in tg.api.chat(COACH_USER)[-3:]
    ]

    async with tg.app.sessions() as session:
        trajectory = await session.get(Trajectory, trajectory_id)
        evaluations = list(
            await session.execute(
                select(TrajectoryEvaluation.kind, TrajectoryEvaluation.due_on)
                .where(TrajectoryEvaluation.trajectory_id == trajectory_id)
                .order_by(TrajectoryEvaluation.due_on)
            )
        )
    assert trajectory is not None
    assert trajectory.status is TrajectoryStatus.ACTIVE
    assert (trajectory.goals, trajectory.start_date, trajectory.end_date) == (GOALS, today, end)
    assert [(kind, day) for kind, day in evaluations] == [
        (EvaluationKind.INTERIM, interim),
        (EvaluationKind.FINAL, end),
    ]

    # Nothing left to complete.
    await tg.feed(coach.press(tg.api.last(COACH_USER), "m:plans:"))
    assert tg.api.last(COACH_USER).text == "There is no plan to complete right now."


async def test_a_mentor_and_an_old_button_of_a_closed_trajectory_are_refused(
    tg: Harness,
) -> None:
    trajectory_id = await _amiras_trajectory(tg)
    mentor = Person(MENTOR_USER, "nl")
    await tg.link(mentor, "mentor2", Role.MENTOR, "nl")
    assert all("Plan" not in label for label, _ in tg.api.last(MENTOR_USER).buttons())
    forged = PlanCallback(action="open", trajectory=trajectory_id).pack()
    await tg.feed(mentor.press(tg.api.last(MENTOR_USER), forged))
    assert tg.api.last(MENTOR_USER).text == tg.app.catalogs.get("nl").render(
        Text.of(N_("This is not available for your role."))
    )
    await tg.feed(mentor.press(tg.api.last(MENTOR_USER), "m:plans:"))
    assert tg.api.last(MENTOR_USER).text == tg.app.catalogs.get("nl").render(
        Text.of(N_("This is not available for your role."))
    )

    zoco = Person(ZOCO_USER, "en")
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR, "en")
    menu = tg.api.last(ZOCO_USER)
    await tg.feed(zoco.press(menu, menu.data_for("Plans to complete")))
    listing = tg.api.last(ZOCO_USER)
    await _close(tg, trajectory_id)  # closed meanwhile
    await tg.feed(zoco.press(listing, listing.data_for("Amira")))
    assert tg.api.last(ZOCO_USER).text == "This trajectory is closed."
    assert tg.api.last(ZOCO_USER).markup is None


async def test_a_plan_changed_elsewhere_shows_on_the_next_step(tg: Harness) -> None:
    """The stored plan under each question is kept per process while the case version stands;
    a write elsewhere (the web, another worker) to the trajectory or its evaluations bumps it,
    so the next step shows the plan as stored now, and a trajectory closed meanwhile says so."""
    trajectory_id = await _amiras_trajectory(tg)
    zoco = Person(ZOCO_USER, "en")
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR, "en")
    menu = tg.api.last(ZOCO_USER)
    await tg.feed(zoco.press(menu, menu.data_for("Plans to complete")))
    listing = tg.api.last(ZOCO_USER)
    await tg.feed(zoco.press(listing, listing.data_for("Amira")))
    today = datetime.now(UTC).astimezone(SCHOOL_TIMEZONE).date()
    await tg.feed(zoco.text(GOALS))
    await tg.feed(zoco.text(_typed(today)))
    assert tg.api.last(ZOCO_USER).text.startswith("Question 3 of 6")  # read: now cached

    interim = today + timedelta(weeks=5)
    async with tg.app.sessions() as session, session.begin():
        school = await find_school(session=session, code="demo")
        session.add(
            TrajectoryEvaluation(
                school_id=school.id,
                trajectory_id=trajectory_id,
                kind=EvaluationKind.INTERIM,
                due_on=interim,
            )
        )
    await tg.feed(zoco.text(_typed(today + timedelta(weeks=12))))
    question = tg.api.last(ZOCO_USER).text
    assert question.startswith("Question 4 of 6")
    assert "\nPlanned now: " in question  # the interim evaluation, none before

    await _close(tg, trajectory_id)
    await tg.feed(zoco.text(_typed(today + timedelta(weeks=6))))
    assert "This trajectory is closed." in tg.api.last(ZOCO_USER).text
