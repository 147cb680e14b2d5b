"""A real school goes live (issue 12, "Shown by"): from an empty database, with only the
commands and web pages a school uses, to a parent with only e-mail who books the intake and
answers the exit questionnaire.

1. The school's IT person, on the command line (`trajectbot` in its own process, as on a
   server): `init`, `school create` (the first administrator), a dry run and an import of the
   administration system's OneRoster bundle, an import of a CSV saved by Dutch Excel
   (cp1252, `;`) with the care coordinator, the coach and a second parent, web accounts.
2. The administrator on the web: the intake becomes 45 minutes, Wednesday afternoon closes,
   the coach's hours. The booking flow uses them at once (the booked intake's length, its
   times).
3. The mentor (Telegram, linked by `trajectbot invite`) refers her mentee; the care
   coordinator accepts on the web; the parents, who have no Telegram, are told by e-mail
   (the real SMTP server of `tests.support.smtp_server`), each in their language, with a link
   that logs them in once.
4. The Dutch parent books the intake in the web chat from that link; after the mentor
   confirms she gets the confirmation with the .ics attached; the coach marks the intake held
   (Telegram), the care coordinator completes and later closes the trajectory on the web; the
   questionnaire invitation arrives by e-mail and is answered from its link.
5. The week's attendance export for Magister, read back field by field.

One clock (`tests.support.journey.JourneyClock`) for the product in this process; the CLI
processes run on the real clock, which only stamps what they create (the invitations are
valid for 60 days from the real today, longer than the journey's distance from it).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiolimiter import AsyncLimiter
from icalendar import Calendar
from sqlalchemy import select

from bot.outbox import ChatPacer, OutboxWorker
from bot.outbox.telegram_sender import TelegramSender
from storage import models
from tests.bot.test_cli import trajectbot
from tests.support.journey import (
    AMS,
    Journey,
    JourneyClock,
    TelegramActor,
    at,
    running_journey,
    say,
)
from tests.support.notices import Notice
from tests.support.smtp_server import (
    SmtpTestServer,
    calendar_attachment,
    plain_text,
    sender_for,
    smtp_server_fixture,  # noqa: F401 - the smtp_server fixture
)
from tests.web.chat_client import ChatUser, Page

ROOT = Path(__file__).resolve().parents[2]
ONEROSTER = ROOT / "tests" / "support" / "fixtures" / "oneroster"
#: Monday 11 January 2027, after the Christmas holiday: the journey's first school day.
MONDAY = date(2027, 1, 11)
ADMIN_PASSWORD = "beheer-wachtwoord-lang-genoeg"
STAFF_PASSWORD = "zorg-wachtwoord-lang-genoeg"
KEES = "kees.akkerveld@example.nl"  # the OneRoster parent of Daan: e-mail only, Dutch
RENEE = "renee.akkerveld@example.org"  # the second parent, from the Excel file: Arabic
#: The CSV as Dutch Excel saves it: cp1252, `;`, CRLF; names with ë and é.
EXCEL_ROWS = (
    ("external_id", "roles", "given_name", "family_name", "group", "language", "mentor_of",
     "parent_of", "email"),
    ("zc-01", "care_coordinator", "Mariëlle", "Zorgdrager", "", "en", "", "", ""),
    ("co-01", "coach", "Bram", "Coenraads", "", "en", "", "", ""),
    ("par-3101", "parent", "Renée", "Akkerveld", "", "ar", "", "stu-1001", RENEE),
)  # fmt: skip
MENTOR_ACCEPTED = Notice(
    "News about a referral you sent: it has been accepted.\n"
    "The next step is the intake meeting; you will be asked whether you can be there.",
    "Press the button to see which student it is.",
)
PARENT_ACCEPTED = Notice(
    "News from the school about your child.\n"
    "Your child has been accepted for extra support at school. The first step is an intake "
    "meeting with you, your child, the mentor and a coach.",
    "Press the button to choose a time.",
)
INTAKE_REPORT = Notice(
    "The intake meeting has been held and the plan for the extra support at school is ready.",
    "Press the button to read the intake report: the goals, the agreements, the dates and who "
    "to contact.",
)
SURVEY_INVITE = (
    "The school invites you to a short questionnaire: five questions, about 2 "
    "minutes. Your answers help make the support better."
)
GOALS = "Daan blijft in de les en vraagt op tijd om hulp."
LINK = re.compile(r"http://testserver(/c/[A-Za-z0-9_-]+(?:\?then=[a-z0-9/-]+)?)")


def ok(done: object) -> str:
    """The process's standard output, after checking it succeeded."""
    assert getattr(done, "returncode", None) == 0, (
        getattr(done, "stdout", ""),
        getattr(done, "stderr", ""),
    )
    return str(getattr(done, "stdout", ""))


