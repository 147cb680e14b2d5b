"""The intake report in the chat (issue 11, item 4): the lock-screen notice (no name, no goals,
one button), the report the button shows in the reader's language (goals as written, Babel
dates, the coach as the contact), and the whole path through Telegram: the plan completed by
the coach, the outbox sent, an Arabic parent and a Dutch mentor pressing the button."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.outbox.messages import OPEN_INTAKE_REPORT, build_message
from bot.telegram.callbacks import IntakeReportCallback
from bot.telegram.chunks import MESSAGE_LIMIT, utf16_length
from bot.telegram.handlers.intake_report import render_report
from dialogs.flows.afspraken import BOOK as BOOK_APPOINTMENT
from dialogs.i18n import FSI, PDI, Catalogs
from dialogs.text import Text
from services.outbox.kinds import OutboxKind
from services.outbox.store import ClaimedMessage
from services.trajectories.intake_report import (
    EvaluationDate,
    IntakeReport,
    ReaderReport,
    ReaderRole,
)
from services.trajectories.lifecycle import TrajectoryPlan, set_plan
from storage.models import EvaluationKind, Outbox, Role, TrajectoryStatus
from tests.bot.demo_bot import demo_bot, demo_person, send_outbox
from tests.bot.telegram_fakes import Person as User
from tests.bot.test_telegram_flows import Harness
from tests.support.factories import NOW, add_trajectory
from tests.support.notices import Notice, telegram_text
from tests.support.units import unit

CATALOGS = Catalogs()
NL, AR = CATALOGS.get("nl"), CATALOGS.get("ar")
NOTICE = Notice(
    "The intake meeting has been held and the plan for the extra support at school is ready.",
    "Press the button to read the intake report: the goals, the agreements, the dates and who "
    "to contact.",
)
GOALS = "Amira blijft rustig in de les en vraagt hulp als het te veel wordt."
START, INTERIM, END = date(2026, 3, 2), date(2026, 4, 15), date(2026, 6, 26)


def _report(goals: str = GOALS) -> IntakeReport:
    return IntakeReport(
        trajectory_id=41,
        school_name="Demo College",
        student_name="Amira Oosterbeek-Haddou",
        group_name="3A",
        goals=goals,
        start=START,
        end=END,
        evaluations=(
            EvaluationDate(EvaluationKind.INTERIM, INTERIM),
            EvaluationDate(EvaluationKind.FINAL, END),
        ),
        timeouts_in_plan=True,
        timeouts_per_week=2,
        coach_name="Coen de Vries",
        care_coordinator_names=("Zora Bakker",),
        mentor_names=("Ruben Lesterhuis",),
        parent_names=("Samira Oosterbeek-Haddou",),
        intake_held_on=START,
        made_on=START,
    )


@pytest.mark.parametrize("language", ["nl", "ar"])
def test_the_notice_names_nobody_and_opens_the_report(language: str) -> None:
    claimed = ClaimedMessage(
        outbox_id=1,
        kind=OutboxKind.INTAKE_REPORT,
        payload={"trajectory_id": 41},
        recipient_id=5,
        chat_id=500,
        language=language,
        attempt=1,
    )
    message = build_message(claimed, CATALOGS)
    catalog = CATALOGS.get(language)
    assert message.text == telegram_text(catalog, NOTICE)
    assert "Amira" not in message.text
    assert "rustig" not in message.text
    ((button),) = message.buttons
    assert button.payload == OPEN_INTAKE_REPORT.format(trajectory_id=41)
    assert IntakeReportCallback.unpack(button.payload).trajectory == 41


def test_the_report_in_dutch_has_the_goals_dates_and_the_coach() -> None:
    text = render_report(ReaderReport(_report(), ReaderRole.PARENT), NL)
    assert GOALS in text
    for day in (START, INTERIM, END):
        assert NL.render(Text.raw(day)) in text
    assert "2 maart" in text  # Babel's Dutch date
    assert "26 juni" in text
    assert "Coen de Vries" in text
    assert "Zora Bakker" in text
    assert "Amira Oosterbeek-Haddou" in text
    assert NL.render(Text.raw(2)) in text  # the weekly time-out cap


def test_the_report_in_arabic_isolates_names_and_uses_arabic_dates() -> None:
    text = render_report(ReaderReport(_report(), ReaderRole.PARENT), AR)
    assert f"{FSI}{GOALS}{PDI}" in text  # the goals as written, isolated in right-to-left text
    assert f"{FSI}Coen de Vries{PDI}" in text
    end = AR.render(Text.raw(END))
    assert end in text
    assert "يونيو" in end  # June, in Arabic (Babel/CLDR)
    assert "مارس" in text  # March


def test_the_mentor_is_not_offered_the_booking_flow() -> None:
    parent = render_report(ReaderReport(_report(), ReaderRole.PARENT), NL)
    mentor = render_report(ReaderReport(_report(), ReaderRole.MENTOR), NL)
    book = NL.render(Text.of(BOOK_APPOINTMENT.title))
    assert book in parent
    assert book not in mentor
    assert GOALS in mentor


def test_the_longest_report_is_sent_within_telegrams_limit() -> None:
    text = render_report(ReaderReport(_report(goals="ا" * 2000), ReaderRole.STUDENT), AR)
    assert utf16_length(text) <= MESSAGE_LIMIT


# --- through Telegram ------------------------------------------------------------------------


@pytest.fixture
async def tg(engine: AsyncEngine, database_url: str) -> AsyncIterator[Harness]:
    del engine  # migrated by the fixture; the app builds its own engine on the same URL
    async with demo_bot(database_url) as demo:
        yield Harness(demo.app, demo.bot, demo.dispatcher, demo.api)


async def test_in_telegram_an_arabic_parent_and_a_dutch_mentor_read_the_intake_report(
    tg: Harness,
) -> None:
    parent, mentor, other = User(4101, "ar"), User(4102, "nl"), User(4103, "nl")
    await tg.link(parent, "ouder1", Role.PARENT, "ar")
    await tg.link(mentor, "mentor2", Role.MENTOR, "nl")
    await tg.link(other, "ouder2", Role.PARENT, "nl")
    amira, ruben, coach = (
        await demo_person(tg.app, "lln15"),
        await demo_person(tg.app, "mentor2"),
        await demo_person(tg.app, "coach"),
    )
    async with tg.app.sessions() as session, session.begin():
        trajectory = await add_trajectory(
            session, ruben, amira, status=TrajectoryStatus.INTAKE_HELD
        )
        trajectory_id = trajectory.id
    before = {user.id: len(tg.api.chat(user.id)) for user in (parent, mentor, other)}

    # The coach completes the plan after the intake: the trajectory becomes active.
    plan = TrajectoryPlan(
        goals=GOALS, start=START, end=END, evaluations=(INTERIM,), coach_id=coach.id
    )
    await unit(
        tg.app.sessions, set_plan, actor=coach, trajectory_id=trajectory_id, plan=plan, now=NOW
    )
    async with tg.app.sessions() as session:
        recipients = set(
            await session.scalars(
                select(Outbox.recipient_id).where(Outbox.kind == OutboxKind.INTAKE_REPORT)
            )
        )
    assert {amira.id, ruben.id} <= recipients
    await send_outbox(tg.app, tg.bot)

    (notice_ar,) = tg.api.chat(parent.id)[before[parent.id] :]
    (notice_nl,) = tg.api.chat(mentor.id)[before[mentor.id] :]
    assert tg.api.chat(other.id)[before[other.id] :] == []  # not Amira's parent
    assert notice_ar.text == telegram_text(AR, NOTICE)
    assert notice_nl.text == telegram_text(NL, NOTICE)
    for notice in (notice_ar, notice_nl):
        assert "Amira" not in notice.text
        assert GOALS not in notice.text

    # The Arabic parent presses the button: the report, in Arabic, inside the chat.
    await tg.feed(parent.press(notice_ar, notice_ar.buttons()[0][1]))
    shown_ar = tg.api.last(parent.id).text
    assert GOALS in shown_ar
    assert AR.render(Text.raw(END)) in shown_ar
    assert coach.display_name in shown_ar
    # The Dutch mentor too, with Dutch dates.
    await tg.feed(mentor.press(notice_nl, notice_nl.buttons()[0][1]))
    shown_nl = tg.api.last(mentor.id).text
    assert GOALS in shown_nl
    assert NL.render(Text.raw(END)) in shown_nl
    assert "26 juni" in shown_nl
    # Another child's parent with the same button: refused, nothing shown.
    await tg.feed(other.press(notice_nl, notice_nl.buttons()[0][1]))
    refused = tg.api.last(other.id).text
    assert GOALS not in refused
    assert "Amira" not in refused
