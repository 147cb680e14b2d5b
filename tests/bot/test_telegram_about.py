"""'About the support room' in Telegram (feed_update; issue 15.7): a student and a parent read
it from the menu in their language; an administrator's own text is shown instead, a long one
in parts within Telegram's limit; staff have no such entry and a forged press is refused."""

from __future__ import annotations

from bot.telegram.callbacks import MenuCallback
from bot.telegram.chunks import MESSAGE_LIMIT, utf16_length
from dialogs.i18n import Catalogs
from dialogs.text import Text
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.settings.about import TITLE, default_about, set_about_text
from storage.models import Person, Role
from tests.bot.telegram_fakes import Person as User
from tests.bot.test_telegram_flows import Harness
from tests.bot.test_telegram_flows import flood_limit as _flood_limit
from tests.bot.test_telegram_flows import tg as _tg
from tests.support.factories import NOW

tg = _tg
flood_limit = _flood_limit
CATALOGS = Catalogs()


def rendered(language: str, text: Text) -> str:
    return CATALOGS.get(language).render(text)


async def _demo(tg: Harness, external_id: str) -> Person:
    async with tg.app.sessions() as session:
        school = await find_school(session=session, code="demo")
        person = await get_person_by_external_id(
            session=session, school_id=school.id, external_id=external_id
        )
        assert person is not None
        return person


async def test_a_student_and_a_parent_read_it_in_their_language(tg: Harness) -> None:
    for user_id, external_id, role, language in (
        (3301, "lln02", Role.STUDENT, "tr"),
        (3302, "ouder2", Role.PARENT, "uk"),
        (3303, "ouder1", Role.PARENT, "ar"),
    ):
        user = User(user_id, language)
        await tg.link(user, external_id, role, language)
        menu = tg.api.last(user_id)
        title = rendered(language, Text.of(TITLE))
        assert title != "About the support room"  # translated
        await tg.feed(user.press(menu, menu.data_for(title)))
        text = tg.api.last(user_id).text
        assert text.startswith(title)
        for paragraph in default_about(months=24):
            assert rendered(language, paragraph) in text


async def test_the_administrators_long_text_is_sent_in_parts(tg: Harness) -> None:
    admin = await _demo(tg, "admin")
    paragraph = "Onze trajectvoorziening is er voor jou. " * 25  # ≈1,000 characters
    own = "\n\n".join([paragraph.strip()] * 5)
    async with tg.app.sessions() as session, session.begin():
        await set_about_text(session=session, actor=admin, language="nl", text=own, now=NOW)
    student = User(3311, "nl")
    await tg.link(student, "lln02", Role.STUDENT, "nl")
    menu = tg.api.last(3311)
    before = len(tg.api.chat(3311))
    await tg.feed(student.press(menu, menu.data_for("Over de trajectvoorziening")))
    parts = tg.api.chat(3311)[before:]
    assert len(parts) == 2
    assert all(utf16_length(part.text) <= MESSAGE_LIMIT for part in parts)
    joined = "\n\n".join(part.text for part in parts)
    assert joined.count("Onze trajectvoorziening is er voor jou.") == 125
    assert rendered("nl", default_about(months=24)[0]) not in joined
    # Another language still gets the default.
    parent = User(3312, "pl")
    await tg.link(parent, "ouder4", Role.PARENT, "pl")
    menu = tg.api.last(3312)
    await tg.feed(parent.press(menu, menu.data_for(rendered("pl", Text.of(TITLE)))))
    assert rendered("pl", default_about(months=24)[0]) in tg.api.last(3312).text


async def test_staff_have_no_entry_and_a_forged_press_is_refused(tg: Harness) -> None:
    coach = User(3321, "en")
    await tg.link(coach, "coach", Role.COACH, "en")
    menu = tg.api.last(3321)
    assert "About the support room" not in [label for label, _ in menu.buttons()]
    await tg.feed(coach.press(menu, MenuCallback(action="about", value="").pack()))
    assert tg.api.last(3321).text == "This is not available for your role."
