"""The student's own help question in Telegram (issue 15): the notice's button opens the
question in the student's language; each press is checked against the presser (another
student is refused); the answer is kept beside the mentor's description, once."""

from __future__ import annotations

from sqlalchemy import select

from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.referrals.submission import submit_referral
from storage.models import Referral, Role
from tests.bot.telegram_fakes import Person
from tests.bot.test_telegram_flows import Harness
from tests.bot.test_telegram_flows import flood_limit as _flood_limit
from tests.bot.test_telegram_flows import tg as _tg
from tests.support.factories import NOW, draft

tg = _tg
flood_limit = _flood_limit


async def _referral_asking_lieke(tg: Harness) -> int:
    async with tg.app.sessions() as session, session.begin():
        school = await find_school(session=session, code="demo")
        mentor = await get_person_by_external_id(
            session=session, school_id=school.id, external_id="mentor2"
        )
        lieke = await get_person_by_external_id(
            session=session, school_id=school.id, external_id="lln14"
        )
        assert mentor is not None
        assert lieke is not None
        referral = await submit_referral(
            session=session,
            mentor=mentor,
            draft=draft(lieke.id, ask_student_now=True),
            now=NOW,
        )
        return referral.id


async def test_the_student_answers_in_their_language_and_others_are_refused(
    tg: Harness,
) -> None:
    lieke, other = Person(2001, "uk"), Person(2002, "en")
    await tg.link(lieke, "lln14", Role.STUDENT, "uk")
    await tg.link(other, "lln13", Role.STUDENT, "en")
    referral_id = await _referral_asking_lieke(tg)
    button = f"hv:open:{referral_id}"

    # Another student pressing the same payload: refused, nothing asked.
    await tg.feed(other.press(tg.api.last(other.id), button))
    assert tg.api.last(other.id).text == "This question is not available to you."

    await tg.feed(lieke.press(tg.api.last(lieke.id), button))
    question = tg.api.last(lieke.id)
    assert "Своїми словами" in question.text  # Ukrainian
    await tg.feed(lieke.text("Я хочу краще планувати домашні завдання."))
    summary = tg.api.last(lieke.id)
    await tg.feed(lieke.press(summary, summary.data_for("Надіслати ✓")))
    assert "Дякуємо" in tg.api.last(lieke.id).text

    async with tg.app.sessions() as session:
        stored = await session.scalar(select(Referral).where(Referral.id == referral_id))
        assert stored is not None
        assert stored.student_voice == "Я хочу краще планувати домашні завдання."
        assert stored.student_voice_language == "uk"
        assert stored.help_question_student == "Ik wil rustiger worden in de klas."

    # A second press: already answered, said so.
    await tg.feed(lieke.press(tg.api.last(lieke.id), button))
    assert "Ти вже дав" in tg.api.last(lieke.id).text
