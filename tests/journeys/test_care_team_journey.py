"""The lifecycle with consent, the care team and the district coach (issue 15), end to end.

The same school, clock and channels as `test_referral_journey.py` (`tests/support/journey.py`):
the Dutch mentor refers in Telegram and records, in the referral's optional questions, the
consent of the student and of the Arabic parent; the English-speaking care coordinator sees
those consent lines on the web, puts the referral on a care team meeting's agenda and records
the team's advice and decision, which the mentor receives in Telegram (the outbox worker);
then she accepts the referral. Asking the district coach in is refused while the parent has
not consented to it; she records that consent on the web and asks the district coach in. The
district coach (a person of another school of the partnership, with a web login) sees the
case in "My cases", writes in its logbook, is refused anything else, and loses the case at
once when the parent withdraws the consent.

After every step the test asserts what each person received in Telegram since the previous
step, and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from dialogs.flows.verwijzing import VERWIJZING
from services.accounts.staff_accounts import create_staff_account, hash_password
from services.referrals.rules import care_team_outcome
from storage import models
from storage.models import CareTeamDecision
from tests.bot.telegram_fakes import Sent
from tests.journeys.test_referral_journey import (
    ACCEPTED_PLAN,
    MENTOR_MENU,
    REFERRAL_SENT,
    assert_menu,
    expected_after_accept,
)
from tests.support.factories import add_trajectory
from tests.support.journey import (
    STAFF_PASSWORD,
    START,
    Expected,
    Journey,
    School,
    TelegramActor,
    assert_received,
    at,
    build_school,
    say,
)
from tests.support.notices import Notice
from tests.web.staff_client import Browser

MONDAY = date(2026, 3, 2)
MEETING_DAY = date(2026, 3, 4)  # Wednesday: the care team meets
DISTRICT_PASSWORD = "journey-district-coach-password"
QUESTION = "Past de trajectvoorziening, of eerst een observatie in de klas?"
ADVICE = "Start in de trajectvoorziening; de bovenschoolse begeleider kijkt mee."
LOGBOOK = "Observatie in de klas gedaan; rustig begin van de les."
CARE_TEAM_NEWS = Notice(
    "News about a referral you sent: the care team has discussed it.\n{outcome}",
    "Press the button to see which student it is.",
)
STUDENT = "Taras Kovalenko"
PARENT = "Samira Kovalenko-Haddad"
SUPPORT_ROOM = "Support from the support room"
DISTRICT = "The district coach (from the partnership)"
NEW_REFERRAL = Expected.of(
    "en",
    "There is a new referral in your queue. Open this chat to see it.",
    buttons=["Show the referral"],
)


@dataclass(frozen=True)
class DistrictCoach:
    """The partnership's district coach: a person of another school, a staff web login."""

    person_id: int
    school_id: int


@pytest.fixture
async def school(journey: Journey) -> School:
    return await build_school(journey.sessions)


@pytest.fixture
async def district_coach(journey: Journey, school: School) -> DistrictCoach:
    del school  # the journey's school first: its ids stay those of the other journeys
    async with journey.sessions() as session, session.begin():
        bureau = models.School(code="swv-bureau", name="Partnership Office")
        session.add(bureau)
        await session.flush()
        person = models.Person(
            school_id=bureau.id,
            external_id="district",
            given_name="Dirk",
            family_name="Wolters",
            language="en",
            roles=[models.PersonRole(role=models.Role.DISTRICT_COACH)],
        )
        session.add(person)
        await session.flush()
        await create_staff_account(
            session=session,
            person=person,
            username="district",
            password_hash=hash_password(DISTRICT_PASSWORD),
            now=START,
        )
        return DistrictCoach(person.id, bureau.id)