def excel_file(folder: Path) -> Path:
    """The people file as Dutch Excel writes it."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(EXCEL_ROWS)
    path = folder / "medewerkers en ouders.csv"
    path.write_bytes(buffer.getvalue().encode("cp1252"))
    return path


@pytest.fixture
def school_url(tmp_path: Path) -> str:
    """An empty SQLite database file (no template: the journey starts from nothing)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'school.db'}"


@pytest.fixture
async def journey(
    school_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Journey]:
    """The school set up by the command line, then the product running on it."""
    set_up_by_the_command_line(school_url, tmp_path, monkeypatch)
    clock = JourneyClock(at(MONDAY, 8, 30))
    async with running_journey(school_url, clock, monkeypatch) as running:
        yield running


def set_up_by_the_command_line(url: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Step 1: what the school's IT person types."""
    ok(trajectbot(url, "init"))
    created = ok(
        trajectbot(
            url,
            "school",
            "create",
            "--code",
            "linde",
            "--name",
            "Het Lindecollege",
            "--region",
            "noord",
            "--admin",
            "beheer1",
            "--admin-given-name",
            "Anna",
            "--admin-family-name",
            "Beheerder",
            "--password-stdin",
            lines=[ADMIN_PASSWORD],
        )
    )
    assert "Het Lindecollege" in created
    bundle = ("import", str(ONEROSTER), "--school", "linde", "--org", "VMBO-NOORD")
    dry = ok(trajectbot(url, *bundle, "--dry-run"))
    assert "stu-1001" in dry
    assert "stu-9001" not in dry  # the other school's student of the bundle
    ok(trajectbot(url, *bundle))
    again = ok(trajectbot(url, *bundle, "--dry-run"))
    assert "stu-1001" not in again  # a repeated sync has nothing to add
    ok(trajectbot(url, "import", str(excel_file(folder)), "--school", "linde"))
    for person in ("zc-01", "co-01"):
        ok(
            trajectbot(
                url,
                "staff-account",
                "create",
                "--person",
                person,
                "--school",
                "linde",
                "--password-stdin",
                lines=[STAFF_PASSWORD],
            )
        )
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "lindecollege_bot")


def invite_token(url: str, person: str, role: str) -> str:
    """The start token of the Telegram link `trajectbot invite` prints."""
    printed = ok(
        trajectbot(url, "invite", person, "--school", "linde", "--role", role, "--days", "60")
    )
    found = re.search(r"\?start=([A-Za-z0-9_-]+)", printed)
    assert found is not None, printed
    return found.group(1)


async def person_id(journey: Journey, external_id: str) -> int:
    async with journey.sessions() as session:
        found = await session.scalar(
            select(models.Person.id).where(models.Person.external_id == external_id)
        )
    assert found is not None, external_id
    return int(found)


