"""One referral from submission to closed questionnaires (issue 11, item 7).

A Dutch mentor (Telegram), an English-speaking care coordinator (the web app; Telegram for
her notices), a coach (Telegram for attendance, the web for the plan), an Arabic parent (the
web chat to book; Telegram for her notices), a Ukrainian student (Telegram) and a Turkish
teacher whose lesson the student leaves for a time-out (Telegram). One clock
(`tests/support/journey.py`) moves through two weeks of school.

After every step the test asserts what each person received since the previous step (text in
their language from the catalogs, buttons, calendar files) and nothing else, and the queue's
state. Expected messages are listed per step in `expected_*` functions, so a new notice is one
more line there. Every flow in Telegram ends with a message that carries the person's menu
(`assert_menu`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot.telegram.callbacks import FlowCallback
from dialogs.flows.student_voice import STUDENT_VOICE
from dialogs.text import Text
from storage.models import Role
from tests.bot.telegram_fakes import Sent
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
from tests.web.chat_client import ChatUser, Page

MONDAY = date(2026, 3, 2)
INTAKE_DAY = date(2026, 3, 4)  # a Wednesday: the mentor's intake day
EVALUATION_DAY = date(2026, 3, 6)
PLAN_END = date(2026, 5, 29)
#: The plan drafted at acceptance (no coach yet: it is completed at the intake).
ACCEPTED_PLAN = {
    "goals": "Rustig blijven in de les en op tijd om hulp vragen.",
    "start": INTAKE_DAY.isoformat(),
    "end": PLAN_END.isoformat(),
    "evaluation": EVALUATION_DAY.isoformat(),
    "timeouts_in_plan": "on",
    "timeouts_per_week": "1",
}
MENTOR_ACCEPTED = Notice(
    "News about a referral you sent: it has been accepted.\n"
    "The next step is the intake meeting; you will be asked whether you can be there.",
    "Press the button to see which student it is.",
)
STUDENT_ASKED = Notice(
    "Your mentor has asked for extra support for you at school. We would like to hear from "
    "you, in your own words, what you would like help with.",
    "Press the button to answer; it takes a minute.",
)
PARENT_ACCEPTED = Notice(
    "News from the school about your child.\n"
    "Your child has been accepted for extra support at school. The first step is an intake "
    "meeting with you, your child, the mentor and a coach.",
    "Press the button to choose a time.",
)
MENTOR_CONFIRM = (
    "You are asked to be at an intake meeting on {when}. Can you be there? The "
    "intake is only confirmed when you are."
)
MENTOR_CONFIRM_BUTTONS = ("Yes, I will be there", "No, I cannot come", "Which student?")
CLOSING = {
    "final_evaluation": "De doelen zijn gehaald; hij vraagt zelf op tijd om hulp.",
    "advice": "Vaste plek vooraan; afspraken over pauzes vooraf bespreken.",
}
TALK_DAY = date(2026, 3, 10)
TIMEOUT_BECOMES_REQUEST = (
    "This time-out is outside what was agreed in your plan, so it is now a request. The care "
    "coordinator looks at it and lets you know."
)
SURVEY_INVITE = (
    "The school invites you to a short questionnaire: five questions, about 2 "
    "minutes. Your answers help make the support better."
)
CALENDAR = "Your appointment: {when}. Open the calendar file to put it in your calendar."
CANCELLED = (
    "The appointment on {when} is cancelled. Open the calendar file to take it "
    "out of your calendar."
)
REMINDER_DAY = "A reminder: you have an appointment tomorrow, {when}."
REMINDER_HOUR = "A reminder: your appointment starts at {time}."
INTAKE_REPORT = Notice(
    "The intake meeting has been held and the plan for the extra support at school is ready.",
    "Press the button to read the intake report: the goals, the agreements, the dates and who "
    "to contact.",
)
TIMEOUT_REQUESTED = "A time-out request is waiting for your decision. Open this chat to see it."
TIMEOUT_CLOSED = (
    "Your time-out request was not booked: your trajectory has been closed. "
    "If you need support, talk to your mentor."
)
SURVEY_COMPLETED = "An exit questionnaire has been answered. Open this chat to read it."
SURVEY_THANKS = (
    "Thank you! Your answers have been sent. They help the school make the support better."
)
REFERRAL_SENT = (
    "Your referral has been sent. The care coordinator will look at it within two school "
    "days and let you know the next step."
)
#: The menus that end a flow (sent or stopped), by their English labels.
MENTOR_MENU = ("New referral", "My referrals")
STUDENT_MENU = ("Book an appointment", "My appointments", "Logbook", "About the support room")
TEACHER_TOLD = "The teacher gets a message with the times, not the reason."
TIMEOUT_TEACHER = Notice(
    "A student leaves your lesson for a time-out, with permission: {when} until {end}.",
    "Press the button to see who.",
)
TIMEOUT_WHO = "{student} is in the time-out room: {when} until {end}."
TIMEOUT_WHO_CANCELLED = "The time-out of {student} on {when} was cancelled."
WHOSE_LESSON = (
    "Whose lesson are you leaving? That teacher gets a short message with the times, not the "
    "reason. You can also skip this."
)
DUPLICATE_NOTE = "Note: {student} already has a referral from {date} ({stage})."


@pytest.fixture
async def school(journey: Journey) -> School:
    return await build_school(journey.sessions)


async def test_one_referral_from_submission_to_closed_questionnaires(
    journey: Journey, school: School
) -> None:
    zoco = journey.telegram(5001, "en", school.zoco)
    coach = journey.telegram(5002, "en", school.coach)
    mentor = journey.telegram(5003, "nl", school.mentor)
    student = journey.telegram(5004, "uk", school.student)
    parent = journey.telegram(5005, "ar", school.parent)
    teacher = journey.telegram(5006, "tr", school.teacher)
    everyone = (zoco, coach, mentor, student, parent, teacher)

    # 1. The mentor submits the referral in Telegram, in Dutch.
    journey.clock.set(at(MONDAY, 8, 45))
    await submit_referral(mentor)
    await journey.deliver()
    assert_received(
        everyone,
        {
            zoco: [
                Expected.of(
                    "en",
                    "There is a new referral in your queue. Open this chat to see it.",
                    buttons=["Show the referral"],
                )
            ]
        },
    )
    assert await journey.queue() == [("referral", "new", None, None)]

    # 2. The care coordinator takes it in analysis and accepts it for the intake, on the web.
    journey.clock.set(at(MONDAY, 10))
    web = await journey.browser("en")
    await web.log_in("zoco", STAFF_PASSWORD)
    await web.get("/queue")
    assert "Taras Kovalenko" in web.text
    item = await journey.referral_item()
    await web.get(f"/queue/{item}")
    response = await web.post(f"/queue/{item}/take")
    assert response.status_code < 400, web.text
    await web.get(f"/queue/{item}")
    response = await web.post(f"/queue/{item}/accept", ACCEPTED_PLAN)
    assert response.status_code < 400, web.text
    await journey.deliver()
    assert_received(everyone, expected_after_accept(mentor, parent, student))
    assert await journey.queue() == [("referral", "waiting", "intake", "accepted")]

    # 2b. The student gives their own help question, in Ukrainian (issue 15); the referral
    # page shows it beside the mentor's description.
    question = await student.press(student.last(), "Write my help question")
    summary = await student.send("Я хочу краще планувати свою роботу.")
    await student.press(summary, "Send ✓")
    answered = [message.text for message in student.received()]
    assert answered[-1].startswith(say("uk", STUDENT_VOICE.done))
    await web.get(f"/queue/{item}")
    assert "Я хочу краще планувати свою роботу." in web.text
    assert "Hij wil rustiger worden in de les." in web.text
    del question

    # 3. The parent books the intake in the web chat, in Arabic, on the mentor's intake day.
    journey.clock.set(at(MONDAY, 11))
    phone = journey.phone()
    await phone.open_link(await journey.invite(school.parent, Role.PARENT))
    await phone.press(say("ar", "Book an appointment"))
    page = await phone.press(say("ar", "Intake meeting"))
    days = options(page)
    assert days
    assert {date.fromisoformat(day).weekday() for _, day in days} == {2}  # Wednesdays only
    await phone.press(label_of(days, INTAKE_DAY.isoformat()))
    await phone.press(label_of(options(phone.page), INTAKE_DAY.strftime("%Y-%m-%dT1000")))
    page = await phone.press(say("ar", "Book ✓"))
    assert say("ar", "Intake meeting") in page.text  # "Booked: …", the mentor is asked
    await journey.deliver()
    intake = at(INTAKE_DAY, 10)
    assert_received(
        everyone,
        {mentor: [Expected.of("nl", MENTOR_CONFIRM, when=intake, buttons=MENTOR_CONFIRM_BUTTONS)]},
    )
    assert await journey.queue() == [("referral", "waiting", "intake", "accepted")]

    # 4. The mentor says she will be there: the intake is confirmed, everyone who attends gets
    #    the calendar file (the coach in English, the others in their language).
    question = mentor.last()
    await mentor.press(question, "Yes, I will be there")
    assert "Taras Kovalenko" in question.text  # the question, edited: which student, when
    await journey.deliver()
    assert_received(everyone, calendar_files(intake, coach, mentor, student, parent))

    # 5. The intake day: the day-before and the same-day reminders (the worker, on the clock),
    #    then the coach marks the intake as held in Telegram. The referral's item resolves.
    journey.clock.set(at(INTAKE_DAY, 10, 50))
    await journey.deliver()
    assert_received(everyone, reminders(intake, coach, mentor, student, parent))
    await mark_attended(coach, "Intake meeting")
    await journey.deliver()
    assert_received(everyone, expected_after_intake_held())
    assert await journey.stage() == "intake_held"
    assert await journey.queue() == [("referral", "closed", None, "accepted")]

    # 6. The plan completed on the web (the coach assigned): the trajectory is active and the
    #    intake report goes to student, parent and mentor.
    trajectory = await journey.trajectory_id()
    await web.log_in("zoco", STAFF_PASSWORD)  # two days later: her session has expired
    await web.get(f"/trajectories/{trajectory}")
    response = await web.post(
        f"/trajectories/{trajectory}/plan", {**ACCEPTED_PLAN, "coach": str(school.coach)}
    )
    assert response.status_code < 400, web.text
    await journey.deliver()
    assert_received(everyone, expected_after_activation(mentor, student, parent))
    assert await journey.stage() == "active"

    #    The parent reads the report behind the notice's button: in Arabic from the catalog,
    #    with the goals as written and the coach as the fixed contact.
    notice = parent.last()
    assert notice.text == say("ar", INTAKE_REPORT)
    report = await parent.press(notice, "Show the intake report")
    assert [m.text for m in parent.received()] == [report.text]
    for line in intake_report_lines():
        assert catalog("ar").render(line) in report.text, report.text

    #    The mentor starts a second referral for Taras: she is warned (the running one, its
    #    date and stage), stops, and nothing is sent.
    await start_a_duplicate_and_stop(mentor)
    await journey.deliver()
    assert_received(everyone, {})
    assert await journey.referrals() == 1

    # 7. The parent books the evaluation meeting in the web chat.
    await phone.press(say("ar", "Book an appointment"))
    page = await phone.press(say("ar", "Evaluation meeting"))
    await phone.press(label_of(options(page), EVALUATION_DAY.isoformat()))
    await phone.press(label_of(options(phone.page), EVALUATION_DAY.strftime("%Y-%m-%dT1000")))
    await phone.press(say("ar", "Book ✓"))
    evaluation = at(EVALUATION_DAY, 10)
    await journey.deliver()
    assert_received(everyone, calendar_files(evaluation, coach, mentor, student, parent))

    # 8. The evaluation day: reminders; the coach marks it held, which holds the plan's
    #    evaluation of that day.
    journey.clock.set(at(EVALUATION_DAY, 10, 50))
    await journey.deliver()
    assert_received(everyone, reminders(evaluation, coach, mentor, student, parent))
    await mark_attended(coach, "Evaluation meeting")
    await journey.deliver()
    assert_received(everyone, {})
    assert await journey.evaluations() == [
        ("interim", EVALUATION_DAY, EVALUATION_DAY),
        ("final", PLAN_END, None),
    ]

    # 9. The student books a support talk (next Tuesday) and a time-out (this afternoon,
    #    leaving the teacher's lesson: she is told the times), then a second time-out this
    #    week: above the plan's one a week, so it becomes a request (which tells no teacher).
    journey.clock.set(at(EVALUATION_DAY, 11))
    talk, first_timeout = at(TALK_DAY, 8, 30), at(EVALUATION_DAY, 15, 10)
    await book_in_telegram(student, "Support talk", talk)
    booked = await book_in_telegram(student, "Time-out moment", first_timeout, teacher="Elif Aksoy")
    assert say("uk", TEACHER_TOLD) in booked.text
    request = await book_in_telegram(
        student, "Time-out moment", at(EVALUATION_DAY, 14, 20), teacher="Elif Aksoy"
    )
    assert say("uk", TEACHER_TOLD) not in request.text  # a request tells nobody
    assert say("uk", TIMEOUT_BECOMES_REQUEST) in [m.text for m in student.received()]
    await journey.deliver()
    timeout_end = await journey.appointment_end(first_timeout)
    assert_received(
        everyone,
        expected_after_student_bookings(
            zoco=zoco,
            coach=coach,
            student=student,
            teacher=teacher,
            talk=talk,
            timeout=first_timeout,
            timeout_end=timeout_end,
        ),
    )
    assert await journey.queue() == [
        ("referral", "closed", None, "accepted"),
        ("timeout_request", "new", None, None),
    ]
    #    "Who is it?" shows the teacher the student's first name inside the chat.
    notice = teacher.last()
    who = notice.buttons()[0][1]
    shown_who = await teacher.press(notice, "Who is it?")
    assert shown_who is notice  # edited in place, its button gone
    assert notice.text == say(
        "tr", TIMEOUT_WHO, student=Text.raw("Taras"), when=first_timeout, end=wall_time(timeout_end)
    )
    assert notice.markup is None
    assert "Kovalenko" not in notice.text  # the first name only
    assert teacher.received() == []

    # 10. The care coordinator closes the trajectory on the web, with the final evaluation and
    #     the advice: the future appointments are cancelled (people told), the open time-out
    #     request is declined, the questionnaires go out. The teacher gets no second message
    #     (docs/decisions.md, "The teacher of the lesson"); her button says it was cancelled.
    journey.clock.set(at(EVALUATION_DAY, 11, 30))
    await web.log_in("zoco", STAFF_PASSWORD)
    await web.get(f"/trajectories/{trajectory}/close")
    response = await web.post(f"/trajectories/{trajectory}/close", CLOSING)
    assert response.status_code < 400, web.text
    await journey.deliver()
    assert_received(
        everyone,
        expected_after_closing(
            coach=coach,
            mentor=mentor,
            student=student,
            parent=parent,
            talk=talk,
            timeout=first_timeout,
        ),
    )
    assert await journey.stage() == "closed"
    assert await journey.evaluations() == [
        ("interim", EVALUATION_DAY, EVALUATION_DAY),
        ("final", PLAN_END, EVALUATION_DAY),  # held at closing, with its conclusion
    ]
    assert await journey.queue() == [
        ("referral", "closed", None, "accepted"),
        ("timeout_request", "closed", None, "declined"),
    ]
    await teacher.press_data(notice, who)  # the same button, pressed again
    assert notice.text == say(
        "tr", TIMEOUT_WHO_CANCELLED, student=Text.raw("Taras"), when=first_timeout
    )
    assert teacher.received() == []

    # 11. The questionnaires: the student and the mentor in Telegram, the parent in the web
    #     chat. Each answer reaches the care coordinator as a queue item to read.
    await answer_in_telegram(student, STUDENT_MENU)
    await answer_in_telegram(mentor, (*MENTOR_MENU, "Logbook"))
    page = await phone.get("/chat")
    await phone.submit(page.form(say("ar", "Exit questionnaire"), "/chat/start"))
    await answer_in_web_chat(phone, "ar")
    await journey.deliver()
    survey_done = Expected.of("en", SURVEY_COMPLETED, buttons=["Show the answers"])
    assert_received(everyone, {zoco: [survey_done] * 3})
    assert await journey.queue() == [
        ("referral", "closed", None, "accepted"),
        ("timeout_request", "closed", None, "declined"),
        ("exit_survey", "new", None, None),
        ("exit_survey", "new", None, None),
        ("exit_survey", "new", None, None),
    ]
    await web.get("/queue")
    assert (
        web.text.count(f'<td data-label="Kind">{say("en", "exit questionnaire")}</td>') == 3
    )  # open items

    #    The care coordinator reads the student's answers in Telegram: reading is the item's
    #    step, so it resolves itself (system action survey_read); the other two stay open.
    first_notice = journey.api.chat(zoco.chat_id)[-3]
    result = await zoco.press(first_notice, "Show the answers")
    assert [m.text for m in zoco.received()] == [result.text]
    assert "Answered by: Taras Kovalenko (student)" in result.text
    assert "About: Taras Kovalenko (2B)" in result.text
    assert result.text.splitlines()[0].endswith(" · closed")  # read: resolved
    assert await journey.queue() == [
        ("referral", "closed", None, "accepted"),
        ("timeout_request", "closed", None, "declined"),
        ("exit_survey", "closed", None, None),
        ("exit_survey", "new", None, None),
        ("exit_survey", "new", None, None),
    ]
    assert await journey.resolved_by() == ["intake_held", "survey_read"]
    await web.get("/queue")
    assert web.text.count(f'<td data-label="Kind">{say("en", "exit questionnaire")}</td>') == 2

    # 12. Two weeks later nothing more arrives: no reminder of a cancelled appointment, none of
    #     an answered questionnaire.
    journey.clock.advance(timedelta(weeks=2))
    await journey.deliver()
    assert_received(everyone, {})


def wall_time(moment: datetime) -> Text:
    """The time of day of ``moment`` at school, as the messages show it."""
    return Text.raw(moment.astimezone(AMS).time().replace(tzinfo=None))


def intake_report_lines() -> list[Text]:
    """What the intake report says (some of it), rendered in the reader's language."""
    return [
        Text.of(
            "Intake report: the extra support for {student} at {school}",
            student=Text.raw("Taras Kovalenko"),
            school=Text.raw("Journey College"),
        ),
        Text.of("Goals:\n{goals}", goals=Text.raw(ACCEPTED_PLAN["goals"])),
        Text.of("Period: from {start} to {end}.", start=INTAKE_DAY, end=PLAN_END),
        Text.of("Your fixed contact is the coach: {coach}.", coach=Text.raw("Coen Vlasblom")),
    ]


