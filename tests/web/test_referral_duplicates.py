"""Duplicates on the web (issue 11, item 5): the referral page lists the student's other
referrals and trajectories, and a care coordinator merges a duplicate into the open one.

HTTP-level (the page has no script): the forms are posted as a browser would.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from bot.outbox.messages import OPEN_REFERRAL_OUTCOME, message_texts
from dialogs.i18n import Catalogs
from services.referrals.submission import submit_referral
from storage.models import Outbox, Person, QueueItem, QueueNote, QueueStatus
from tests.support.factories import NOW, draft
from tests.web.conftest import BrowserFactory
from tests.web.staff_client import OTHER_PASSWORD, Browser, StaffWorld

EN = Catalogs().get("en")
SECOND_QUESTION = "Ik wil stoppen met weglopen uit de les."


def _main(page: str) -> str:
    return page[page.index("<main") : page.index("</main>")]


def _section(page: str) -> str:
    found = re.search(r'<section class="card student-cases".*?</section>', page, re.DOTALL)
    assert found is not None, "no section with the student's other referrals"
    return found.group(0)


def _plain(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


async def _second_referral(demo: StaffWorld) -> int:
    """mentor1 refers Noor (lln02) again, a day later: the duplicate's queue item."""
    async with demo.app.sessions() as session, session.begin():
        mentor = await session.get_one(Person, demo.ids["mentor1"])
        referral = await submit_referral(
            session=session,
            mentor=mentor,
            draft=draft(demo.ids["lln02"], help_question_student=SECOND_QUESTION),
            now=NOW + timedelta(days=1),
        )
        item_id = await session.scalar(
            select(QueueItem.id).where(QueueItem.referral_id == referral.id)
        )
    assert item_id is not None
    return item_id


async def _zoco(browsers: BrowserFactory) -> Browser:
    zoco = await browsers()
    assert (await zoco.log_in("zoco")).status_code == 303
    return zoco


async def test_the_page_lists_the_students_other_referrals_with_links_and_the_merge(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    duplicate = await _second_referral(demo)
    zoco = await _zoco(browsers)

    page = (await zoco.get(f"/queue/{duplicate}")).text

    section = _section(page)
    assert "Other referrals and trajectories of Noor Bremhorst" in _plain(section)
    row = re.search(rf'<tr data-referral="{demo.referral_id}".*?</tr>', section, re.DOTALL)
    assert row is not None
    assert f'<a href="/queue/{demo.item_id}">#{demo.item_id}</a>' in row.group(0)
    assert "new" in _plain(row.group(0))
    assert f'action="/queue/{duplicate}/merge"' in _main(page)
    assert f"Merge into #{demo.item_id}" in page

    # The original lists the duplicate too: either can be merged into the other.
    original = (await zoco.get(f"/queue/{demo.item_id}")).text
    assert f'<a href="/queue/{duplicate}">#{duplicate}</a>' in _section(original)


async def test_a_referral_without_other_referrals_has_no_section_and_no_merge(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    zoco = await _zoco(browsers)
    page = (await zoco.get(f"/queue/{demo.item_id}")).text
    assert "student-cases" not in page
    assert "/merge" not in _main(page)
    # Posted anyway (a stale page): refused with the rule's reason, nothing changed.
    refused = await zoco.post(f"/queue/{demo.item_id}/merge")
    assert refused.status_code == 409
    assert "no other open referral" in zoco.text
    assert (await demo.item()).status is QueueStatus.NEW


async def test_merging_closes_the_duplicate_adds_its_words_as_a_note_and_tells_the_mentor(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    duplicate = await _second_referral(demo)
    zoco = await _zoco(browsers)
    await zoco.get(f"/queue/{duplicate}")

    done = await zoco.post(f"/queue/{duplicate}/merge")

    assert done.status_code == 303
    assert done.headers["location"] == f"/queue/{duplicate}?done=merge"
    page = (await zoco.get(done.headers["location"])).text
    assert "Merged into the open referral" in page
    assert f'Merged into <a href="/queue/{demo.item_id}">#{demo.item_id}</a>' in page
    assert "/merge" not in _main(page)
    assert 'data-action="queue.merge"' in page

    original = (await zoco.get(f"/queue/{demo.item_id}")).text
    notes = re.search(r'<ol class="notes">.*?</ol>', original, re.DOTALL)
    assert notes is not None
    assert f"Merged from referral #{duplicate} by" in notes.group(0)
    assert f"Student&#39;s help question: {SECOND_QUESTION}" in notes.group(0)
    assert 'data-action="queue.merged_in"' in original
    assert f"merged into #{demo.item_id}" in _plain(_section(original))

    async with demo.app.sessions() as session:
        item = await session.get_one(QueueItem, duplicate)
        notes_stored = (await session.scalars(select(QueueNote))).all()
        told = (await session.scalars(select(Outbox).where(Outbox.kind == "referral.merged"))).all()
    assert item.status is QueueStatus.CLOSED
    assert item.merged_into_id == demo.item_id
    assert [n.queue_item_id for n in notes_stored] == [demo.item_id]
    assert [o.recipient_id for o in told] == [demo.ids["mentor1"]]
    # What the mentor's phone shows: no name, no content; the button opens the outcome.
    text, button = (EN.render(t) for t in message_texts("referral.merged", told[0].payload))
    assert "Noor" not in text
    assert "weglopen" not in text
    assert button == "Show the referral"
    (merged,) = await demo.audit("queue.merge")
    assert merged.actor_id == demo.ids["zoco"]
    assert merged.details["into_queue_item_id"] == demo.item_id
    assert OPEN_REFERRAL_OUTCOME.startswith("rf:show:")


async def test_only_the_schools_care_coordinator_may_merge_and_only_with_the_form_token(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    duplicate = await _second_referral(demo)
    zoco = await _zoco(browsers)
    await zoco.get(f"/queue/{duplicate}")
    assert (await zoco.post(f"/queue/{duplicate}/merge", token=False)).status_code == 403

    coach = await browsers()
    assert (await coach.log_in("coach")).status_code == 303
    await coach.get("/trajectories")
    assert (await coach.post(f"/queue/{duplicate}/merge")).status_code == 403

    other = await browsers()
    assert (await other.log_in("zoco-zuid", OTHER_PASSWORD)).status_code == 303
    await other.get("/queue")
    assert (await other.post(f"/queue/{duplicate}/merge")).status_code == 404

    assert (await demo.item(duplicate)).status is QueueStatus.NEW