async def link_telegram(
    journey: Journey, url: str, external_id: str, *, role: str, user_id: int, language: str
) -> TelegramActor:
    """The person opens their invitation in Telegram and picks their language."""
    actor = journey.telegram(user_id, language, await person_id(journey, external_id))
    screen = await actor.send(f"/start {invite_token(url, external_id, role)}")
    await actor.press_data(screen, f"lang:{language}")
    actor.received()
    return actor


async def deliver(journey: Journey, server: SmtpTestServer) -> None:
    """Everything due now, by the product's worker with both channels."""
    worker = OutboxWorker(
        sender=TelegramSender(journey.bot),
        email_sender=sender_for(server),
        sessions=journey.sessions,
        catalogs=journey.app.catalogs,
        clock=journey.clock,
        overall=AsyncLimiter(100_000, 1),
        chats=ChatPacer(0.0),
    )
    while await worker.drain_once():
        pass


class Mailbox:
    """What one address received since the last look."""

    def __init__(self, server: SmtpTestServer, address: str) -> None:
        self.server, self.address, self.seen = server, address, 0

    def new(self) -> list[EmailMessage]:
        messages = self.server.to(self.address)
        fresh, self.seen = messages[self.seen :], len(messages)
        return fresh


def body(message: EmailMessage) -> str:
    """The plain-text part as a person reads it (line ends as typed)."""
    return plain_text(message).replace("\r\n", "\n")


async def open_from(message: EmailMessage, phone: ChatUser) -> Page:
    """Open the e-mail's link in a browser and tap Start, as its reader would."""
    found = LINK.search(plain_text(message))
    assert found is not None, plain_text(message)
    landing = await phone.get(found.group(1))
    assert landing.status == 200, landing.text
    await phone.submit(landing.forms[0])
    assert phone.page is not None
    return phone.page


def options(page: Page) -> list[str]:
    """The button labels of the page's current question (the options come first; the ways
    out, Back and Stop, last)."""
    ways_out = {say("nl", "Back"), say("nl", "Stop")}
    return [
        form.button
        for form in page.forms
        if form.action == "/chat/press" and form.button not in ways_out
    ]