async def test_consent_care_team_and_district_coach(
    journey: Journey, school: School, district_coach: DistrictCoach
) -> None:
    zoco = journey.telegram(5001, "en", school.zoco)
    coach = journey.telegram(5002, "en", school.coach)
    mentor = journey.telegram(5003, "nl", school.mentor)
    student = journey.telegram(5004, "uk", school.student)
    parent = journey.telegram(5005, "ar", school.parent)
    teacher = journey.telegram(5006, "tr", school.teacher)
    everyone = (zoco, coach, mentor, student, parent, teacher)

    # 1. The mentor refers in Telegram and answers the optional questions: the student
    #    consents to the support room and the district coach, the parent to the support room.
    journey.clock.set(at(MONDAY, 8, 45))
    await submit_referral_with_consent(mentor)
    await journey.deliver()
    assert_received(everyone, {zoco: [NEW_REFERRAL]})
    item = await journey.referral_item()
    referral = await referral_id(journey)

    # 2. The care coordinator sees the consent lines on the referral page: the district coach
    #    cannot be asked in yet (no parent consents to it).
    journey.clock.set(at(MONDAY, 10))
    web = await journey.browser("en")
    await web.log_in("zoco", STAFF_PASSWORD)
    await web.get(f"/queue/{item}")
    assert web.page is not None
    assert web.page.status_code == 200
    assert consent_lines(web) == {
        (f"{STUDENT} (student)", SUPPORT_ROOM, True),
        (f"{STUDENT} (student)", DISTRICT, True),
        (f"{PARENT} (parent)", SUPPORT_ROOM, True),
    }
    assert 'data-consent="no"' in web.text
    assert "Hij wil rustiger worden in de les." in web.text
    assert (await web.post(f"/queue/{item}/take")).status_code < 400, web.text

    # 3. The care team: a meeting on Wednesday, the referral on its agenda with the question.
    await web.get("/care-team")
    planned = await web.post("/care-team/meetings", {"held_on": MEETING_DAY.isoformat()})
    assert planned.status_code == 303, web.text
    agenda = planned.headers["location"].split("?")[0]
    await web.get(agenda)
    assert f'<option value="{item}">{STUDENT}' in web.text
    added = await web.post(f"{agenda}/cases", {"queue_item": str(item), "question": QUESTION})
    assert added.status_code == 303, web.text
    assert await journey.queue() == [("referral", "waiting", "care_team", None)]
    await journey.deliver()
    assert_received(everyone, {})

    #    The meeting: the team's advice and decision, recorded on the agenda page.
    journey.clock.set(at(MEETING_DAY, 15))
    await web.log_in("zoco", STAFF_PASSWORD)  # two days later: a new session
    await web.get(agenda)
    main = page_main(web)
    assert STUDENT in main
    assert "Mila Verbeek" in main  # the mentor who referred
    assert QUESTION in main
    case = await care_team_case(journey)
    advised = await web.post(
        f"{agenda}/cases/{case}/advice",
        {"advice": ADVICE, "decision": CareTeamDecision.TRAJECTORY.value},
    )
    assert advised.status_code == 303, web.text
    await web.get(agenda)
    main = page_main(web)
    assert ADVICE in main
    assert 'data-decision="trajectory"' in main
    assert "Accept the referral and plan the intake." in main  # the coordinator's next step
    assert await journey.queue() == [("referral", "in_progress", None, None)]

    #    The mentor receives the outcome in Telegram, in Dutch, without the student's name;
    #    its button shows which student.
    await journey.deliver()
    outcome = care_team_outcome(CareTeamDecision.TRAJECTORY)
    news = Expected.of(
        "nl",
        CARE_TEAM_NEWS,
        outcome=say("nl", outcome.mentor_line),
        buttons=["Show the care team's outcome"],
    )
    assert_received(everyone, {mentor: [news]})
    assert "Taras" not in mentor.last().text
    shown = await mentor.press(mentor.last(), "Show the care team's outcome")
    assert STUDENT in shown.text, shown.text
    mentor.received()

    # 4. The care coordinator accepts the referral, as the care team advised.
    await web.get(f"/queue/{item}")
    assert ADVICE in web.text  # the referral page shows the care team's discussion
    accepted = await web.post(f"/queue/{item}/accept", ACCEPTED_PLAN)
    assert accepted.status_code < 400, web.text
    await journey.deliver()
    assert_received(everyone, expected_after_accept(mentor, parent, student))
    assert await journey.queue() == [("referral", "waiting", "intake", "accepted")]

    # 5. The district coach: asking in is refused without the parent's consent to it.
    trajectory = await journey.trajectory_id()
    case_page = f"/trajectories/{trajectory}"
    await web.get(case_page)
    assert "district-coach-needs-consent" in web.text
    refused = await web.post(
        f"{case_page}/district-coach", {"district_coach": str(district_coach.person_id)}
    )
    assert refused.status_code == 409
    assert "after the student and a parent have given consent" in web.text
    assert await district_requests(journey) == []

    #    The care coordinator records the parent's consent on the referral page; now the
    #    district coach can be asked in.
    await web.get(f"/queue/{item}")
    recorded = await web.post(
        f"/referrals/{referral}/consent",
        {"item": str(item), "giver": str(school.parent), "purpose": "district_coach"},
    )
    assert recorded.status_code == 303, web.text
    await web.get(f"/queue/{item}")
    assert (f"{PARENT} (parent)", DISTRICT, True) in consent_lines(web)
    assert 'data-consent="yes"' in web.text
    await web.get(case_page)
    asked = await web.post(
        f"{case_page}/district-coach", {"district_coach": str(district_coach.person_id)}
    )
    assert asked.status_code == 303, web.text
    assert await district_requests(journey) == [district_coach.person_id]
    await journey.deliver()
    assert_received(everyone, {})

    # 6. The district coach logs in: the case is in "My cases"; the case page, the logbook.
    other = await other_trajectory(journey, school)
    district = await journey.browser("en")
    assert (await district.log_in("district", DISTRICT_PASSWORD)).status_code == 303
    cases = await district.get("/district-cases")
    assert cases.status_code == 200
    assert "My cases" in district.text
    assert f'data-trajectory="{trajectory}"' in district.text
    assert f'data-trajectory="{other}"' not in district.text
    assert STUDENT in district.text
    page = await district.get(case_page)
    assert page.status_code == 200
    assert f"Trajectory of {STUDENT}" in district.text
    assert "Save the plan" not in district.text
    wrote = await district.post(f"{case_page}/logbook", {"text": LOGBOOK})
    assert wrote.status_code == 303, district.text
    await district.get(case_page)
    assert LOGBOOK in district.text
    assert "(District coach)" in district.text
    assert await logbook_authors(journey) == [district_coach.person_id]

    #    Another student's trajectory, the queue, the referral: refused.
    assert (await district.get(f"/trajectories/{other}")).status_code == 404
    assert (await district.get("/queue")).status_code == 403
    assert (await district.get(f"/queue/{item}")).status_code in (403, 404)
    assert (await district.get("/trajectories")).status_code == 403
    assert (await district.get("/care-team")).status_code in (403, 404)
    await journey.deliver()
    #    (The other student's referral, set up in the database, reached the queue.)
    assert_received(everyone, {zoco: [NEW_REFERRAL]})

    # 7. The parent withdraws the consent for the district coach (the care coordinator
    #    records it): the district coach's access ends at once.
    journey.clock.set(at(MEETING_DAY, 16))
    consent = await consent_id(journey, school.parent, models.ConsentPurpose.DISTRICT_COACH)
    await web.get(f"/queue/{item}")
    withdrawn = await web.post(
        f"/referrals/{referral}/consent/{consent}/withdraw", {"item": str(item)}
    )
    assert withdrawn.status_code == 303, web.text
    await web.get(f"/queue/{item}")
    assert (f"{PARENT} (parent)", DISTRICT, False) in consent_lines(web)
    assert 'data-consent="no"' in web.text
    assert (await district.get(case_page)).status_code == 404
    await district.get("/district-cases")
    assert f'data-trajectory="{trajectory}"' not in district.text
    refused_write = await district.post(
        f"{case_page}/logbook", {"text": "Nog een notitie."}, token=False
    )
    assert refused_write.status_code in (403, 404)
    assert await logbook_authors(journey) == [district_coach.person_id]
    await journey.deliver()
    assert_received(everyone, {})


