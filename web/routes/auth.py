"""Logging in and out: username and password, or a one-time link from the bot; the language
switcher.

A login link is opened with GET (from Telegram) but spent only by the POST of its confirmation
page: link previews and prefetching cannot use it up. The login form is throttled per client
address (`services.accounts.rules`; the address from `web.security.client_address`); a login
link never is, so its owner always gets in. A refused link says why: used, expired, unknown.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from dialogs.i18n import LANGUAGES
from dialogs.text import N_, Text
from dialogs.typed_text import has_control
from services.accounts.rules import wait_in_minutes
from services.accounts.staff_accounts import PASSWORD_MAX, LoginOutcome, LoginStatus, log_in
from services.accounts.web_sessions import (
    LinkProblem,
    LoginLinkInvalid,
    NewSession,
    end_session,
    redeem_login_link,
)
from web.deps import (
    CsrfProtected,
    FormCsrfProtected,
    SessionDep,
    UnitOfWorkDep,
    WebDep,
    optional_staff,
)
from web.errors import safe_next
from web.nav import NavItem
from web.pages import form_page, render_page
from web.security import (
    FORM_COOKIE,
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    client_address,
    delete_cookie,
    set_cookie,
)

log = logging.getLogger(__name__)

NAV: tuple[NavItem, ...] = ()

WRONG_LOGIN = Text.of(N_("The username or password is not right."))
#: Why a login link was refused, with the page's status code.
LINK_REFUSED: dict[LinkProblem, tuple[Text, int]] = {
    LinkProblem.USED: (
        Text.of(
            N_("This login link has already been used. Ask the bot for a new one with /login.")
        ),
        410,
    ),
    LinkProblem.EXPIRED: (
        Text.of(
            N_(
                "This login link has expired: a login link works for 10 minutes. Ask the bot "
                "for a new one with /login."
            )
        ),
        410,
    ),
    LinkProblem.UNKNOWN: (
        Text.of(
            N_(
                "This login link is not valid. Check that you opened the whole link, or ask "
                "the bot for a new one with /login."
            )
        ),
        404,
    ),
    LinkProblem.NO_ACCOUNT: (
        Text.of(
            N_(
                "This login link no longer works: you have no account for the web app any "
                "more. Ask the administrator."
            )
        ),
        403,
    ),
}
USERNAME_MAX = 64
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


def _logged_in(web: WebDep, started: NewSession, target: str) -> Response:
    response = RedirectResponse(safe_next(target), status_code=303)
    set_cookie(
        response,
        SESSION_COOKIE,
        started.token,
        secure=web.cookies_secure,
        max_age=int(web.session_ttl.total_seconds()),
    )
    delete_cookie(response, FORM_COOKIE, secure=web.cookies_secure)
    return response


#: On the login page after a form was sent without a session (`web.errors`).
SESSION_EXPIRED = N_(
    "Your login had expired, so what you just sent was not saved. Please log in and send it again."
)


async def login_page(
    *, request: Request, web: WebDep, next: str = "/", expired: bool = False
) -> Response:
    """The login form (or straight on, when already logged in); ``expired``: a form was just
    refused for want of a session, and the page says that nothing was saved."""
    if await optional_staff(request, web) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return form_page(
        request,
        web,
        "login.html",
        next=safe_next(next),
        username="",
        error=None,
        expired=Text.of(SESSION_EXPIRED) if expired else None,
    )


CONTROL_IN_LOGIN = Text.of(
    N_(
        "The username or password contains an invisible control character (for example a "
        "NUL). Please type them again."
    )
)


async def login(
    *,
    request: Request,
    web: WebDep,
    session: SessionDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password; a session cookie on success, the form with the reason otherwise."""
    if has_control(username) or has_control(password):
        # A NUL (or another control character) can be no one's name or password, and must not
        # reach the database (PostgreSQL refuses it: a 500); say so, nothing is counted.
        return form_page(
            request,
            web,
            "login.html",
            status_code=400,
            next=safe_next(next),
            username="",
            error=CONTROL_IN_LOGIN,
        )
    username = username.strip()[:USERNAME_MAX]
    if not username or not password or len(password) > PASSWORD_MAX:
        outcome = LoginOutcome(LoginStatus.INVALID)
    else:
        # Two units of work in the request's session, the password checked between them.
        outcome = await log_in(
            sessions=session,
            username=username,
            password=password,
            now=web.now(),
            session_ttl=web.session_ttl,
            client_address=client_address(request, web.settings.trusted_proxies),
        )
    if outcome.status is LoginStatus.OK and outcome.session is not None:
        return _logged_in(web, outcome.session, next)
    wait = wait_in_minutes(outcome.retry_after) if outcome.retry_after is not None else None
    if outcome.status is LoginStatus.THROTTLED and wait is not None:
        error = Text.of(
            N_(
                "Too many attempts; try again in {wait}. Linked to the bot? Send /login to the "
                "bot for a login link: it always works."
            ),
            wait=wait,
        )
        status_code = 429
    elif wait is not None:
        error = Text.of(
            N_(
                "The username or password is not right. Too many attempts; try again in "
                "{wait}, or send /login to the bot for a login link."
            ),
            wait=wait,
        )
        status_code = 401
    else:
        error, status_code = WRONG_LOGIN, 401
    response = form_page(
        request,
        web,
        "login.html",
        status_code=status_code,
        next=safe_next(next),
        username=username,
        error=error,
    )
    if wait is not None:
        response.headers["Retry-After"] = str(int(wait.total_seconds()))
    return response


