"""Staff login on the web: passwords, lock-out, one-time links, sessions, CSRF, headers, health.

Through httpx on the ASGI app (no network), a real database, the web app's clock moved by hand.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.accounts.staff_accounts import LOCKOUT, MAX_FAILED_ATTEMPTS
from services.accounts.web_sessions import LOGIN_LINK_TTL, create_login_link
from services.demo.school import DEMO_PASSWORD
from storage.models import Person, StaffAccount, WebSession
from tests.web.conftest import BrowserFactory
from tests.web.staff_client import StaffWorld


async def _account_id(demo: StaffWorld, username: str) -> int:
    async with demo.app.sessions() as session:
        found = await session.scalar(
            select(StaffAccount.id).where(StaffAccount.username == username)
        )
        assert found is not None
        return found


async def test_a_care_coordinator_logs_in_and_lands_on_the_queue(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    zoco = await browsers()
    first = await zoco.get("/queue")
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=%2Fqueue"

    answer = await zoco.log_in("zoco")
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "trajectbot_session=" in cookie
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # plain http://127.0.0.1 in this test
    home = await zoco.client.get("/", follow_redirects=True)
    assert home.url.path == "/queue"
    assert demo.student_name in home.text
    (login,) = await demo.audit("web.login")
    assert login.actor_id == demo.ids["zoco"]
    assert login.details["method"] == "password"


async def test_a_wrong_password_is_refused_and_audited_by_account_id_only(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    zoco = await browsers()
    answer = await zoco.log_in("zoco", "not-the-password")
    assert answer.status_code == 401
    assert "The username or password is not right." in zoco.text
    assert "trajectbot_session" not in answer.headers.get("set-cookie", "")
    (failed,) = await demo.audit("web.login_failed")
    assert (failed.subject_type, failed.subject_id) == (
        "staff_account",
        await _account_id(demo, "zoco"),
    )
    assert failed.details == {"attempts": 1, "locked": False}
    # An unknown name gets the same answer and leaves no trace tied to a school.
    stranger = await browsers()
    unknown = await stranger.log_in("nobody-here", "whatever-password")
    assert unknown.status_code == 401
    assert len(await demo.audit("web.login_failed")) == 1


async def test_five_failures_lock_the_account_for_fifteen_minutes(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    guesser = await browsers()
    for attempt in range(1, MAX_FAILED_ATTEMPTS + 1):
        answer = await guesser.log_in("coach", f"guess-number-{attempt}")
        assert answer.status_code == (429 if attempt == MAX_FAILED_ATTEMPTS else 401)
    # Locked: even the right password does not open it now.
    coach = await browsers()
    refused = await coach.log_in("coach")
    assert refused.status_code == 429
    assert "trajectbot_session" not in refused.headers.get("set-cookie", "")
    audits = await demo.audit("web.login_failed")
    assert [row.details["locked"] for row in audits] == [False] * 4 + [True]

    demo.clock.advance(LOCKOUT - timedelta(seconds=1))
    assert (await coach.log_in("coach")).status_code == 429
    demo.clock.advance(timedelta(seconds=2))
    assert (await coach.log_in("coach")).status_code == 303


async def test_logging_out_ends_the_session_in_the_database(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    zoco = await browsers()
    await zoco.log_in("zoco")
    await zoco.get("/queue")
    answer = await zoco.post("/logout")
    assert answer.status_code == 303
    async with demo.app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WebSession)) == 0
    assert (await zoco.get("/queue")).status_code == 303
    assert len(await demo.audit("web.logout")) == 1


async def test_a_session_expires(demo: StaffWorld, browsers: BrowserFactory) -> None:
    zoco = await browsers()
    await zoco.log_in("zoco")
    assert (await zoco.get("/queue")).status_code == 200
    demo.clock.advance(timedelta(hours=12, seconds=1))
    assert (await zoco.get("/queue")).status_code == 303


async def test_a_login_link_works_once(demo: StaffWorld, browsers: BrowserFactory) -> None:
    async with demo.app.sessions() as session:
        zoco = await session.get_one(Person, demo.ids["zoco"])
    async with demo.app.sessions() as session, session.begin():
        token = await create_login_link(session=session, person=zoco, now=demo.clock())
    phone = await browsers()
    # Opening the link (a preview, a prefetch) does not spend it; the confirmation does.
    assert (await phone.get(f"/login/link/{token}")).status_code == 200
    assert (await phone.get(f"/login/link/{token}")).status_code == 200
    used = await phone.post(f"/login/link/{token}")
    assert used.status_code == 303
    assert "trajectbot_session=" in used.headers["set-cookie"]
    assert (await phone.get("/queue")).status_code == 200
    (login,) = await demo.audit("web.login")
    assert login.details["method"] == "link"

    again = await browsers()
    await again.get(f"/login/link/{token}")
    refused = await again.post(f"/login/link/{token}")
    assert refused.status_code == 410
    assert "trajectbot_session" not in refused.headers.get("set-cookie", "")


async def test_a_login_link_expires_after_ten_minutes(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    async with demo.app.sessions() as session:
        coach = await session.get_one(Person, demo.ids["coach"])
    async with demo.app.sessions() as session, session.begin():
        token = await create_login_link(session=session, person=coach, now=demo.clock())
    demo.clock.advance(LOGIN_LINK_TTL + timedelta(seconds=1))
    late = await browsers()
    await late.get(f"/login/link/{token}")
    assert (await late.post(f"/login/link/{token}")).status_code == 410


@pytest.mark.parametrize("form", ["missing", "wrong"])
async def test_a_form_without_the_sessions_token_is_refused(
    form: str, demo: StaffWorld, browsers: BrowserFactory
) -> None:
    zoco = await browsers()
    await zoco.log_in("zoco")
    await zoco.get(f"/queue/{demo.item_id}")
    data = {} if form == "missing" else {"csrf_token": "forged-token"}
    refused = await zoco.post(f"/queue/{demo.item_id}/take", data, token=False)
    assert refused.status_code == 403
    assert "This form was not sent from this site, or it has expired." in zoco.text
    assert (await demo.item()).status.value == "new"
    assert await demo.audit("queue.take") == []
    # The same form with the page's token works.
    await zoco.get(f"/queue/{demo.item_id}")
    assert (await zoco.post(f"/queue/{demo.item_id}/take")).status_code == 303
    assert (await demo.item()).status.value == "in_progress"


async def test_another_sessions_token_does_not_count(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    zoco = await browsers()
    await zoco.log_in("zoco")
    await zoco.get(f"/queue/{demo.item_id}")
    token_of_zoco = zoco.csrf()
    other = await browsers()
    await other.log_in("zoco")
    refused = await other.post(f"/queue/{demo.item_id}/take", {"csrf_token": token_of_zoco})
    assert refused.status_code == 403
    assert (await demo.item()).status.value == "new"


async def test_the_login_form_needs_its_token_too(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    del demo
    forger = await browsers()
    answer = await forger.post(
        "/login", {"username": "zoco", "password": DEMO_PASSWORD}, token=False
    )
    assert answer.status_code == 403
    assert "trajectbot_session" not in answer.headers.get("set-cookie", "")


async def test_every_page_carries_the_security_headers(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    del demo
    zoco = await browsers()
    for page in (await zoco.get("/login"), await zoco.log_in("zoco"), await zoco.get("/queue")):
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in (await zoco.get("/queue")).text


async def test_health_says_ok_without_personal_data(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    del demo
    probe = await browsers()
    answer = await probe.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok", "schema": "current"}


async def test_pages_speak_dutch_by_default_and_switch_to_english_or_arabic(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    del demo
    visitor = await browsers(language=None)
    page = await visitor.get("/login")
    assert '<html lang="nl" dir="ltr">' in page.text
    switched = await visitor.get("/language/en?next=/login")
    assert switched.status_code == 303
    assert switched.headers["location"] == "/login"
    page = await visitor.get("/login")
    assert '<html lang="en" dir="ltr">' in page.text
    assert "Username" in page.text
    await visitor.get("/language/ar?next=/login")
    page = await visitor.get("/login")
    assert '<html lang="ar" dir="rtl">' in page.text
    # Only local paths: the switcher never sends anyone to another site.
    away = await visitor.get("/language/nl?next=//evil.example/")
    assert away.headers["location"] == "/"


async def test_an_unknown_address_gets_a_translated_page(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    del demo
    visitor = await browsers()
    answer = await visitor.get("/no/such/page")
    assert answer.status_code == 404
    assert "does not exist or is not available to you" in visitor.text