async def test_a_school_from_nothing_to_an_e_mail_parent_who_books_and_answers(
    journey: Journey, school_url: str, smtp_server: SmtpTestServer
) -> None:
    clock = journey.clock
    kees, renee = Mailbox(smtp_server, KEES), Mailbox(smtp_server, RENEE)

    # 2. The administrator sets the school up on the web.
    admin = await journey.browser("en")
    assert (await admin.log_in("beheer1", ADMIN_PASSWORD)).status_code == 303
    await admin.get("/settings/types")
    answer = await admin.post(
        "/settings/types/intake",
        {
            "duration": "45",
            "step": "15",
            "buffer": "15",
            "lead_time": "",
            "bookable_by": ["parent", "care_coordinator"],
            "attendees": ["student", "parent", "mentor", "coach"],
            "active": "1",
        },
    )
    assert answer.status_code == 303, admin.text
    await admin.get("/settings/hours")
    week = {f"open_{day}": "1" for day in range(5)}
    for day in range(5):
        week[f"opens_{day}"], week[f"closes_{day}"] = "08:30", "16:30"
    week["closes_2"] = "12:30"  # Wednesday afternoon closed
    assert (await admin.post("/settings/hours", week)).status_code == 303, admin.text
    coach_id = await person_id(journey, "co-01")
    await admin.get("/settings/coaches")
    spans = {f"day_{day}": "09:00-12:00 13:00-16:00" for day in range(5)}
    answer = await admin.post(f"/settings/coaches/{coach_id}", spans)
    assert answer.status_code == 303, admin.text

    # 3. The mentor and the coach link Telegram; the mentor refers Daan.
    mentor = await link_telegram(
        journey, school_url, "tea-2001", role="mentor", user_id=7001, language="nl"
    )
    coach = await link_telegram(
        journey, school_url, "co-01", role="coach", user_id=7002, language="en"
    )
    clock.set(at(MONDAY, 9))
    await submit_referral(mentor)
    await deliver(journey, smtp_server)

    zoco = await journey.browser("en")
    assert (await zoco.log_in("zc-01", STAFF_PASSWORD)).status_code == 303
    await zoco.get("/queue")
    assert "Mariëlle Zorgdrager" in zoco.text  # her name from the cp1252 file, intact
    item = await journey.referral_item()
    await zoco.get(f"/queue/{item}")
    assert "Daan Akkerveld" in zoco.text
    assert (await zoco.post(f"/queue/{item}/take")).status_code < 400
    await zoco.get(f"/queue/{item}")
    plan_end = MONDAY + timedelta(weeks=10)
    plan = {
        "goals": GOALS,
        "start": MONDAY.isoformat(),
        "end": plan_end.isoformat(),
        "evaluation": (MONDAY + timedelta(weeks=5)).isoformat(),
    }
    accepted = await zoco.post(f"/queue/{item}/accept", {**plan, "coach": str(coach_id)})
    assert accepted.status_code < 400, zoco.text
    await deliver(journey, smtp_server)
    mentor_news = mentor.received()
    assert [m.text for m in mentor_news] == [say("nl", MENTOR_ACCEPTED)]
    (told_kees,) = kees.new()
    (told_renee,) = renee.new()
    # The same text as Telegram's, in each parent's language, with a link to book.
    # By e-mail without Telegram's "press the button": the link line follows instead.
    assert say("nl", PARENT_ACCEPTED.text) in body(told_kees), body(told_kees)
    assert say("nl", PARENT_ACCEPTED.prompt) not in body(told_kees)
    assert say("ar", PARENT_ACCEPTED.text) in body(told_renee)

    # 4. Kees books the intake from his e-mail's link, in Dutch.
    clock.set(at(MONDAY, 10))
    phone = journey.phone()
    page = await open_from(told_kees, phone)
    # The link opens the booking at once, as the Telegram button does.
    assert say("nl", "Intake meeting") in [form.button for form in page.forms]
    page = await phone.press(say("nl", "Intake meeting"))
    days = options(page)
    assert days, page.text
    page = await phone.press(days[0])
    times = options(page)
    assert times, page.text
    await phone.press(times[0])
    page = await phone.press(say("nl", "Book ✓"))
    assert say("nl", "Intake meeting") in page.text
    await deliver(journey, smtp_server)
    question = mentor.last()
    await mentor.press(question, "Yes, I will be there")
    await deliver(journey, smtp_server)
    attachments = [found for m in kees.new() if (found := calendar_attachment(m)) is not None]
    assert len(attachments) == 1, attachments
    ((ics, _part),) = attachments
    calendar = Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    starts, ends = event.decoded("DTSTART"), event.decoded("DTEND")
    assert ends - starts == timedelta(minutes=45)  # the administrator's new length
    local = starts.astimezone(AMS)
    assert not (local.weekday() == 2 and local.hour >= 12)  # not on the closed afternoon
    assert 9 <= local.hour < 16  # within the coach's hours
    assert isinstance(starts, datetime)

    # The intake is held: the coach marks it in Telegram; the care coordinator confirms the
    # plan on the web, the trajectory is active and the intake report reaches Kees by e-mail,
    # with a link that opens it.
    clock.set(starts + timedelta(minutes=50))
    menu = await coach.send("/start")
    await coach.press(menu, "Today's appointments")
    cards = [m for m in coach.received() if say("en", "Intake meeting") in m.text]
    assert len(cards) == 1
    await coach.press(cards[0], "Attended")
    await deliver(journey, smtp_server)
    assert await journey.stage() == "intake_held"
    trajectory = await journey.trajectory_id()
    await zoco.log_in("zc-01", STAFF_PASSWORD)
    await zoco.get(f"/trajectories/{trajectory}")
    planned = await zoco.post(f"/trajectories/{trajectory}/plan", {**plan, "coach": str(coach_id)})
    assert planned.status_code < 400, zoco.text
    await deliver(journey, smtp_server)
    assert await journey.stage() == "active"
    (report_notice,) = kees.new()
    assert say("nl", INTAKE_REPORT.text) in body(report_notice)
    reader = journey.phone()
    report = await open_from(report_notice, reader)
    assert GOALS in report.text
    reports = [m for m in renee.new() if say("ar", INTAKE_REPORT.text) in body(m)]
    assert len(reports) == 1  # the other parent too, in Arabic

    # Weeks later the care coordinator closes the trajectory on the web; the questionnaire
    # invitation reaches Kees by e-mail, and he answers it from its link.
    clock.set(at(plan_end, 11))
    await zoco.log_in("zc-01", STAFF_PASSWORD)
    await zoco.get(f"/trajectories/{trajectory}/close")
    closed = await zoco.post(
        f"/trajectories/{trajectory}/close",
        {"final_evaluation": "De doelen zijn gehaald.", "advice": "Vaste plek vooraan."},
    )
    assert closed.status_code < 400, zoco.text
    await deliver(journey, smtp_server)
    (invitation,) = kees.new()
    assert say("nl", SURVEY_INVITE) in body(invitation)
    assert [say("ar", SURVEY_INVITE) in body(m) for m in renee.new()] == [True]
    survey_phone = journey.phone()
    page = await open_from(invitation, survey_phone)
    await survey_phone.submit(page.form(say("nl", "Exit questionnaire"), "/chat/start"))
    await answer_questionnaire(survey_phone, "nl")
    queue = await journey.queue()
    assert queue[-1] == ("exit_survey", "new", None, None)

    # 5. The week's attendance for Magister, from the command line: the held intake.
    week = local.strftime("%G-W%V")
    exported = ok(
        trajectbot(
            school_url, "export", "magister", "--school", "linde", "--week", week, "--out", "-"
        )
    )
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff")), delimiter=";"))
    end = local + timedelta(minutes=45)
    assert rows == [
        ["Leerlingnummer", "Datum", "Tijd", "Soort", "Aanwezigheid"],
        [
            "stu-1001",
            local.strftime("%d-%m-%Y"),
            f"{local:%H:%M}-{end:%H:%M}",
            "intakegesprek",
            "aanwezig",
        ],
    ]