async def start_a_duplicate_and_stop(mentor: TelegramActor) -> None:
    """A second referral for Taras: the warning (date and stage of the running one), then Stop:
    the flow ends with the menu."""
    menu = await mentor.send("/start")
    question = await mentor.press(menu, "New referral")
    warning = await mentor.press(question, "Taras Kovalenko (2B)")
    assert say("nl", "Before you go on:") in warning.text
    note = say(
        "nl",
        DUPLICATE_NOTE,
        student=Text.raw("Taras Kovalenko (2B)"),
        date=MONDAY,
        stage=Text.of("accepted: the support is running"),
    )
    assert note in warning.text, warning.text
    assert say("nl", "Continue with a new referral") in [label for label, _ in warning.buttons()]
    stopped = await mentor.press(warning, "Stop")
    assert stopped.text == say("nl", "Stopped. Nothing has been sent.")
    assert_menu(stopped, "nl", (*MENTOR_MENU, "Logbook"))  # a trajectory of her mentee runs
    mentor.received()  # the conversation itself, read


def assert_menu(message: Sent, language: str, labels: tuple[str, ...]) -> None:
    """``message`` carries the person's menu: these buttons, in their language."""
    assert [label for label, _ in message.buttons()] == [say(language, x) for x in labels]


def options(page: Page | None) -> list[tuple[str, str]]:
    """(label, value) of the current question's choices on a web chat page."""
    assert page is not None
    return [
        (form.button, form.fields["payload"].split(":", 2)[2])
        for form in page.forms
        if form.action == "/chat/press" and form.fields.get("payload", "").startswith("c:")
    ]


