"""'About the support room' (issue 15.7): the default text is complete in every language and
names the school's retention period; only an administrator of the school sets a text, within
the limit and cleaned; students and parents read it, nobody else."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.i18n import Catalogs
from dialogs.text import Text
from services.kernel.errors import InputInvalid, NotAllowed
from services.kernel.languages import SUPPORTED_LANGUAGES
from services.settings.about import (
    ABOUT_MAX,
    TITLE,
    about_for,
    about_texts_for_admin,
    default_about,
    set_about_text,
)
from storage.models import Role
from tests.support.factories import NOW, add_person, add_school

CATALOGS = Catalogs()


@pytest.mark.parametrize("language", [code for code in SUPPORTED_LANGUAGES if code != "en"])
def test_the_default_is_translated_in_every_language(language: str) -> None:
    catalog, english = CATALOGS.get(language), CATALOGS.get("en")
    assert catalog.render(Text.of(TITLE)) != english.render(Text.of(TITLE))
    for paragraph in default_about(months=36):
        assert catalog.render(paragraph) != english.render(paragraph)
    assert "36" in catalog.render(default_about(months=36)[3])


async def test_only_the_schools_administrator_sets_it_and_students_read_it(
    session: AsyncSession,
) -> None:
    async with session.begin():
        school = await add_school(session)
        other = await add_school(session, "elders")
        admin = await add_person(session, school, "a1", Role.ADMIN)
        stranger = await add_person(session, other, "a9", Role.ADMIN)
        coach = await add_person(session, school, "c1", Role.COACH)
        student = await add_person(session, school, "s1", Role.STUDENT)
        student.language = "pl"
        school.care_retention_months = 36
    async with session.begin():
        view = await about_for(session=session, reader=student)
        assert not view.custom
        assert view.paragraphs == default_about(months=36)
        with pytest.raises(NotAllowed):
            await about_for(session=session, reader=coach)
        with pytest.raises(NotAllowed):
            await set_about_text(session=session, actor=coach, language="pl", text="Nie.", now=NOW)
        # Another school's administrator writes for their own school only.
        await set_about_text(session=session, actor=stranger, language="pl", text="Obca.", now=NOW)
        assert not (await about_for(session=session, reader=student)).custom
        with pytest.raises(InputInvalid):
            await set_about_text(session=session, actor=admin, language="xx", text="Ja.", now=NOW)
        with pytest.raises(InputInvalid):
            await set_about_text(
                session=session, actor=admin, language="pl", text="x" * (ABOUT_MAX + 1), now=NOW
            )
        await set_about_text(
            session=session,
            actor=admin,
            language="pl",
            text=" Pierwszy\u2067 akapit.\n\n\n\nDrugi. ",
            now=NOW,
        )
    async with session.begin():
        view = await about_for(session=session, reader=student)
        assert view.custom
        assert view.paragraphs == (Text.raw("Pierwszy akapit."), Text.raw("Drugi."))
        texts = await about_texts_for_admin(session=session, actor=admin)
        assert texts["pl"] == "Pierwszy akapit.\n\nDrugi."
        assert texts["nl"] == ""
