"""Issue 15: the exit questionnaire also invites the current mentor and the teachers picked at
closing; students and parents may answer anonymously, and then no listing names them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.closing import close_trajectory
from services.kernel.errors import InputInvalid
from services.queue.listing import list_queue
from services.surveys.invitations import teachers_to_pick
from services.surveys.report import survey_report
from services.surveys.results import open_survey_result
from services.surveys.rules import SMALL_GROUP, anonymous_time, hide_small_group
from services.trajectories.lifecycle import Closing
from storage.models import (
    AuditLog,
    Mentorship,
    Outbox,
    QueueItem,
    QueueKind,
    RespondentType,
    Role,
    School,
    SurveyInvitation,
    SurveyResponse,
    Trajectory,
    TrajectoryStatus,
)
from tests.support.factories import CLOSING, NOW, add_person, add_school
from tests.support.survey_world import Respondent, invitation_of, survey_world
from tests.support.units import unit

NAMES = ("Sanne", "Veldkamp", "Ouder-nl", "Ouder-ar", "3B")


def test_the_small_group_rule_hides_anonymous_answers_in_groups_of_one_to_four() -> None:
    assert SMALL_GROUP == 5
    assert hide_small_group(anonymous=1, group=4)
    assert not hide_small_group(anonymous=1, group=5)
    assert not hide_small_group(anonymous=0, group=1)  # named answers: the old rule
    assert not hide_small_group(anonymous=0, group=0)
    # An anonymous answer keeps its school day only (Europe/Amsterdam midnight, in UTC).
    assert anonymous_time(datetime(2026, 3, 2, 9, 30, tzinfo=UTC)) == datetime(
        2026, 3, 1, 23, 0, tzinfo=UTC
    )


async def test_closing_invites_the_current_mentor_and_the_picked_teachers(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory, languages=("nl",), close=False)
    async with session_factory() as session, session.begin():
        school = await session.get_one(School, world.student.school_id)
        other = await add_school(session, "havo-zuid")
        new_mentor = await add_person(session, school, "m-new", Role.MENTOR)
        teacher = await add_person(session, school, "t-wis", Role.TEACHER)
        await add_person(session, school, "t-unpicked", Role.TEACHER)
        stranger = await add_person(session, other, "t-other", Role.TEACHER)
        # The student moved to a new mentor since the referral.
        session.add(
            Mentorship(school_id=school.id, mentor_id=new_mentor.id, student_id=world.student.id)
        )
    offered = await unit(session_factory, teachers_to_pick, school_id=world.student.school_id)
    assert stranger.id not in {t.person_id for t in offered}
    assert teacher.id in {t.person_id for t in offered}

    # A picked person who is not a teacher of this school: refused, nothing closed.
    for wrong in (stranger.id, world.student.id, 2_000_000):
        with pytest.raises(InputInvalid):
            await unit(
                session_factory,
                close_trajectory,
                actor=world.zoco,
                trajectory_id=world.trajectory_id,
                closing=Closing(
                    CLOSING.advice, CLOSING.final_evaluation, teacher_ids=(teacher.id, wrong)
                ),
                now=NOW,
            )
    async with session_factory() as session:
        trajectory = await session.get_one(Trajectory, world.trajectory_id)
        assert trajectory.status is not TrajectoryStatus.CLOSED

    await unit(
        session_factory,
        close_trajectory,
        actor=world.zoco,
        trajectory_id=world.trajectory_id,
        closing=Closing(
            CLOSING.advice, CLOSING.final_evaluation, teacher_ids=(teacher.id, teacher.id)
        ),
        now=NOW,
    )
    async with session_factory() as session:
        invited = {
            (row.respondent_id, row.respondent_type)
            for row in await session.scalars(
                select(SurveyInvitation).where(
                    SurveyInvitation.trajectory_id == world.trajectory_id
                )
            )
        }
    assert invited == {
        (world.student.id, RespondentType.STUDENT),
        (world.parents["nl"].id, RespondentType.PARENT),
        (world.mentor.id, RespondentType.TEACHER),  # the mentor who referred (and still is)
        (new_mentor.id, RespondentType.TEACHER),  # the current mentor from the roster
        (teacher.id, RespondentType.TEACHER),  # picked at closing, invited once
    }


async def test_an_anonymous_answer_names_nobody_wherever_it_is_listed(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await survey_world(session_factory, languages=("nl", "ar"))
    anonymous_parent = world.parents["nl"]
    invitation_id = await invitation_of(session_factory, anonymous_parent)
    at = NOW + timedelta(hours=5)
    await Respondent(session_factory, anonymous_parent, invitation_id, at).answer(
        ("4", "5", "na", "2"), "Meer overleg graag.", anonymous=True
    )
    named_parent = world.parents["ar"]
    await Respondent(
        session_factory, named_parent, await invitation_of(session_factory, named_parent), at
    ).answer(("3", "3", "3", "3"), None)

    async with session_factory() as session:
        responses = list(await session.scalars(select(SurveyResponse).order_by(SurveyResponse.id)))
        invitation = await session.get_one(SurveyInvitation, invitation_id)
        items = {
            item.survey_response_id: item
            for item in await session.scalars(
                select(QueueItem).where(QueueItem.kind == QueueKind.EXIT_SURVEY)
            )
        }
        audit = list(await session.scalars(select(AuditLog)))
        notices = list(
            await session.scalars(select(Outbox).where(Outbox.kind == "survey.completed"))
        )
    anonymous, named = responses
    assert (anonymous.anonymous, anonymous.invitation_id) == (True, None)
    assert (named.anonymous, named.invitation_id) == (
        False,
        await invitation_of(session_factory, named_parent),
    )
    # Times kept to the day: neither the response, the used invitation nor the queue item
    # pairs the answer with the parent by the minute.
    day = anonymous_time(at)
    assert anonymous.completed_at == day
    assert invitation.completed_at == day
    assert items[anonymous.id].created_at == day
    # No audit row names both the invitation (a person) and the response or its item.
    for row in audit:
        about_invitation = (
            row.subject_type == "survey_invitation" and row.subject_id == invitation_id
        )
        if about_invitation:
            assert "survey_response_id" not in (row.details or {})
            assert "queue_item_id" not in (row.details or {})
        if row.subject_type == "survey_response" and row.subject_id == anonymous.id:
            assert row.actor_id is None
            assert set(row.details or {}) == {"respondent_type", "queue_item_id"}
    assert all(n.payload.get("survey_response_id") in {anonymous.id, named.id} for n in notices)

    # The queue listing: the anonymous result is about nobody; the named one names the child.
    entries = {
        e.queue_item_id: e for e in await unit(session_factory, list_queue, viewer=world.zoco)
    }
    anonymous_entry = entries[items[anonymous.id].id]
    assert anonymous_entry.student_name is None
    assert anonymous_entry.group_name is None
    assert anonymous_entry.respondent_type is RespondentType.PARENT
    assert entries[items[named.id].id].student_name == "Sanne Veldkamp"

    # The result view: the answers, no names, no trajectory, the day only.
    view = await unit(
        session_factory,
        open_survey_result,
        viewer=world.zoco,
        queue_item_id=items[anonymous.id].id,
        now=at,
    )
    assert view.anonymous
    assert (view.respondent_name, view.student_name, view.group_name) == ("", "", None)
    assert view.trajectory_id is None
    assert {a.code: a.value for a in view.answers}["P1"] == "4"
    assert not any(name in repr(view) for name in NAMES)

    # The survey report: one anonymous parent answer per question is a group of 1-4: hidden.
    report = await unit(
        session_factory,
        survey_report,
        school_id=world.zoco.school_id,
        start=day.date(),
        end=(at + timedelta(days=1)).date(),
        now=at,
    )
    p1 = report.question(RespondentType.PARENT, "P1")
    assert (p1.answers, p1.anonymous, p1.hidden) == (2, 1, True)
    teacher_t1 = report.question(RespondentType.TEACHER, "T1")
    assert not teacher_t1.hidden