def label_of(choices: list[tuple[str, str]], value: str) -> str:
    for label, code in choices:
        if code == value:
            return label
    raise AssertionError(f"no choice {value!r} in {choices}")


def expected_after_accept(
    mentor: TelegramActor, parent: TelegramActor, student: TelegramActor
) -> dict[TelegramActor, list[Expected]]:
    """The mentor hears the decision (no name on the lock screen); the parent is asked to book
    the intake, with the button that opens the booking; the student is asked for their own
    help question (issue 15)."""
    return {
        mentor: [Expected.of("nl", MENTOR_ACCEPTED, buttons=["Show the decision"])],
        parent: [Expected.of("ar", PARENT_ACCEPTED, buttons=["Book an appointment"])],
        student: [Expected.of("uk", STUDENT_ASKED, buttons=["Write my help question"])],
    }


async def submit_referral(mentor: TelegramActor) -> None:
    """The whole verwijzing by buttons and typed text, in the mentor's language."""
    menu = await mentor.send("/start")
    question = await mentor.press(menu, "New referral")
    assert say("nl", "Which student is this referral about?") in question.text
    question = await mentor.press(question, "Taras Kovalenko (2B)")
    for answer in (
        "Hij wil rustiger worden in de les.",
        "Hoe help ik hem bij het plannen van zijn werk?",
        "Een vaste plek vooraan en korte gesprekjes na de les.",
    ):
        question = await mentor.send(answer)
    for _ in range(2):  # what works at home, at school: skipped
        question = await mentor.press(question, "Skip")
    question = await mentor.press(question, "Normal (within two weeks)")
    question = await mentor.press(question, "Yes")
    support = question
    await mentor.press(support, "Support talks (begeleidingsgesprekken)")
    await mentor.press(support, "Time-out moments")
    question = await mentor.press(support, "Done ✓")
    question = await mentor.press_data(question, question.buttons()[0][1])  # from: the first day
    days = question
    await mentor.press(days, "Wednesday")
    more = await mentor.press(days, "Done ✓")
    summary = await mentor.press(more, "No")  # the optional questions (issue 15)
    assert "Taras Kovalenko" in summary.text
    done = await mentor.press(summary, "Send ✓")
    texts = [message.text for message in mentor.received()]
    # The flow's last message carries the menu: no separate "What would you like to do?".
    assert done.text == say("nl", REFERRAL_SENT) == texts[-1]
    assert_menu(done, "nl", MENTOR_MENU)
    assert say("nl", "What would you like to do?") not in texts[-2:]


