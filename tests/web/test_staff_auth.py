"""Staff login on the web: passwords, throttling, one-time links, sessions, CSRF, headers, health.

Through httpx on the ASGI app (no network), a real database, the web app's clock moved by hand.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from services.accounts import staff_accounts
from services.accounts.rules import PAIR_FREE
from services.accounts.web_sessions import LOGIN_LINK_TTL, create_login_link
from services.demo.school import DEMO_PASSWORD
from storage.models import LoginFailure, Person, StaffAccount, WebSession
from tests.web.conftest import BrowserFactory
from tests.web.staff_client import Browser, StaffWorld

TOO_MANY = "Too many attempts; try again in"


async def _from(browsers: BrowserFactory, address: str) -> Browser:
    """A browser whose requests reach the app through the trusted local proxy from ``address``
    (the test transport's peer is 127.0.0.1, trusted by default: WEB_TRUSTED_PROXIES)."""
    browser = await browsers()
    browser.client.headers["X-Forwarded-For"] = address
    return browser


async def _link(demo: StaffWorld, who: str) -> str:
    async with demo.app.sessions() as session:
        person = await session.get_one(Person, demo.ids[who])
    async with demo.app.sessions() as session, session.begin():
        return await create_login_link(session=session, person=person, now=demo.clock())


async def _failures(demo: StaffWorld) -> int:
    async with demo.app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(LoginFailure)) or 0)


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
    assert failed.details["failures"] == 1
    assert failed.details["wait_seconds"] == 0
    assert "not-the-password" not in str(failed.details)
    # An unknown name gets the same answer and leaves no trace tied to a school.
    stranger = await browsers()
    unknown = await stranger.log_in("nobody-here", "whatever-password")
    assert unknown.status_code == 401
    assert "The username or password is not right." in stranger.text
    assert len(await demo.audit("web.login_failed")) == 1


