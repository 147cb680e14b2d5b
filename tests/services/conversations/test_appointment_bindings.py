"""The appointment flows through the runtime on a real database: book, move, cancel.

Each event is its own transaction, as in a chat; the clock is `booking_world.NOW` (Monday
2 March 2026, 10:30 in Amsterdam): a time-out can be booked for the block running now,
the other kinds from 12:30 (the school's two hours).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.events import Action, Event
from dialogs.flows.afspraken import APPOINTMENT, BOOK, CANCEL, MOVE, OFFERED, TIME, slot_code
from dialogs.i18n import Catalogs
from dialogs.render import render_reply
from dialogs.replies import ReplyKind
from dialogs.state import Status
from dialogs.text import Text
from services.appointments.booking import book
from services.appointments.errors import SlotTaken
from services.appointments.holds import HOLD_FOR
from services.appointments.views import AppointmentView, upcoming_for
from services.conversations.appointment_bindings import NO_CHANNEL_LINE, booked_lines
from services.conversations.runtime import Turn, handle_event, open_flow
from services.kernel.errors import NotAllowed
from services.kernel.uow import run_unit_of_work
from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Person,
    QueueItem,
    QueueKind,
    SlotHold,
)
from tests.support.booking_world import (
    MONDAY,
    NOW,
    TUESDAY,
    World,
    add_guardian,
    add_students_with_trajectories,
    at,
    build_world,
)

EN = Catalogs().get("en")


@dataclass
class Chat:
    """One person's conversation in one flow, every event in its own session."""

    factory: async_sessionmaker[AsyncSession]
    person: Person
    flow: str
    turn: Turn | None = None
    now: datetime = NOW

    async def open(self, **preset: str) -> Chat:
        async with self.factory() as session, session.begin():
            self.turn = await open_flow(
                session=session, person=self.person, flow_id=self.flow, now=self.now, preset=preset
            )
        return self

    async def send(self, event: Event) -> Turn:
        async with self.factory() as session, session.begin():
            self.turn = await handle_event(
                session=session, person=self.person, flow_id=self.flow, event=event, now=self.now
            )
        return self.turn

    @property
    def texts(self) -> list[str]:
        assert self.turn is not None
        return [render_reply(reply, EN).text for reply in self.turn.replies]

    @property
    def question(self) -> str:
        return self.texts[-1]

    def labels(self) -> list[str]:
        assert self.turn is not None
        return [EN.render(button.label) for button in self.turn.replies[-1].buttons]

    async def press(self, *labels: str) -> Turn:
        for label in labels:
            assert self.turn is not None
            found = [b for b in self.turn.replies[-1].buttons if EN.render(b.label) == label]
            assert found, f"no {label!r} in {self.labels()}"
            await self.send(found[0].event)
        assert self.turn is not None
        return self.turn

    async def press_first_option(self) -> str:
        assert self.turn is not None
        for button in self.turn.replies[-1].buttons:
            if button.event.action is Action.CHOOSE:
                await self.send(button.event)
                return button.event.value
        raise AssertionError(f"no option in {self.labels()}")


@pytest.fixture
async def world(session_factory: async_sessionmaker[AsyncSession]) -> World:
    return await build_world(session_factory, timeout_places=1)


async def _appointments(factory: async_sessionmaker[AsyncSession]) -> list[Appointment]:
    async with factory() as session:
        return list(await session.scalars(select(Appointment).order_by(Appointment.id)))