async def mark_attended(coach: TelegramActor, kind: str) -> None:
    """The coach opens today's appointments and marks the one of ``kind`` attended."""
    menu = await coach.send("/start")
    await coach.press(menu, "Today's appointments")
    cards = [m for m in coach.received() if say(coach.language, kind) in m.text]
    assert len(cards) == 1, [m.text for m in cards]
    await coach.press(cards[0], "Attended")
    assert say(coach.language, "attended ✓") in cards[0].text


async def book_in_telegram(
    student: TelegramActor, kind: str, when: datetime, *, teacher: str | None = None
) -> Sent:
    """Book ``kind`` at ``when`` from the menu, by buttons; for a time-out, name the teacher
    whose lesson the student leaves (``None``: skip). The flow's last message."""
    local = when.astimezone(AMS)
    menu = await student.send("/start")
    question = await student.press(menu, "Book an appointment")
    question = await student.press(question, kind)
    question = await student.press_data(question, choice(question, local.date().isoformat()))
    question = await student.press_data(question, choice(question, local.strftime("%Y-%m-%dT%H%M")))
    if kind == "Time-out moment":
        lines = say(student.language, WHOSE_LESSON)
        assert lines in question.text
        labels = [label for label, _ in question.buttons()]
        assert labels[-2:] == [say(student.language, "Skip"), say(student.language, "Stop")]
        if teacher is None:
            question = await student.press(question, "Skip")
        else:
            # The school's teachers and mentors by family name (no student, coach or parent).
            assert labels[:2] == ["Elif Aksoy", "Mila Verbeek"], labels
            question = await student.press(question, teacher)
    done = await student.press(question, "Book ✓")
    assert_menu(done, student.language, STUDENT_MENU)  # the flow ends with the menu
    return done