async def test_twenty_wrong_guesses_from_one_address_throttle_that_address(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    attacker = await _from(browsers, "203.0.113.66")
    names = ["coach", "zoco", "admin", "nobody-1", "nobody-2"]
    answers = []
    for guess in range(20):
        answer = await attacker.log_in(names[guess % len(names)], f"guess-number-{guess}")
        answers.append(answer.status_code)
        assert "trajectbot_session" not in answer.headers.get("set-cookie", "")
    # Guessing across usernames is throttled after a handful; the rest were never checked.
    assert answers[:3] == [401, 401, 401]
    assert answers[-10:] == [429] * 10
    assert TOO_MANY in attacker.text
    assert attacker.page is not None
    assert int(attacker.page.headers["Retry-After"]) >= 60
    assert await _failures(demo) < 10
    # The attacker's address cannot even try the right password of anyone now.
    refused = await attacker.log_in("zoco")
    assert refused.status_code == 429
    assert "trajectbot_session" not in refused.headers.get("set-cookie", "")
    # The owners, elsewhere, are not slowed down at all.
    for owner in ("coach", "zoco"):
        assert (await (await _from(browsers, "198.51.100.20")).log_in(owner)).status_code == 303
    throttled = await demo.audit("web.login_throttled")
    assert throttled
    assert all("203.0.113.66" not in str(row.details) for row in throttled)


async def test_one_username_guessed_from_one_address_waits_longer_and_longer(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    attacker = await _from(browsers, "203.0.113.67")
    for attempt in range(1, PAIR_FREE + 1):
        answer = await attacker.log_in("coach", f"guess-number-{attempt}")
        assert answer.status_code == 401
    assert "The username or password is not right. Too many attempts; try again in 1 minute" in (
        attacker.text
    )
    shown = []
    for _ in range(4):
        refused = await attacker.log_in("coach", "one-more-guess")
        assert refused.status_code == 429  # not checked, not counted
        shown.append(int(refused.headers["Retry-After"]))
        demo.clock.advance(timedelta(seconds=shown[-1]))
        assert (await attacker.log_in("coach", "one-more-guess")).status_code == 401
    assert shown == [60, 120, 240, 480]
    assert await _failures(demo) == PAIR_FREE + 4


async def test_guesses_spread_over_many_addresses_never_lock_the_owner_out(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    for host in range(20):
        attacker = await _from(browsers, f"203.0.113.{host + 1}")
        for guess in range(PAIR_FREE + 2):
            await attacker.log_in("coach", f"guess-{host}-{guess}")
        assert attacker.page is not None
        assert attacker.page.status_code == 429
    # The trade-off (docs/decisions.md): no counter per account across addresses, so the
    # owner, from their own address, logs in with the right password at once.
    owner = await _from(browsers, "198.51.100.30")
    answer = await owner.log_in("coach")
    assert answer.status_code == 303
    assert "trajectbot_session=" in answer.headers["set-cookie"]
    assert len(await demo.audit("web.login_failed")) == 20 * PAIR_FREE


async def test_the_login_link_works_while_the_owners_address_is_throttled(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    # The worst case: the attacker shares the owner's address (the school's NAT).
    shared = "192.0.2.50"
    attacker = await _from(browsers, shared)
    for guess in range(PAIR_FREE + 1):
        await attacker.log_in("coach", f"guess-number-{guess}")
    coach = await _from(browsers, shared)
    assert (await coach.log_in("coach")).status_code == 429
    assert "send /login to the bot" in coach.text.lower()
    token = await _link(demo, "coach")
    await coach.get(f"/login/link/{token}")
    answer = await coach.post(f"/login/link/{token}")
    assert answer.status_code == 303
    assert "trajectbot_session=" in answer.headers["set-cookie"]
    (login,) = await demo.audit("web.login")
    assert (login.actor_id, login.details["method"]) == (demo.ids["coach"], "link")
    # Still throttled for passwords from that address: the link went around, not through.
    assert (await attacker.log_in("coach")).status_code == 429


async def test_unknown_and_known_usernames_get_identical_answers(
    demo: StaffWorld, browsers: BrowserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    del demo
    checked: list[str] = []
    verify = staff_accounts.verify_password

    def counting(password_hash: str, password: str) -> bool:
        checked.append(password)
        return verify(password_hash, password)

    monkeypatch.setattr(staff_accounts, "verify_password", counting)
    seen: dict[str, list[tuple[int, str | None, str]]] = {}
    for username, address in (("coach", "192.0.2.61"), ("no-such-user", "192.0.2.62")):
        browser = await _from(browsers, address)
        seen[username] = []
        for guess in range(PAIR_FREE + 2):
            answer = await browser.log_in(username, f"guess-number-{guess}")
            problem = browser.text.split('role="alert">')[1].split("</p>")[0]
            seen[username].append((answer.status_code, answer.headers.get("retry-after"), problem))
    assert seen["coach"] == seen["no-such-user"]
    # An unknown username costs a password check (against a dummy hash) like a known one.
    assert checked.count("guess-number-0") == 2
    assert len(checked) == 2 * PAIR_FREE


async def test_x_forwarded_for_counts_only_from_a_trusted_proxy(
    demo: StaffWorld, staff_world: tuple[StaffWorld, httpx.ASGITransport]
) -> None:
    _world, trusted = staff_world
    untrusted = httpx.ASGITransport(
        app=trusted.app, client=("203.0.113.99", 40000), raise_app_exceptions=False
    )
    for transport, spoofed_answers in ((untrusted, 429), (trusted, 401)):
        for guess in range(PAIR_FREE + 1):
            # A different X-Forwarded-For on every guess, as an attacker would send.
            browser = Browser(transport)
            browser.client.headers["X-Forwarded-For"] = f"198.18.{guess}.1"
            try:
                answer = await browser.log_in("zoco", f"guess-number-{guess}")
            finally:
                await browser.close()
        # Straight from an untrusted peer the header is ignored: one address, throttled. From
        # the trusted proxy each header is another client: none is throttled.
        assert answer.status_code == spoofed_answers
    # Behind the trusted proxy, the right-most address the proxy added is the client; what the
    # client wrote in front of it does not count.
    for guess in range(PAIR_FREE + 1):
        browser = Browser(trusted)
        browser.client.headers["X-Forwarded-For"] = f"10.9.{guess}.1, 192.0.2.77"
        try:
            answer = await browser.log_in("coach", f"guess-number-{guess}")
        finally:
            await browser.close()
    assert answer.status_code == 429
    del demo


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
    assert "This login link has already been used." in again.text
    assert "expired" not in again.text


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
    assert "This login link has expired" in late.text
    assert "already been used" not in late.text
    made_up = await browsers()
    await made_up.get("/login/link/not-a-token-at-all")
    assert (await made_up.post("/login/link/not-a-token-at-all")).status_code == 404
    assert "This login link is not valid." in made_up.text


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


async def test_the_wait_is_said_in_the_readers_language(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    del demo
    dutch = await browsers(language="nl")
    dutch.client.headers["X-Forwarded-For"] = "192.0.2.90"
    for guess in range(PAIR_FREE + 1):
        await dutch.log_in("coach", f"guess-number-{guess}")
    assert dutch.page is not None
    assert dutch.page.status_code == 429
    assert "Te veel pogingen; probeer het over 1 minuut opnieuw." in dutch.text
    polish = await browsers(language="pl")
    polish.client.headers["X-Forwarded-For"] = "192.0.2.90"
    await polish.log_in("coach", "one-more-guess")
    assert "Zbyt wiele prób. Czas oczekiwania przed kolejną próbą: 1 minuta." in polish.text


async def test_a_form_sent_after_the_session_ended_says_nothing_was_saved(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    """The care coordinator's typed plan must not vanish without a word: the login page says
    the session had ended and what she sent was not saved."""
    zoco = await browsers()
    await zoco.log_in("zoco")
    queue = await zoco.get("/queue")
    item = re.search(r'href="/queue/(\d+)', queue.text)
    assert item is not None
    demo.clock.advance(timedelta(hours=12, seconds=1))
    answer = await zoco.post(f"/queue/{item.group(1)}/notes", {"text": "Een notitie."})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?expired=1"
    login = await zoco.get(answer.headers["location"])
    assert login.status_code == 200
    assert "Your login had expired, so what you just sent was not saved." in login.text
    plain = await (await browsers()).get("/login")
    assert "was not saved" not in plain.text  # only after a refused form
