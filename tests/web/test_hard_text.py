"""Issue 13: control characters in typed text are refused with a reason (never a 500 —
PostgreSQL refuses a NUL), bidi controls never reach storage (the staff forms, the login form,
the web chat, a token in a path)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from storage.models import QueueNote, Trajectory
from tests.web.conftest import BrowserFactory
from tests.web.staff_client import Browser, StaffWorld

REFUSED = "invisible control character"
OVERRIDES = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


async def _zoco(browsers: BrowserFactory) -> Browser:
    zoco = await browsers()
    assert (await zoco.log_in("zoco")).status_code == 303
    return zoco


async def test_a_nul_in_the_login_form_is_refused_with_a_reason(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    del demo
    browser = await browsers()
    for username, password in (("zo\x00co", "x" * 12), ("zoco", "pass\x00word"), ("\x1b", "a")):
        await browser.get("/login")
        answer = await browser.post("/login", {"username": username, "password": password})
        assert answer.status_code == 400
        assert REFUSED in browser.text
        assert "\x00" not in answer.text


async def test_a_nul_in_a_token_of_a_path_is_not_found(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    del demo
    browser = await browsers()
    for path in ("/login/link/ab%00cd", "/c/ab%00cd", "/language/n%00l"):
        assert (await browser.get(path)).status_code == 404, path


async def test_notes_and_decline_reasons_refuse_controls_and_drop_bidi_controls(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    zoco = await _zoco(browsers)
    await zoco.get(f"/queue/{demo.item_id}")
    refused = await zoco.post(f"/queue/{demo.item_id}/notes", {"text": "Moeder\x00 gebeld."})
    assert refused.status_code == 422
    assert REFUSED in zoco.text
    await zoco.get(f"/queue/{demo.item_id}")
    kept = await zoco.post(
        f"/queue/{demo.item_id}/notes", {"text": "\u202eMoeder gebeld.\r\nMorgen\tweer."}
    )
    assert kept.status_code == 303
    async with demo.sessions()() as session:
        (note,) = await session.scalars(select(QueueNote.text))
    assert note == "Moeder gebeld.\nMorgen\tweer."
    page = (await zoco.get(f"/queue/{demo.item_id}")).text
    assert "Moeder gebeld." in page
    assert "\u202e" not in page

    refused = await zoco.post(f"/queue/{demo.item_id}/decline", {"reason": "Past\x07 niet hier."})
    assert refused.status_code == 422
    assert REFUSED in zoco.text
    assert (await demo.item()).decision_reason is None


async def test_plan_goals_refuse_controls_and_drop_bidi_controls(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    zoco = await _zoco(browsers)
    await zoco.get(f"/queue/{demo.item_id}")
    await zoco.post(f"/queue/{demo.item_id}/take")
    plan: dict[str, str | list[str]] = {
        "start": "2026-03-09",
        "end": "2026-06-12",
        "evaluation": ["2026-04-17", "", ""],
        "timeouts_in_plan": "1",
        "timeouts_per_week": "1",
    }
    await zoco.get(f"/queue/{demo.item_id}")
    refused = await zoco.post(
        f"/queue/{demo.item_id}/accept", {**plan, "goals": "Noor vraagt\x00 hulp op tijd."}
    )
    assert refused.status_code == 422
    assert REFUSED in zoco.text
    await zoco.get(f"/queue/{demo.item_id}")
    accepted = await zoco.post(
        f"/queue/{demo.item_id}/accept",
        {**plan, "goals": "\u2067Noor vraagt hulp\u202e voordat het misgaat.\u2069"},
    )
    assert accepted.status_code == 303, zoco.text
    async with demo.sessions()() as session:
        (goals,) = await session.scalars(select(Trajectory.goals))
    assert goals == "Noor vraagt hulp voordat het misgaat."
    assert not OVERRIDES & set(goals)


async def test_a_refused_form_on_a_personal_link_logs_no_token(
    demo: StaffWorld, browsers: BrowserFactory, caplog: pytest.LogCaptureFixture
) -> None:
    del demo
    browser = await browsers()
    caplog.set_level(logging.DEBUG)
    for path in ("/login/link/Sekr1tT0kenXYZ", "/c/Sekr1tT0kenXYZ"):
        answer = await browser.post(path, {"csrf_token": "wrong"}, token=False)
        assert answer.status_code == 403, path
    assert caplog.records
    assert "Sekr1tT0kenXYZ" not in "\n".join(r.getMessage() for r in caplog.records)