def choice(message: Sent, value: str) -> str:
    """The callback data of the flow choice ``value`` on ``message``."""
    for _, data in message.buttons():
        if data.startswith("f:"):
            unpacked = FlowCallback.unpack(data)
            if unpacked.action == "c" and unpacked.value == value:
                return data
    raise AssertionError(f"no choice {value!r} in {message.buttons()}")


async def answer_in_telegram(person: TelegramActor, menu: tuple[str, ...]) -> None:
    """Open the questionnaire from its invitation, agree with every sentence, skip the open
    question, send: the thanks carry the person's ``menu``."""
    invitation = next(
        m
        for m in reversed(person.journey.api.chat(person.chat_id))
        if any(data.startswith("sv:") for _, data in m.buttons())
    )
    question = await person.press(invitation, "Start the questionnaire")
    for _ in range(10):
        flow_buttons = [FlowCallback.unpack(d) for _, d in question.buttons() if d.startswith("f:")]
        actions = {(b.action, b.value) for b in flow_buttons}
        if ("c", "no") in actions:  # answer anonymously? (students and parents)
            question = await person.press(question, "No")
        elif ("c", "4") in actions:
            question = await person.press(question, "4 · Agree")
        elif ("s", "") in actions:
            question = await person.press(question, "Skip")
        else:
            break
    texts = [m.text for m in person.received()]
    thanks = await person.press(question, "Send ✓")
    assert thanks.text == say(person.language, SURVEY_THANKS), texts
    assert_menu(thanks, person.language, menu)  # the flow ends with the menu
    person.received()