async def logout(*, request: Request, web: WebDep, uow: UnitOfWorkDep) -> Response:
    """End the session (the form carries the session's CSRF token)."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await uow(lambda s: end_session(session=s, token=token, now=web.now()))
    response = RedirectResponse("/login", status_code=303)
    delete_cookie(response, SESSION_COOKIE, secure=web.cookies_secure)
    return response


async def login_link_page(*, request: Request, web: WebDep, token: str) -> Response:
    """The confirmation page of a login link (GET does not spend the link)."""
    return form_page(request, web, "login_link.html", token=token)


async def login_with_link(
    *, request: Request, web: WebDep, uow: UnitOfWorkDep, token: str
) -> Response:
    """Spend the link and log in (never throttled); a refused link's page says why."""
    try:
        started = await uow(
            lambda s: redeem_login_link(session=s, token=token, now=web.now(), ttl=web.session_ttl)
        )
    except LoginLinkInvalid as refused:
        message, status_code = LINK_REFUSED[refused.problem]
        return render_page(
            request,
            "error.html",
            staff=None,
            status_code=status_code,
            message=message,
            status=status_code,
        )
    return _logged_in(web, started, "/")


async def choose_language(*, request: Request, web: WebDep, code: str, next: str = "/") -> Response:
    """Remember the language chosen with the switcher and go back to the page."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in LANGUAGES:
        set_cookie(
            response,
            LANGUAGE_COOKIE,
            code,
            secure=web.cookies_secure,
            max_age=LANGUAGE_COOKIE_SECONDS,
        )
    return response


def build_router() -> APIRouter:
    """A fresh router with the login, logout and language routes."""
    router = APIRouter()
    router.add_api_route("/login", login_page, methods=["GET"])
    router.add_api_route("/login", login, methods=["POST"], dependencies=[FormCsrfProtected])
    router.add_api_route("/logout", logout, methods=["POST"], dependencies=[CsrfProtected])
    router.add_api_route("/login/link/{token}", login_link_page, methods=["GET"])
    router.add_api_route(
        "/login/link/{token}", login_with_link, methods=["POST"], dependencies=[FormCsrfProtected]
    )
    router.add_api_route("/language/{code}", choose_language, methods=["GET"])
    return router