async def submit_referral_with_consent(mentor: TelegramActor) -> None:
    """The verwijzing with the optional questions answered, consent included."""
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
    question = await mentor.press(more, "Yes")  # the optional questions (issue 15)
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
    await mentor.press(consent, DISTRICT)
    question = await mentor.press(consent, "Done ✓")
    question = asked(mentor, question, "Which parent has given consent?")
    question = await mentor.press_data(question, parent_button(question, PARENT))
    purposes = asked(mentor, question, "What has this parent given consent for?")
    await mentor.press(purposes, SUPPORT_ROOM)
    question = await mentor.press(purposes, "Done ✓")
    question = asked(mentor, question, "Shall the student be asked now")
    summary = await mentor.press(question, "No")
    assert STUDENT in summary.text
    assert say("nl", "Consent of the student") in summary.text, summary.text
    assert PARENT in summary.text, summary.text
    done = await mentor.press(summary, "Send ✓")
    assert done.text == say("nl", REFERRAL_SENT)
    assert_menu(done, "nl", MENTOR_MENU)
    mentor.received()


def asked(mentor: TelegramActor, message: Sent, english_start: str) -> Sent:
    """``message`` is the question that starts with ``english_start`` (in the mentor's
    language)."""
    texts = [
        text
        for msgid in _msgids_starting(english_start)
        if (text := say(mentor.language, msgid)) in message.text
    ]
    assert texts, f"expected {english_start!r}, got {message.text!r}"
    return message