async def answer_in_web_chat(phone: ChatUser, language: str) -> None:
    """The same in the web chat."""
    for _ in range(10):
        assert phone.page is not None
        labels = [form.button for form in phone.page.forms]
        if 'data-step="anonymous"' in phone.page.text:
            await phone.choose_anonymity(False)
        elif say(language, "4 · Agree") in labels:
            await phone.press(say(language, "4 · Agree"))
        elif say(language, "Skip") in labels:
            await phone.press(say(language, "Skip"))
        else:
            break
    page = await phone.press(say(language, "Send ✓"))
    assert say(language, SURVEY_THANKS) in page.text


def calendar_files(when: datetime, *people: TelegramActor) -> dict[TelegramActor, list[Expected]]:
    """Each attendee gets the appointment's calendar file, in their language."""
    return {
        person: [Expected.of(person.language, CALENDAR, when=when, document="ics")]
        for person in people
    }


def reminders(when: datetime, *people: TelegramActor) -> dict[TelegramActor, list[Expected]]:
    """The day before and on the day, each attendee in their language."""
    start = Text.raw(when.astimezone(AMS).time())
    return {
        person: [
            Expected.of(person.language, REMINDER_DAY, when=when, buttons=["My appointments"]),
            Expected(
                catalog(person.language).render(Text.of(REMINDER_HOUR, time=start)),
                (say(person.language, "My appointments"),),
            ),
        ]
        for person in people
    }


