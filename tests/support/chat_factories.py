"""A small school for the web chat tests: a closed trajectory whose parent has a questionnaire
link, and an onboarding invitation. Every name is invented."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.invites import create_invite
from services.surveys.invitations import create_invitations
from services.surveys.links import issue_survey_link
from storage.models import Guardianship, Person, Role, SurveyInvitation, TrajectoryStatus
from tests.support.factories import NOW, add_mentorship, add_person, add_school, add_trajectory


@dataclass(frozen=True, slots=True)
class ChatWorld:
    """Ids and raw tokens of the people a web chat test needs."""

    school_id: int
    zoco_id: int
    mentor_id: int
    student_id: int
    parent_id: int
    other_parent_id: int
    parent_invitation_id: int
    student_invitation_id: int
    other_invitation_id: int
    survey_token: str
    other_survey_token: str
    invite_token: str


async def build_chat_world(
    session: AsyncSession, *, parent_language: str = "ar", other_language: str = "uk"
) -> ChatWorld:
    """A school with a closed trajectory of one student with two parents. Each parent holds a
    personal questionnaire link (`survey_token` and `other_survey_token`); the other parent
    also an onboarding invitation (`invite_token`). A unit of work: ``session`` must not be in
    a transaction."""
    async with session.begin():
        school = await add_school(session)
        zoco = await add_person(
            session, school, "zoco", Role.CARE_COORDINATOR, given_name="Marloes"
        )
        mentor = await add_person(session, school, "mentor", Role.MENTOR, given_name="Anouk")
        student = await add_person(
            session, school, "lln1", Role.STUDENT, given_name="Yara", group_name="2B"
        )
        parent = await add_person(session, school, "ouder1", Role.PARENT, given_name="Samira")
        parent.language = parent_language
        other = await add_person(session, school, "ouder2", Role.PARENT, given_name="Olena")
        other.language = other_language
        await add_mentorship(session, mentor, student)
        session.add_all(
            [
                Guardianship(school_id=school.id, parent_id=parent.id, student_id=student.id),
                Guardianship(school_id=school.id, parent_id=other.id, student_id=student.id),
            ]
        )
        await session.flush()
        trajectory = await add_trajectory(session, mentor, student, status=TrajectoryStatus.CLOSED)
        await create_invitations(session=session, trajectory=trajectory, now=NOW)
        invitations = {
            row.respondent_id: row.id
            for row in await session.scalars(
                select(SurveyInvitation).where(SurveyInvitation.trajectory_id == trajectory.id)
            )
        }
        survey_token = await issue_survey_link(
            session=session, actor=zoco, invitation_id=invitations[parent.id], now=NOW
        )
        other_survey_token = await issue_survey_link(
            session=session, actor=zoco, invitation_id=invitations[other.id], now=NOW
        )
        invite_token = await create_invite(
            session=session, person=other, role=Role.PARENT, ttl=timedelta(days=14), now=NOW
        )
        return ChatWorld(
            school_id=school.id,
            zoco_id=zoco.id,
            mentor_id=mentor.id,
            student_id=student.id,
            parent_id=parent.id,
            other_parent_id=other.id,
            parent_invitation_id=invitations[parent.id],
            student_invitation_id=invitations[student.id],
            other_invitation_id=invitations[other.id],
            survey_token=survey_token,
            other_survey_token=other_survey_token,
            invite_token=invite_token,
        )


async def person(session: AsyncSession, person_id: int) -> Person:
    """The person as stored now (roles loaded)."""
    async with session.begin():
        found = await session.get(Person, person_id, populate_existing=True)
        assert found is not None
        return found
