"""An adult student shuts their parent out, then is referred, accepted and books the intake
themself (domain.md and docs/decisions.md, "Age 18: the adult student decides about their
parents").

The school, clock and channels of `test_referral_journey.py` (`tests/support/journey.py`), with
one change: the Ukrainian student Taras turns 18 on the journey's first day (his date of birth,
from the administration system). His Arabic parent Samira is linked to him and has Telegram.

1. The daily housekeeping asks Taras, once, whether his parents still see his support; the
   parent hears nothing. His menu starts with the question (and says why).
2. He answers "No, not any more" from the notice's button and confirms; the thank-you carries
   his menu, which no longer starts with the question.
3. The Dutch mentor refers him in Telegram (she had opened a referral that morning before he
   answered, so her process cache held his parent): the consent questions offer no parent,
   only his own consent.
4. The care coordinator reads on the referral page that he withdrew his parents' access (the
   consent form offers no parent either) and accepts: Taras is asked to book the intake
   himself, the mentor hears the decision, the parent gets nothing.
5. Taras books the intake from that notice's button; the mentor confirms; calendar files and
   the reminders reach Taras, the mentor and the coach, never the parent. The next days'
   housekeeping does not ask him again.
6. The parent opens her menu: no logbook, no appointments, nobody to book for; Taras' own
   "My appointments" lists the intake.

After every step the test asserts what each person received in Telegram since the previous
step, and nothing else; the parent's chat stays empty until she writes herself.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import update

from bot.housekeeping import run_once
from bot.telegram.callbacks import FlowCallback
from dialogs.flows.afspraken import STUDENT_STEP, appointment_text
from dialogs.flows.parents_access import MENU_NOTE, PARENTS_ACCESS
from dialogs.flows.verwijzing import VERWIJZING
from dialogs.text import Text
from storage import models
from tests.bot.telegram_fakes import Sent
from tests.journeys.test_care_team_journey import (
    NEW_REFERRAL,
    PARENT,
    STUDENT,
    SUPPORT_ROOM,
    asked,
    page_main,
)
from tests.journeys.test_referral_journey import (
    ACCEPTED_PLAN,
    MENTOR_ACCEPTED,
    MENTOR_CONFIRM,
    MENTOR_CONFIRM_BUTTONS,
    MENTOR_MENU,
    REFERRAL_SENT,
    STUDENT_ASKED,
    assert_menu,
    calendar_files,
    choice,
    reminders,
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
    catalog,
    say,
)
from tests.support.notices import Notice

MONDAY = date(2026, 3, 2)
TUESDAY = date(2026, 3, 3)
INTAKE_DAY = date(2026, 3, 4)  # a Wednesday: the mentor's intake day
#: 18 on the journey's first day (the school's date): "18 today" counts.
BIRTH_DATE = date(2008, 3, 2)

ASKED_ABOUT_PARENTS = Notice(
    "You are 18 or older now, so you decide whether your parents or carers still see your "
    "support at school: your appointments, reports and the messages about them.",
    "Press the button to answer; it takes a minute.",
)
ADULT_ACCEPTED = Notice(
    "News from the school.\n"
    "You have been accepted for extra support at school. The first step is an intake meeting "
    "with you, your mentor and a coach; you can choose its time yourself.",
    "Press the button to choose a time.",
)
WITHDRAWN_NOTICE = (
    "The student is 18 or older and chose on {date} that their parents no longer see their "
    "support: do not share details with the parents."
)
MENU = "What would you like to do?"
TITLE = PARENTS_ACCESS.title
NO_MORE = "No, not any more"
#: Taras' menu while he has not answered: the question first.
ASKING_MENU = (TITLE, "Book an appointment", "My appointments", "About the support room")
#: ... and once he has: still there to change, further down.
ANSWERED_MENU = ("Book an appointment", TITLE, "My appointments", "About the support room")
#: ... with the logbook once the trajectory exists.
BOOKED_MENU = (
    "Book an appointment",
    TITLE,
    "My appointments",
    "Logbook",
    "About the support room",
)
#: Samira's menu: nothing of Taras (no logbook).
PARENT_MENU = ("Book an appointment", "My appointments", "About the support room")
PARENT_CONSENT_PROMPT = "Which parent has given consent?"


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


async def test_an_adult_student_shuts_the_parent_out_and_books_the_intake_themself(
    journey: Journey, school: School
) -> None:
    zoco = journey.telegram(5001, "en", school.zoco)
    coach = journey.telegram(5002, "en", school.coach)
    mentor = journey.telegram(5003, "nl", school.mentor)
    student = journey.telegram(5004, "uk", school.student)
    parent = journey.telegram(5005, "ar", school.parent)
    teacher = journey.telegram(5006, "tr", school.teacher)
    everyone = (zoco, coach, mentor, student, parent, teacher)

    # 1. Monday morning: the daily housekeeping asks Taras, who turns 18 today, once; the
    #    parent hears nothing. Meanwhile the mentor opens a new referral and stops (her
    #    process cache now holds Taras' parent as one who may consent).
    journey.clock.set(at(MONDAY, 8, 30))
    housekeeping = await run_once(journey.sessions, journey.clock())
    assert housekeeping.adults_asked == 1
    await journey.deliver()
    assert_received(
        everyone,
        {student: [Expected.of("uk", ASKED_ABOUT_PARENTS, buttons=["Answer the question"])]},
    )
    notice = student.last()
    await open_and_stop_a_referral(mentor)

    menu = await student.send("/start")
    assert menu.text == f"{say('uk', MENU_NOTE)}\n\n{say('uk', MENU)}"
    assert_menu(menu, "uk", ASKING_MENU)
    student.received()

    # 2. He presses the notice's button: the question; "No, not any more", confirmed. The
    #    thank-you carries his menu, no longer starting with the question.
    journey.clock.set(at(MONDAY, 8, 35))
    question = await student.press(notice, "Answer the question")
    assert say("uk", PARENTS_ACCESS.steps[0].prompt) in question.text
    assert [label for label, _ in question.buttons()][:2] == [
        say("uk", "Yes, they may keep seeing it"),
        say("uk", NO_MORE),
    ]
    summary = await student.press(question, NO_MORE)
    assert say("uk", "Please check your answer before saving it:") in summary.text
    assert say("uk", NO_MORE) in summary.text
    done = await student.press(summary, "Send ✓")
    assert done.text == say("uk", PARENTS_ACCESS.done)
    assert_menu(done, "uk", ANSWERED_MENU)
    menu = await student.send("/start")
    assert menu.text == say("uk", MENU)  # no note: answered
    assert_menu(menu, "uk", ANSWERED_MENU)
    student.received()  # the conversation itself, read
    await journey.deliver()
    assert_received(everyone, {})  # the parent is not told

    # 3. The mentor refers Taras: his own consent is asked, no parent's.
    journey.clock.set(at(MONDAY, 8, 45))
    conversation = await submit_referral_of_an_adult(mentor)
    assert all(say("nl", PARENT_CONSENT_PROMPT) not in text for text in conversation)
    assert all(PARENT not in text for text in conversation)
    await journey.deliver()
    assert_received(everyone, {zoco: [NEW_REFERRAL]})

    # 4. The care coordinator reads the withdrawal on the referral page (no parent to record a
    #    consent of), takes the referral in analysis and accepts it. Taras is asked for his
    #    own words and to book the intake himself; the mentor hears the decision.
    journey.clock.set(at(MONDAY, 10))
    web = await journey.browser("en")
    await web.log_in("zoco", STAFF_PASSWORD)
    item = await journey.referral_item()
    await web.get(f"/queue/{item}")
    main = page_main(web)
    withdrawn = say("en", WITHDRAWN_NOTICE, date=at(MONDAY, 8, 35))
    assert withdrawn.replace("\u202f", " ") in main, main
    giver = main[main.index('<select id="consent-giver"') : main.index("</select>")]
    assert f"{STUDENT} (student)" in giver
    assert PARENT not in giver
    assert (await web.post(f"/queue/{item}/take")).status_code < 400, web.text
    await web.get(f"/queue/{item}")
    accepted = await web.post(f"/queue/{item}/accept", ACCEPTED_PLAN)
    assert accepted.status_code < 400, web.text
    await journey.deliver()
    assert_received(
        everyone,
        {
            mentor: [Expected.of("nl", MENTOR_ACCEPTED, buttons=["Show the decision"])],
            student: [
                Expected.of("uk", STUDENT_ASKED, buttons=["Write my help question"]),
                Expected.of("uk", ADULT_ACCEPTED, buttons=["Book an appointment"]),
            ],
        },
    )
    assert await journey.queue() == [("referral", "waiting", "intake", "accepted")]

    # 5. Taras books the intake from that notice's button (Wednesdays only: the mentor's
    #    intake day); the mentor is asked and says yes: the calendar file goes to Taras, the
    #    mentor and the coach. The reminders reach the same three.
    journey.clock.set(at(MONDAY, 11))
    intake = at(INTAKE_DAY, 10)
    booked = await book_the_intake(student, student.last(), intake)
    assert booked.text.startswith(
        catalog("uk").render(
            Text.of("Booked: {appointment}.", appointment=appointment_text("intake", intake))
        )
    )
    assert_menu(booked, "uk", BOOKED_MENU)  # his logbook now: the trajectory exists
    student.received()
    await journey.deliver()
    assert_received(
        everyone,
        {mentor: [Expected.of("nl", MENTOR_CONFIRM, when=intake, buttons=MENTOR_CONFIRM_BUTTONS)]},
    )
    question = mentor.last()
    await mentor.press(question, "Yes, I will be there")
    assert STUDENT in question.text  # the question, edited: which student, when
    await journey.deliver()
    assert_received(everyone, calendar_files(intake, coach, mentor, student))

    #    Tuesday: the housekeeping does not ask him again (answered); at 18:00 the day
    #    before, then an hour before, the reminders.
    expected = reminders(intake, coach, mentor, student)
    journey.clock.set(at(TUESDAY, 6))
    again = await run_once(journey.sessions, journey.clock())
    assert again.adults_asked == 0
    journey.clock.set(at(TUESDAY, 18))
    await journey.deliver()
    assert_received(everyone, {person: messages[:1] for person, messages in expected.items()})
    journey.clock.set(at(INTAKE_DAY, 9))
    await journey.deliver()
    assert_received(everyone, {person: messages[1:] for person, messages in expected.items()})

    # 6. Until now the parent received nothing at all. She opens her menu: no logbook; no
    #    appointments; nobody to book for. Taras' own list has the intake.
    assert journey.api.chat(parent.chat_id) == []
    menu = await parent.send("/start")
    assert_menu(menu, "ar", PARENT_MENU)
    listed = await parent.press(menu, "My appointments")
    assert listed.text == say("ar", "You have no upcoming appointments.")
    menu = await parent.send("/start")
    booking = await parent.press(menu, "Book an appointment")
    assert STUDENT_STEP.empty is not None
    assert say("ar", STUDENT_STEP.empty) in booking.text
    assert all("Taras" not in message.text for message in journey.api.chat(parent.chat_id))
    parent.received()

    menu = await student.send("/start")
    listed = await student.press(menu, "My appointments")
    assert listed.text.startswith(say("uk", "Intake meeting")), listed.text
    student.received()
    await journey.deliver()
    assert_received(everyone, {})


async def open_and_stop_a_referral(mentor: TelegramActor) -> None:
    """The mentor opens "New referral" (the flow reads her mentees and their parents) and
    stops before picking anyone."""
    menu = await mentor.send("/start")
    question = await mentor.press(menu, "New referral")
    assert f"{STUDENT} (2B)" in [label for label, _ in question.buttons()]
    stopped = await mentor.press(question, "Stop")
    assert stopped.text == say("nl", "Stopped. Nothing has been sent.")
    mentor.received()


async def submit_referral_of_an_adult(mentor: TelegramActor) -> list[str]:
    """The verwijzing with the optional questions: the student's consent is asked, then at
    once whether to ask the student now (no parent to pick). The conversation's texts."""
    menu = await mentor.send("/start")
    question = await mentor.press(menu, "New referral")
    question = await mentor.press(question, f"{STUDENT} (2B)")
    for answer in (
        "Hij wil rustiger worden in de les.",
        "Hoe help ik hem bij het plannen van zijn werk?",
        "Een vaste plek vooraan en korte gesprekjes na de les.",
    ):
        question = await mentor.send(answer)
    for _ in range(2):  # what works at home, at school: skipped
        question = await mentor.press(question, "Skip")
    question = await mentor.press(question, "Normal (within two weeks)")
    question = await mentor.press(question, "Yes")  # the parents have been told
    support = question
    await mentor.press(support, "Support talks (begeleidingsgesprekken)")
    question = await mentor.press(support, "Done ✓")
    question = await mentor.press_data(question, question.buttons()[0][1])  # from: the first day
    days = question
    await mentor.press(days, "Wednesday")
    more = await mentor.press(days, "Done ✓")
    more = asked(mentor, more, "A few more questions are optional")
    question = await mentor.press(more, "Yes")
    question = asked(mentor, question, "Is external care or treatment already involved")
    question = await mentor.press(question, "No, none")
    question = asked(mentor, question, "Does the student have a development perspective")
    question = await mentor.press(question, "No")
    question = asked(mentor, question, "How much has the student been absent recently?")
    question = await mentor.press(question, "None worth mentioning")
    question = asked(mentor, question, "In which language do the parents prefer to talk?")
    question = await mentor.press(question, "Skip")
    question = asked(mentor, question, "Do the parents need an interpreter?")
    question = await mentor.press(question, "No")
    consent = asked(mentor, question, "What has the student given consent for?")
    await mentor.press(consent, SUPPORT_ROOM)
    question = await mentor.press(consent, "Done ✓")
    # No "Which parent has given consent?": the student decides alone.
    question = asked(mentor, question, "Shall the student be asked now")
    assert not any(PARENT in label for label, _ in question.buttons())
    summary = await mentor.press(question, "No")
    assert STUDENT in summary.text
    assert f"{say('nl', 'Consent of the student')}: {say('nl', SUPPORT_ROOM)}" in summary.text
    assert say("nl", parent_consent_label()) not in summary.text
    assert PARENT not in summary.text
    done = await mentor.press(summary, "Send ✓")
    assert done.text == say("nl", REFERRAL_SENT)
    assert_menu(done, "nl", MENTOR_MENU)
    return [message.text for message in mentor.received()]


def parent_consent_label() -> str:
    """The summary's label of the parent who consented."""
    return next(step.label for step in VERWIJZING.steps if step.key == "consent_parent")


async def book_the_intake(student: TelegramActor, notice: Sent, when: datetime) -> Sent:
    """From the acceptance notice's button: the intake (the only kind offered), the day, the
    time, booked. The flow's last message (it carries the menu)."""
    local = when.astimezone(AMS)
    question = await student.press(notice, "Book an appointment")
    kinds = [
        label
        for label, data in question.buttons()
        if data.startswith("f:") and FlowCallback.unpack(data).action == "c"
    ]
    assert kinds == [say("uk", "Intake meeting")]  # what a parent books, for himself
    question = await student.press(question, "Intake meeting")
    question = await student.press_data(question, choice(question, local.date().isoformat()))
    question = await student.press_data(question, choice(question, local.strftime("%Y-%m-%dT%H%M")))
    return await student.press(question, "Book ✓")