async def test_a_student_books_a_time_out(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    chat = await Chat(session_factory, world.student, BOOK.id).open()
    assert "Question 1 of 3" in chat.question  # a student is not asked who it is for
    assert "Time-out moment" in chat.labels()
    await chat.press("Time-out moment")
    assert chat.labels()[0] == "Monday, March 2"  # today: a time-out needs no notice
    await chat.press("Tuesday, March 3")
    assert chat.labels()[0] == "8:30\u202fAM"  # opening time, in the reader's clock
    await chat.press("8:30\u202fAM", "Skip")  # whose lesson: not said
    assert "Time: 8:30\u202fAM" in chat.question
    turn = await chat.press("Book ✓")

    assert turn.state.status is Status.COMPLETED
    assert chat.texts[-1].startswith("Booked: Time-out moment, Tuesday, March 3, 8:30\u202fAM.")
    [appointment] = await _appointments(session_factory)
    assert appointment.student_id == world.student.id
    assert appointment.kind is AppointmentKind.TIME_OUT
    assert appointment.starts_at == at(TUESDAY, 8, 30)


async def test_a_student_books_the_time_out_that_is_running_now(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    # 10:30: the block 10:10-11:00 is running and half of it is still to come.
    await _give_email(session_factory, world.student)  # a channel: the promise holds
    chat = await Chat(session_factory, world.student, BOOK.id).open()
    await chat.press("Time-out moment", "Monday, March 2")
    assert chat.labels()[:2] == ["10:10\u202fAM", "11:00\u202fAM"]
    await chat.press("10:10\u202fAM", "Skip")
    await chat.press("Book ✓")
    assert chat.texts[-1].startswith("Booked: Time-out moment, Monday, March 2, 10:10\u202fAM.")
    assert "You will get a calendar file." in chat.texts[-1]
    assert "reminder the day before" not in chat.texts[-1]  # it is today
    [appointment] = await _appointments(session_factory)
    assert appointment.starts_at == at(MONDAY, 10, 10)


async def test_no_calendar_file_is_promised_to_someone_no_notice_can_reach(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    # No Telegram chat and no e-mail address: the chat says so instead of promising.
    chat = await Chat(session_factory, world.student, BOOK.id).open()
    await chat.press("Time-out moment", "Monday, March 2")
    await chat.press("10:10\u202fAM", "Skip")
    await chat.press("Book ✓")
    assert chat.texts[-1].startswith("Booked: Time-out moment, Monday, March 2, 10:10\u202fAM.")
    assert "calendar file." not in chat.texts[-1]
    assert "The school cannot send you the calendar file or a reminder" in chat.texts[-1]
    assert chat.texts[-1].endswith(
        "You can download the calendar file under “My appointments”."
    )  # the web chat's list has it (`web.routes.chat_actions.appointment_calendar`)


async def test_an_intake_waiting_for_the_mentor_is_said_without_a_promise(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    async with session_factory() as session:
        view = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=world.parent,
                student_id=world.newcomer.id,
                kind=AppointmentKind.INTAKE,
                starts_at=at(TUESDAY, 13),
                now=NOW,
            ),
        )
    assert isinstance(view, AppointmentView)
    assert not view.mentor_confirmed
    unreachable = [EN.render(line) for line in booked_lines(view, NOW, reachable=False)]
    assert unreachable[1:] == [
        "The mentor is asked to confirm being there; the intake is confirmed as soon as they do.",
        EN.render(Text.of(NO_CHANNEL_LINE)),
        "Once the intake is confirmed, you can download its calendar file under “My appointments”.",
    ]
    reachable = [EN.render(line) for line in booked_lines(view, NOW)]
    assert reachable[1].endswith("You will get the calendar file then.")


async def _give_email(sessions: async_sessionmaker[AsyncSession], person: Person) -> None:
    async with sessions() as session, session.begin():
        stored = await session.get_one(Person, person.id)
        stored.email = f"{person.external_id}@example.org"
    person.email = f"{person.external_id}@example.org"


async def test_a_parent_with_two_children_picks_the_child_first(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    chat = await Chat(session_factory, world.parent, BOOK.id).open()
    assert "Who is the appointment for?" in chat.question
    assert set(chat.labels()[:2]) == {world.newcomer.display_name, world.student.display_name}
    await chat.press(world.newcomer.display_name)
    assert chat.labels()[0] == "Intake meeting"  # the newcomer's trajectory waits for it


async def test_a_parent_of_one_child_is_not_asked_which(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    chat = await Chat(session_factory, world.other_parent, BOOK.id).open()
    assert "Who is the appointment for?" not in chat.question
    # The child has no trajectory: nothing to book, said plainly.
    assert "There is nothing you can book right now." in chat.question


async def test_a_child_nothing_can_be_booked_for_is_not_offered_but_named(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    async with session_factory() as session, session.begin():
        await add_guardian(session, world.parent, world.outsider)  # no trajectory at all
    chat = await Chat(session_factory, world.parent, BOOK.id).open()
    assert "Who is the appointment for?" in chat.question
    names = {world.newcomer.display_name, world.student.display_name}
    assert set(chat.labels()[:2]) == names
    assert world.outsider.display_name not in chat.labels()
    assert f"Nothing can be booked for {world.outsider.display_name} at the moment." in (
        chat.question
    )
    assert chat.turn is not None
    state = chat.turn.state
    forged = Event(Action.CHOOSE, str(world.outsider.id), state.version)
    await chat.send(replace(forged, run=state.run))
    assert "That choice is not available" in chat.texts[0]


async def test_the_one_child_that_can_book_is_chosen_and_the_other_named(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    async with session_factory() as session, session.begin():
        await add_guardian(session, world.other_parent, world.newcomer)
    chat = await Chat(session_factory, world.other_parent, BOOK.id).open()
    assert "Who is the appointment for?" not in chat.question  # only the newcomer can book
    assert chat.labels()[0] == "Intake meeting"
    assert f"Nothing can be booked for {world.outsider.display_name} at the moment." in (
        chat.question
    )


async def test_the_child_not_asked_for_is_named_above_the_kinds_and_on_the_summary(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    """Exploratory test: a parent of two children of whom only one can book was never told
    whom the booking is for."""
    async with session_factory() as session, session.begin():
        await add_guardian(session, world.other_parent, world.newcomer)
    chat = await Chat(session_factory, world.other_parent, BOOK.id).open()
    named = f"For: {world.newcomer.display_name}"
    question = chat.question
    assert named in question
    assert question.index(named) < question.index("What would you like to book?")
    await chat.press("Intake meeting")
    assert named not in chat.question  # the day question: said once is enough
    await chat.press_first_option()
    await chat.press_first_option()
    assert "Please check your appointment:" in chat.question
    assert named in chat.question


async def test_a_student_booking_for_themself_is_not_told_whom_it_is_for(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    chat = await Chat(session_factory, world.student, BOOK.id).open()
    assert "For:" not in chat.question
    await chat.press("Time-out moment", "Tuesday, March 3", "8:30\u202fAM", "Skip")
    assert "Please check your appointment:" in chat.question
    assert "For:" not in chat.question


async def test_a_time_taken_meanwhile_offers_the_nearest_free_times(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    chat = await Chat(session_factory, world.student, BOOK.id).open()
    await chat.press("Time-out moment", "Tuesday, March 3", "8:30\u202fAM", "Skip")
    # The summary stays open longer than the time is kept; someone else is quicker then.
    later = NOW + HOLD_FOR + timedelta(minutes=1)
    await _fill(session_factory, world, at(TUESDAY, 8, 30), now=later)
    chat.now = later

    turn = await chat.press("Book ✓")
    assert turn.state.status is Status.ACTIVE
    assert turn.replies[0].kind is ReplyKind.NOTICE
    assert "just been taken" in chat.texts[0]
    assert turn.state.step == TIME
    offered = turn.state.answers[OFFERED]
    assert isinstance(offered, list)
    assert offered
    assert slot_code(at(TUESDAY, 8, 30)) not in offered
    assert turn.state.answers["kind"] == "time_out"  # the other answers are kept
    assert chat.labels()[0] == "Tuesday, March 3, 9:20\u202fAM"  # nearest first, day and time

    await chat.press("Tuesday, March 3, 9:20\u202fAM")
    assert "Whose lesson are you leaving?" in chat.question  # another time, another lesson
    await chat.press("Skip")
    assert "Time: 9:20\u202fAM" in chat.question
    turn = await chat.press("Book ✓")
    assert turn.state.status is Status.COMPLETED
    mine = [a for a in await _appointments(session_factory) if a.student_id == world.student.id]
    assert [a.starts_at for a in mine] == [at(TUESDAY, 9, 20)]


async def _fill(
    factory: async_sessionmaker[AsyncSession],
    world: World,
    starts_at: datetime,
    *,
    now: datetime = NOW,
    prefix: str = "other",
) -> Person:
    """Take the time-out room's only place at ``starts_at`` with another student (who)."""
    async with factory() as session, session.begin():
        [other] = await add_students_with_trajectories(
            session, world.school, world.mentor, 1, prefix=prefix
        )
    async with factory() as session:
        await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=other,
                student_id=other.id,
                kind=AppointmentKind.TIME_OUT,
                starts_at=starts_at,
                now=now,
            ),
        )
    return other


async def test_a_chosen_time_is_kept_for_a_few_minutes_and_the_booking_ends_the_hold(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    """domain.md: "a slot being booked is held for a few minutes" (`appointments.holds`)."""
    chat = await Chat(session_factory, world.student, BOOK.id).open()
    await chat.press("Time-out moment", "Tuesday, March 3", "8:30\u202fAM")
    # Asked whose lesson it is: the time is kept already, one row for the room's block.
    assert await _holds(session_factory) == [(world.student.id, at(TUESDAY, 8, 30), NOW + HOLD_FOR)]
    await chat.press("Skip")
    assert "This time is kept for you for 5 minutes, until 10:35\u202fAM." in chat.question

    # Meanwhile the room's only place is not offered to another student, nor theirs to book.
    async with session_factory() as session, session.begin():
        [other] = await add_students_with_trajectories(
            session, world.school, world.mentor, 1, prefix="rival"
        )
    rival = await Chat(session_factory, other, BOOK.id, now=NOW + timedelta(minutes=1)).open()
    await rival.press("Time-out moment", "Tuesday, March 3")
    assert "8:30\u202fAM" not in rival.labels()
    assert "9:20\u202fAM" in rival.labels()
    with pytest.raises(SlotTaken):
        await _fill(
            session_factory, world, at(TUESDAY, 8, 30), now=NOW + timedelta(minutes=2), prefix="x"
        )

    chat.now = NOW + timedelta(minutes=3)
    turn = await chat.press("Book ✓")
    assert turn.state.status is Status.COMPLETED
    assert await _holds(session_factory) == []  # booked: nothing kept any more
    mine = [a for a in await _appointments(session_factory) if a.student_id == world.student.id]
    assert [a.starts_at for a in mine] == [at(TUESDAY, 8, 30)]


async def test_a_kept_time_is_free_again_once_the_minutes_are_over(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    chat = await Chat(session_factory, world.student, BOOK.id).open()
    await chat.press("Time-out moment", "Tuesday, March 3", "8:30\u202fAM", "Skip")
    assert await _holds(session_factory) != []
    other = await _fill(
        session_factory, world, at(TUESDAY, 8, 30), now=NOW + HOLD_FOR, prefix="late"
    )
    booked = [a for a in await _appointments(session_factory) if a.student_id == other.id]
    assert [a.starts_at for a in booked] == [at(TUESDAY, 8, 30)]


async def test_choosing_another_time_keeps_that_one_instead(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    chat = await Chat(session_factory, world.student, BOOK.id).open()
    await chat.press("Time-out moment", "Tuesday, March 3", "8:30\u202fAM", "Skip")
    await chat.press("Change an answer", "Time", "9:20\u202fAM")
    assert [start for _, start, _ in await _holds(session_factory)] == [at(TUESDAY, 9, 20)]


async def _holds(
    factory: async_sessionmaker[AsyncSession],
) -> list[tuple[int, datetime, datetime]]:
    async with factory() as session:
        rows = await session.execute(
            select(SlotHold.holder_id, SlotHold.starts_at, SlotHold.expires_at).order_by(
                SlotHold.id
            )
        )
        return [(holder, start, until) for holder, start, until in rows]


async def _booked(
    factory: async_sessionmaker[AsyncSession], world: World, starts_at: datetime
) -> int:
    async with factory() as session:
        view = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=world.student,
                student_id=world.student.id,
                kind=AppointmentKind.TIME_OUT,
                starts_at=starts_at,
                now=NOW,
            ),
        )
    assert isinstance(view, AppointmentView)
    return view.appointment_id


async def test_a_third_time_out_in_a_week_becomes_a_request(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    await _booked(session_factory, world, at(TUESDAY, 8, 30))
    await _booked(session_factory, world, at(TUESDAY, 10, 10))
    chat = await Chat(session_factory, world.student, BOOK.id).open()
    await chat.press("Time-out moment", "Wednesday, March 4")
    await chat.press_first_option()
    await chat.press("Skip")  # whose lesson: not said
    turn = await chat.press("Book ✓")
    assert turn.state.status is Status.COMPLETED
    assert "now a request" in chat.texts[-1]
    assert "care coordinator" in chat.texts[-1]
    async with session_factory() as session:
        kinds = list(await session.scalars(select(QueueItem.kind)))
    assert QueueKind.TIMEOUT_REQUEST in kinds
    assert len(await _appointments(session_factory)) == 2


async def test_moving_keeps_the_kind_and_frees_the_old_time(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    appointment_id = await _booked(session_factory, world, at(TUESDAY, 8, 30))
    chat = await Chat(session_factory, world.student, MOVE.id).open(
        **{APPOINTMENT: str(appointment_id)}
    )
    assert "Now: Time-out moment, Tuesday, March 3, 8:30\u202fAM" in chat.question
    await chat.press("Tuesday, March 3")
    assert "8:30\u202fAM" not in chat.labels()  # where it is now is no option
    await chat.press("9:20\u202fAM")
    turn = await chat.press("Move ✓")
    assert turn.state.status is Status.COMPLETED
    assert chat.texts[-1].startswith("Moved to Time-out moment, Tuesday, March 3, 9:20\u202fAM.")
    [appointment] = await _appointments(session_factory)
    assert appointment.starts_at == at(TUESDAY, 9, 20)
    assert appointment.version == 2


async def test_cancelling_close_to_the_start_warns_first_and_is_flagged(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    appointment_id = await _booked(session_factory, world, at(TUESDAY, 8, 30))
    tomorrow_evening = Chat(
        session_factory, world.student, CANCEL.id, now=at(TUESDAY, 8, 30) - timedelta(hours=12)
    )
    await tomorrow_evening.open(**{APPOINTMENT: str(appointment_id)})
    assert "Time-out moment, Tuesday, March 3, 8:30\u202fAM" in tomorrow_evening.question
    assert "short notice" in tomorrow_evening.question
    assert tomorrow_evening.labels() == ["Yes, cancel it", "Stop"]
    turn = await tomorrow_evening.press("Yes, cancel it")
    assert turn.state.status is Status.COMPLETED
    assert "the coach is told" in tomorrow_evening.texts[-1]
    [appointment] = await _appointments(session_factory)
    assert appointment.status is AppointmentStatus.CANCELLED
    assert appointment.late_cancel


async def test_cancelling_in_time_has_no_warning(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    appointment_id = await _booked(session_factory, world, at(TUESDAY, 8, 30) + timedelta(days=7))
    chat = await Chat(session_factory, world.student, CANCEL.id).open(
        **{APPOINTMENT: str(appointment_id)}
    )
    assert "short notice" not in chat.question
    await chat.press("Yes, cancel it")
    assert chat.texts[-1].startswith("Cancelled: Time-out moment")
    [appointment] = await _appointments(session_factory)
    assert not appointment.late_cancel


async def test_someone_elses_appointment_cannot_be_moved_or_cancelled(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    appointment_id = await _booked(session_factory, world, at(TUESDAY, 8, 30))
    for flow in (MOVE.id, CANCEL.id):
        with pytest.raises(NotAllowed):
            await Chat(session_factory, world.other_parent, flow).open(
                **{APPOINTMENT: str(appointment_id)}
            )
    async with session_factory() as session:
        assert [
            v.appointment_id
            for v in await upcoming_for(session=session, person=world.student, now=NOW)
        ] == [appointment_id]
