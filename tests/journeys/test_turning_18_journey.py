"""A student turns 18 during his referral and shuts the parent out of what is already planned
(domain.md "Parents and age 18"; docs/decisions.md, "Age 18").

The school, clock and channels of `test_referral_journey.py` (`tests/support/journey.py`). The
Ukrainian student Taras turns 18 on Thursday 5 March 2026 (his date of birth, from the
administration system); his Arabic parent Samira has Telegram.

1. Monday, while he is 17: the mentor refers him, the care coordinator accepts, and the parent
   (not Taras) is asked to book the intake. She books it for Wednesday 11 March from the
   notice's button; the mentor confirms; the calendar file reaches the four who attend.
2. Wednesday's housekeeping asks nobody (he is 17); Thursday's asks Taras, once. Until he
   answers, the parent still finds the intake in "My appointments".
3. He answers "No, not any more". Nobody is told; from then on the parent finds nothing of
   him (no appointments, nobody to book for, no logbook), the care coordinator's trajectory
   page says so, and the intake's reminders on 10 and 11 March reach the coach, the mentor and
   Taras, never the parent.

Every age check reads the journey's clock (the request's or update's "now"), not the machine's:
on the machine's date Taras would be 18 from the first step.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import update

from bot.housekeeping import run_once
from bot.telegram.callbacks import FlowCallback
from dialogs.flows.afspraken import STUDENT_STEP
from dialogs.flows.parents_access import PARENTS_ACCESS
from storage import models
from tests.bot.telegram_fakes import Sent
from tests.journeys.test_adult_student_journey import (
    ASKED_ABOUT_PARENTS,
    NO_MORE,
    PARENT_MENU,
    WITHDRAWN_NOTICE,
)
from tests.journeys.test_care_team_journey import NEW_REFERRAL, STUDENT, page_main
from tests.journeys.test_referral_journey import (
    ACCEPTED_PLAN,
    MENTOR_CONFIRM,
    MENTOR_CONFIRM_BUTTONS,
    assert_menu,
    calendar_files,
    choice,
    expected_after_accept,
    reminders,
    submit_referral,
)
from tests.support.journey import (
    AMS,
    STAFF_PASSWORD,
    Expected,
    Journey,
    School,
    TelegramActor,
    assert_received,
    at,
    build_school,
    say,
)

MONDAY = date(2026, 3, 2)
WEDNESDAY = date(2026, 3, 4)
BIRTHDAY = date(2026, 3, 5)  # a Thursday: Taras turns 18
NEXT_TUESDAY = date(2026, 3, 10)
INTAKE_DAY = date(2026, 3, 11)  # a Wednesday (the mentor's intake day), after the birthday
BIRTH_DATE = date(2008, 3, 5)
ADULT_NOTICE = (
    "The student is 18 or older: their own consent is enough, and they decide whether their "
    "parents see their support."
)
#: The parent's menu while Taras is a minor with a trajectory: his logbook is hers to read.
PARENT_MENU_WITH_LOGBOOK = (
    "Book an appointment",
    "My appointments",
    "Logbook",
    "About the support room",
)


@pytest.fixture
async def school(journey: Journey) -> School:
    built = await build_school(journey.sessions)
    async with journey.sessions() as session, session.begin():
        await session.execute(
            update(models.Person)
            .where(models.Person.id == built.student)
            .values(birth_date=BIRTH_DATE)
        )
    return built


async def test_a_student_turning_18_shuts_the_parent_out_of_the_planned_intake(
    journey: Journey, school: School
) -> None:
    zoco = journey.telegram(5001, "en", school.zoco)
    coach = journey.telegram(5002, "en", school.coach)
    mentor = journey.telegram(5003, "nl", school.mentor)
    student = journey.telegram(5004, "uk", school.student)
    parent = journey.telegram(5005, "ar", school.parent)
    teacher = journey.telegram(5006, "tr", school.teacher)
    everyone = (zoco, coach, mentor, student, parent, teacher)

    # 1. Monday: Taras is 17. The referral, its acceptance: the parent is asked to book.
    journey.clock.set(at(MONDAY, 8, 45))
    await submit_referral(mentor)
    await journey.deliver()
    assert_received(everyone, {zoco: [NEW_REFERRAL]})
    journey.clock.set(at(MONDAY, 10))
    web = await journey.browser("en")
    await web.log_in("zoco", STAFF_PASSWORD)
    item = await journey.referral_item()
    await web.get(f"/queue/{item}")
    assert say("en", ADULT_NOTICE) not in page_main(web)  # 17 on the journey's Monday
    assert (await web.post(f"/queue/{item}/take")).status_code < 400, web.text
    await web.get(f"/queue/{item}")
    assert (await web.post(f"/queue/{item}/accept", ACCEPTED_PLAN)).status_code < 400, web.text
    await journey.deliver()
    assert_received(everyone, expected_after_accept(mentor, parent, student))

    #    The parent books the intake from the notice's button; the mentor confirms.
    journey.clock.set(at(MONDAY, 11))
    intake = at(INTAKE_DAY, 10)
    await parent_books_the_intake(parent, parent.last(), intake)
    await journey.deliver()
    assert_received(
        everyone,
        {mentor: [Expected.of("nl", MENTOR_CONFIRM, when=intake, buttons=MENTOR_CONFIRM_BUTTONS)]},
    )
    await mentor.press(mentor.last(), "Yes, I will be there")
    await journey.deliver()
    assert_received(everyone, calendar_files(intake, coach, mentor, student, parent))

    # 2. Wednesday: still 17, nobody is asked. Thursday, his birthday: Taras is asked, once.
    journey.clock.set(at(WEDNESDAY, 6))
    assert (await run_once(journey.sessions, journey.clock())).adults_asked == 0
    await journey.deliver()
    assert_received(everyone, {})
    journey.clock.set(at(BIRTHDAY, 6))
    assert (await run_once(journey.sessions, journey.clock())).adults_asked == 1
    await journey.deliver()
    assert_received(
        everyone,
        {student: [Expected.of("uk", ASKED_ABOUT_PARENTS, buttons=["Answer the question"])]},
    )
    notice = student.last()

    #    Until he answers, the parent keeps what she had: the intake is in her list.
    journey.clock.set(at(BIRTHDAY, 7))
    menu = await parent.send("/start")
    assert_menu(menu, "ar", PARENT_MENU_WITH_LOGBOOK)
    listed = await parent.press(menu, "My appointments")
    assert say("ar", "Intake meeting") in listed.text
    assert STUDENT in listed.text
    parent.received()

    # 3. He says no. Nobody is told; the parent finds nothing of him any more.
    journey.clock.set(at(BIRTHDAY, 8))
    question = await student.press(notice, "Answer the question")
    assert say("uk", PARENTS_ACCESS.steps[0].prompt) in question.text
    summary = await student.press(question, NO_MORE)
    done = await student.press(summary, "Send ✓")
    assert done.text == say("uk", PARENTS_ACCESS.done)
    student.received()
    assert (await run_once(journey.sessions, journey.clock())).adults_asked == 0
    await journey.deliver()
    assert_received(everyone, {})

    menu = await parent.send("/start")
    assert_menu(menu, "ar", PARENT_MENU)
    listed = await parent.press(menu, "My appointments")
    assert listed.text == say("ar", "You have no upcoming appointments.")
    menu = await parent.send("/start")
    booking = await parent.press(menu, "Book an appointment")
    assert STUDENT_STEP.empty is not None
    assert say("ar", STUDENT_STEP.empty) in booking.text
    parent.received()

    #    The care coordinator's trajectory page says since when.
    trajectory = await journey.trajectory_id()
    await web.log_in("zoco", STAFF_PASSWORD)
    await web.get(f"/trajectories/{trajectory}")
    withdrawn = say("en", WITHDRAWN_NOTICE, date=at(BIRTHDAY, 8))
    assert withdrawn.replace("\u202f", " ") in page_main(web), page_main(web)

    #    The intake's reminders: the coach, the mentor and Taras; not the parent.
    expected = reminders(intake, coach, mentor, student)
    journey.clock.set(at(NEXT_TUESDAY, 18))
    await journey.deliver()
    assert_received(everyone, {person: messages[:1] for person, messages in expected.items()})
    journey.clock.set(at(INTAKE_DAY, 9))
    await journey.deliver()
    assert_received(everyone, {person: messages[1:] for person, messages in expected.items()})
    assert all(STUDENT not in message.text for message in parent.received())


async def parent_books_the_intake(parent: TelegramActor, notice: Sent, when: datetime) -> Sent:
    """From the acceptance notice's button: the intake (the only kind offered), the day, the
    time, booked. The flow's last message."""
    local = when.astimezone(AMS)
    question = await parent.press(notice, "Book an appointment")
    kinds = [
        label
        for label, data in question.buttons()
        if data.startswith("f:") and FlowCallback.unpack(data).action == "c"
    ]
    assert kinds == [say("ar", "Intake meeting")]
    question = await parent.press(question, "Intake meeting")
    question = await parent.press_data(question, choice(question, local.date().isoformat()))
    question = await parent.press_data(question, choice(question, local.strftime("%Y-%m-%dT%H%M")))
    booked = await parent.press(question, "Book ✓")
    parent.received()
    return booked
