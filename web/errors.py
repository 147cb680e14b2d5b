# ruff: noqa: N818 - named like services.kernel.errors (NotAllowed, ...): outcomes, not bugs

"""Exceptions routes raise, and the translated pages they turn into.

=================  ======  ==================================================================
exception          status  what the person sees
=================  ======  ==================================================================
LoginRequired      303     the login page (GET: coming back to the page after logging in)
Forbidden          403     "not available for your role" (a page the role never opens)
NotAvailable       404     "not found or not available to you" — the same for another
                           school's item and for an id that does not exist
CsrfRefused        403     "the form was not sent from this site or has expired"
TooLarge           413     "the file is larger than N MB" (an upload refused unread)
HTTPException 404  404     the same page as NotAvailable (unknown address)
anything else      500     "something went wrong", logged without personal data
                           (`CrashGuardMiddleware`)
=================  ======  ==================================================================
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from dialogs.text import N_, Text
from dialogs.typed_text import has_control
from services.kernel.ids import id_in_range
from web.security import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)


class WebError(Exception):
    """Base class: an outcome that becomes a page."""


class LoginRequired(WebError):
    """No (valid) staff session: log in first."""


class Forbidden(WebError):
    """The person's roles do not open this page."""


class NotAvailable(WebError):
    """Not found, or not this person's to see (one answer for both, so ids cannot be probed)."""


class CsrfRefused(WebError):
    """A form came without the right CSRF token."""


class TooLarge(WebError):
    """A request larger than the upload it may carry, refused before it is read."""

    def __init__(self, limit_mb: int) -> None:
        super().__init__(limit_mb)
        self.limit_mb = limit_mb


def too_large(limit_mb: int) -> Text:
    """The sentence for a file over the limit (the route's own check says the same)."""
    return Text.of(N_("The file is larger than {size} MB."), size=limit_mb)


FORBIDDEN = Text.of(N_("This page is not available for your role."))
NOT_AVAILABLE = Text.of(N_("This page does not exist or is not available to you."))
CSRF_REFUSED = Text.of(
    N_(
        "This form was not sent from this site, or it has expired. Go back, reload the page "
        "and try again."
    )
)
SERVER_ERROR = Text.of(N_("Something went wrong on our side. Please try again in a moment."))


def possible_path(request: Request) -> None:
    """Every route's dependency: a path naming what no row can be is "not found", before the
    route's own checks and before the database sees it — an id no row can have (≥ 2^31, 0:
    `services.kernel.ids`; Starlette's ``{…:int}`` takes any digit string, however long, while
    negative and non-numeric ids do not match the route at all) or a token with a control
    character (``%00``: PostgreSQL refuses a NUL in a query)."""
    for value in request.path_params.values():
        if isinstance(value, int) and not id_in_range(value):
            raise NotAvailable
        if isinstance(value, str) and has_control(value):
            raise NotAvailable


#: Paths whose last part is a personal token (a link that logs someone in or opens a chat).
_TOKEN_PATHS = ("/c/", "/login/link/")


def loggable_path(path: str) -> str:
    """``path`` for a log line: a personal link's token replaced by ``…`` (a token in a log is
    a way in for whoever reads the log)."""
    for prefix in _TOKEN_PATHS:
        if path.startswith(prefix):
            return prefix + "…"
    return path


def safe_next(path: str | None) -> str:
    """A local path to return to after logging in (never another site)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def install_error_handlers(app: FastAPI) -> None:
    """Turn the exceptions above (and unknown routes, and crashes) into pages."""
    from web.pages import error_page  # noqa: PLC0415 - pages imports this module

    async def login_required(request: Request, _exc: Exception) -> Response:
        target = "/login"
        if request.method == "GET":
            wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            target += "?next=" + quote(safe_next(wanted), safe="")
        else:
            # A form sent after the session ended: nothing was saved, and the login page
            # says so (a silent login page lost the care coordinator's typed plan).
            target += "?expired=1"
        return RedirectResponse(target, status_code=303)

    async def forbidden(request: Request, _exc: Exception) -> Response:
        return error_page(request, FORBIDDEN, status_code=403)

    async def not_available(request: Request, _exc: Exception) -> Response:
        return error_page(request, NOT_AVAILABLE, status_code=404)

    async def csrf_refused(request: Request, _exc: Exception) -> Response:
        log.info("form refused: CSRF token missing or wrong (%s)", loggable_path(request.url.path))
        return error_page(request, CSRF_REFUSED, status_code=403)

    async def upload_too_large(request: Request, exc: Exception) -> Response:
        limit = exc.limit_mb if isinstance(exc, TooLarge) else 0
        return error_page(request, too_large(limit), status_code=413)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
        if status == 404:
            return error_page(request, NOT_AVAILABLE, status_code=404)
        if status == 405:
            return error_page(request, NOT_AVAILABLE, status_code=405)
        return error_page(request, SERVER_ERROR, status_code=status)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(NotAvailable, not_available)
    app.add_exception_handler(CsrfRefused, csrf_refused)
    app.add_exception_handler(TooLarge, upload_too_large)
    app.add_exception_handler(StarletteHTTPException, http_error)


class CrashGuardMiddleware:
    """Any other exception: a translated 500 page, and a log line with the exception's type
    and the path only (messages and tracebacks may quote personal data, e.g. SQL parameters).

    Starlette's own 500 handling would log the whole traceback and re-raise.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._app(scope, receive, watch)
        except Exception as exc:
            from web.pages import error_page  # noqa: PLC0415 - pages imports this module

            path = loggable_path(str(scope.get("path", "?")))
            log.error("unhandled %s on %s", type(exc).__name__, path)  # noqa: TRY400
            if started:
                return
            response = error_page(Request(scope), SERVER_ERROR, status_code=500)
            await response(scope, receive, send)
