"""A closed trajectory with its respondents, and a driver that answers the exit questionnaire
through the conversation runtime, one transaction per event like a chat. Invented names only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.engine import NO, YES
from dialogs.events import Action, Event, typed
from dialogs.flows.exit_survey import ANONYMOUS
from services.appointments.closing import close_trajectory
from services.conversations.runtime import Turn, handle_event
from services.conversations.survey_chat import SURVEY_REFUSALS, open_survey
from storage.models import Guardianship, Person, Role, SurveyInvitation
from tests.support.factories import (
    CLOSING,
    NOW,
    add_mentorship,
    add_person,
    add_school,
    add_trajectory,
)
from tests.support.units import unit


@dataclass
class SurveyWorld:
    zoco: Person
    mentor: Person
    student: Person
    parents: dict[str, Person]  # by language
    trajectory_id: int


async def survey_world(
    factory: async_sessionmaker[AsyncSession],
    *,
    languages: Sequence[str] = ("ar", "uk", "nl"),
    close: bool = True,
    now: datetime = NOW,
    school_code: str = "vmbo-noord",
) -> SurveyWorld:
    """A school with one trajectory of Sanne (3B), her parents in ``languages``, her mentor."""
    async with factory() as session, session.begin():
        school = await add_school(session, school_code)
        zoco = await add_person(session, school, f"{school_code}-zoco", Role.CARE_COORDINATOR)
        mentor = await add_person(
            session, school, f"{school_code}-m1", Role.MENTOR, Role.TEACHER, given_name="Ruud"
        )
        student = await add_person(
            session,
            school,
            f"{school_code}-s1",
            Role.STUDENT,
            given_name="Sanne",
            family_name="Veldkamp",
            group_name="3B",
        )
        await add_mentorship(session, mentor, student)
        parents: dict[str, Person] = {}
        for language in languages:
            parent = await add_person(
                session,
                school,
                f"{school_code}-p-{language}",
                Role.PARENT,
                given_name=f"Ouder-{language}",
            )
            parent.language = language
            session.add(
                Guardianship(school_id=school.id, parent_id=parent.id, student_id=student.id)
            )
            parents[language] = parent
        trajectory = await add_trajectory(session, mentor, student)
    if close:
        async with factory() as session:
            await unit(
                session,
                close_trajectory,
                actor=zoco,
                trajectory_id=trajectory.id,
                closing=CLOSING,
                now=now,
            )
    return SurveyWorld(zoco, mentor, student, parents, trajectory.id)


async def invitation_of(factory: async_sessionmaker[AsyncSession], person: Person) -> int:
    """The id of the (only) invitation of ``person``."""
    async with factory() as session:
        found = await session.scalar(
            select(SurveyInvitation.id).where(SurveyInvitation.respondent_id == person.id)
        )
    assert found is not None
    return found


def button(turn: Turn, action: Action, value: str | None = None) -> Event:
    """The event of the newest button with this action (and value) among the turn's replies."""
    for reply in reversed(turn.replies):
        for candidate in reply.buttons:
            if candidate.event.action is action and (
                value is None or candidate.event.value == value
            ):
                return candidate.event
    raise AssertionError(f"no {action} {value} button")


class Respondent:
    """Answers one questionnaire: every event a separate session and transaction."""

    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        person: Person,
        invitation_id: int,
        now: datetime = NOW,
    ) -> None:
        self.factory = factory
        self.person = person
        self.invitation_id = invitation_id
        self.now = now
        self.turn: Turn | None = None

    async def open(self, anonymous: bool | None = False) -> Turn:
        """Open the questionnaire; a student's or parent's first question (answer
        anonymously?) is answered with ``anonymous`` unless it is ``None``."""
        # As the channels do: a refusal commits first (a run that can no longer be sent ends).
        self.turn = await unit(
            self.factory,
            open_survey,
            commit_on=SURVEY_REFUSALS,
            person=self.person,
            invitation_id=self.invitation_id,
            now=self.now,
        )
        if anonymous is not None:
            await self.choose_anonymity(anonymous)
        return self.turn

    async def send(self, event: Event) -> Turn:
        assert self.turn is not None
        self.turn = await unit(
            self.factory,
            handle_event,
            person=self.person,
            flow_id=self.turn.flow,
            event=event,
            now=self.now,
        )
        return self.turn

    async def choose(self, code: str) -> Turn:
        assert self.turn is not None
        return await self.send(button(self.turn, Action.CHOOSE, code))

    async def type(self, text: str) -> Turn:
        return await self.send(typed(text))

    async def skip(self) -> Turn:
        assert self.turn is not None
        return await self.send(button(self.turn, Action.SKIP))

    async def confirm(self) -> Turn:
        assert self.turn is not None
        return await self.send(button(self.turn, Action.CONFIRM))

    async def choose_anonymity(self, anonymous: bool = False) -> Turn:
        """Answer the first question of a student's or parent's questionnaire (answer
        anonymously?), if the turn asks it."""
        assert self.turn is not None
        if self.turn.state.step != ANONYMOUS:
            return self.turn
        return await self.choose(YES if anonymous else NO)

    async def answer(
        self, scale: Sequence[str], text: str | None, *, anonymous: bool = False
    ) -> Turn:
        """Open, choose whether to answer anonymously (students and parents), answer the
        statements with ``scale`` codes, type or skip the open one, send."""
        await self.open(anonymous)
        for code in scale:
            await self.choose(code)
        if text is None:
            await self.skip()
        else:
            await self.type(text)
        return await self.confirm()