def _msgids_starting(start: str) -> list[str]:
    found = [step.prompt for step in VERWIJZING.steps if step.prompt.startswith(start)]
    assert found, start
    return found


def parent_button(message: Sent, name: str) -> str:
    """The callback data of the parent ``name`` among the step's choices."""
    for label, data in message.buttons():
        if label == name:
            return data
    raise AssertionError(f"no parent {name!r} in {message.buttons()}")


def page_main(browser: Browser) -> str:
    text = browser.text
    return re.sub(r"\s+", " ", text[text.index("<main") : text.index("</main>")])


def consent_lines(browser: Browser) -> set[tuple[str, str, bool]]:
    """The referral page's consent lines as (who, purpose, still given)."""
    lines = set()
    for match in re.finditer(
        r'<li data-consent="\d+" data-purpose="[a-z_]+"( class="withdrawn")?>([^<]*)',
        browser.text,
    ):
        line = re.sub(r"\s+", " ", match.group(2)).strip()
        who, _, rest = line.partition(": ")
        purpose = next(p for p in (SUPPORT_ROOM, DISTRICT) if rest.startswith(p))
        lines.add((who, purpose, match.group(1) is None))
    return lines


async def referral_id(journey: Journey) -> int:
    async with journey.sessions() as session:
        found = await session.scalar(select(models.Referral.id))
    assert found is not None
    return int(found)


async def care_team_case(journey: Journey) -> int:
    async with journey.sessions() as session:
        found = await session.scalar(select(models.CareTeamCase.id))
    assert found is not None
    return int(found)


async def district_requests(journey: Journey) -> list[int]:
    """The district coaches asked in now."""
    request = models.DistrictCoachRequest
    async with journey.sessions() as session:
        rows = await session.scalars(
            select(request.district_coach_id).where(request.ended_at.is_(None))
        )
        return list(rows)


async def logbook_authors(journey: Journey) -> list[int]:
    async with journey.sessions() as session:
        rows = await session.scalars(
            select(models.LogbookEntry.author_id).order_by(models.LogbookEntry.id)
        )
        return list(rows)


async def consent_id(journey: Journey, giver: int, purpose: models.ConsentPurpose) -> int:
    consent = models.Consent
    async with journey.sessions() as session:
        found = await session.scalar(
            select(consent.id).where(consent.giver_id == giver, consent.purpose == purpose)
        )
    assert found is not None
    return int(found)


async def other_trajectory(journey: Journey, school: School) -> int:
    """A running trajectory of another student of the school (the district coach is not
    asked in on it)."""
    async with journey.sessions() as session, session.begin():
        mentor = await session.get_one(models.Person, school.mentor)
        other = await session.get_one(models.Person, school.other_student)
        return (await add_trajectory(session, mentor, other)).id