def expected_after_intake_held() -> dict[TelegramActor, list[Expected]]:
    """Nothing yet: the plan is still to be completed (the coach's menu offers it)."""
    return {}


def expected_after_activation(
    mentor: TelegramActor, student: TelegramActor, parent: TelegramActor
) -> dict[TelegramActor, list[Expected]]:
    """The intake report to student, parent and mentor, each in their language."""
    return {
        person: [Expected.of(person.language, INTAKE_REPORT, buttons=["Show the intake report"])]
        for person in (mentor, student, parent)
    }


def expected_after_student_bookings(
    *,
    zoco: TelegramActor,
    coach: TelegramActor,
    student: TelegramActor,
    teacher: TelegramActor,
    talk: datetime,
    timeout: datetime,
    timeout_end: datetime,
) -> dict[TelegramActor, list[Expected]]:
    """Calendar files for the talk (student, coach) and the time-out (student); the teacher
    of the lesson hears the time-out's times (no name: "Who is it?" shows it in the chat);
    the care coordinator is asked about the second time-out."""
    return {
        teacher: [
            Expected.of(
                "tr",
                TIMEOUT_TEACHER,
                when=timeout,
                end=wall_time(timeout_end),
                buttons=["Who is it?"],
            )
        ],
        zoco: [Expected.of("en", TIMEOUT_REQUESTED, buttons=["Show the request"])],
        coach: [Expected.of("en", CALENDAR, when=talk, document="ics")],
        student: [
            Expected.of("uk", CALENDAR, when=talk, document="ics"),
            Expected.of("uk", CALENDAR, when=timeout, document="ics"),
        ],
    }


def expected_after_closing(
    *,
    coach: TelegramActor,
    mentor: TelegramActor,
    student: TelegramActor,
    parent: TelegramActor,
    talk: datetime,
    timeout: datetime,
) -> dict[TelegramActor, list[Expected]]:
    """Cancellations (calendar files that remove them), the request declined because the
    trajectory closed, and the questionnaire invitations to student, parent and mentor."""

    def invite(language: str) -> Expected:
        return Expected.of(language, SURVEY_INVITE, buttons=["Start the questionnaire"])

    return {
        coach: [Expected.of("en", CANCELLED, when=talk, document="ics")],
        mentor: [invite("nl")],
        student: [
            Expected.of("uk", CANCELLED, when=timeout, document="ics"),
            Expected.of("uk", CANCELLED, when=talk, document="ics"),
            Expected.of("uk", TIMEOUT_CLOSED),
            invite("uk"),
        ],
        parent: [invite("ar")],
    }