async def submit_referral(mentor: TelegramActor) -> None:
    """The verwijzing for Daan, by buttons and typed text, in Dutch."""
    menu = await mentor.send("/start")
    question = await mentor.press(menu, "New referral")
    question = await mentor.press(question, "Daan Akkerveld (2B)")
    for answer in (
        "Hij wil rustiger worden in de les.",
        "Hoe help ik hem bij het plannen van zijn werk?",
        "Een vaste plek vooraan en korte gesprekjes na de les.",
    ):
        question = await mentor.send(answer)
    for _ in range(2):
        question = await mentor.press(question, "Skip")
    question = await mentor.press(question, "Normal (within two weeks)")
    question = await mentor.press(question, "Yes")
    support = question
    await mentor.press(support, "Support talks (begeleidingsgesprekken)")
    question = await mentor.press(support, "Done ✓")
    question = await mentor.press_data(question, question.buttons()[0][1])
    days = question
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        await mentor.press(days, day)
    more = await mentor.press(days, "Done ✓")
    summary = await mentor.press(more, "No")  # the optional questions (issue 15)
    assert "Daan Akkerveld" in summary.text
    await mentor.press(summary, "Send ✓")
    mentor.received()


async def answer_questionnaire(phone: ChatUser, language: str) -> None:
    """Agree with every sentence, skip the open question, send."""
    for _ in range(12):
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
    assert (
        say(
            language,
            "Thank you! Your answers have been sent. They help the school make the support better.",
        )
        in page.text
    )
