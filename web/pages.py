"""Rendering pages: the language of the page, the base layout's context, error pages.

Language: the one chosen with the switcher (a cookie), else the person's own (staff: their
stored language; nobody known: the browser's ``Accept-Language``, where a page asks for it),
else Dutch. Arabic pages get ``dir="rtl"``.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse
from starlette.requests import Request

from dialogs.i18n import LANGUAGE_NAMES, LANGUAGES, pick_language
from dialogs.text import Text
from web.deps import Staff
from web.nav import visible_items
from web.runtime import Web, web_of
from web.security import FORM_COOKIE, LANGUAGE_COOKIE, new_form_token, set_cookie
from web.templating import render_template


def page_language(request: Request, preferred: str | None = None) -> str:
    """The page's language: the switcher's choice, else ``preferred``, else Dutch."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return pick_language(chosen if chosen in LANGUAGES else None, preferred)


def browser_language(request: Request) -> str | None:
    """The first language of the browser's ``Accept-Language`` the product speaks (by weight:
    ``ar, en;q=0.8`` → ar; ``ar-MA`` counts as ar), else None. For a page of nobody known
    (the web chat without a session); a known person's own language comes first."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        base = tag.strip().replace("_", "-").split("-")[0].lower()
        if weight > 0 and base in LANGUAGES:
            ranked.append((-weight, position, base))
    return min(ranked)[2] if ranked else None


def base_context(
    request: Request, *, staff: Staff | None, language: str | None = None
) -> dict[str, Any]:
    """What the base layout needs: language and direction, navigation, CSRF token, time."""
    web = web_of(request)
    code = language or page_language(request, staff.person.language if staff else None)
    catalog = web.catalog(code)
    nav = visible_items(web.nav, staff.person) if staff else []
    path = request.url.path
    return {
        "request": request,
        "catalog": catalog,
        "lang": catalog.language,
        "dir": "rtl" if catalog.rtl else "ltr",
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "staff": staff,
        "nav": nav,
        "active_nav": next(
            (item.key for item in nav if path == item.path or path.startswith(item.path + "/")),
            None,
        ),
        "csrf_token": staff.csrf_token if staff else None,
        "now": web.now(),
        "path": path + (f"?{request.url.query}" if request.url.query else ""),
    }


def render_page(
    request: Request,
    name: str,
    *,
    staff: Staff | None,
    status_code: int = 200,
    language: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render template ``name`` (extending ``base.html``) for ``staff`` (or nobody)."""
    values = base_context(request, staff=staff, language=language)
    values.update(context)
    html = render_template(web_of(request).environment, name, values)
    return HTMLResponse(html, status_code=status_code)


def form_page(
    request: Request, web: Web, name: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A form shown before login (login, a login link, a personal chat link), with its
    double-submit token in ``form_token`` and its cookie (the cookie's token is reused)."""
    token = request.cookies.get(FORM_COOKIE) or new_form_token()
    response = render_page(
        request, name, staff=None, status_code=status_code, form_token=token, **context
    )
    set_cookie(response, FORM_COOKIE, token, secure=web.cookies_secure, samesite="strict")
    return response


def error_page(request: Request, message: Text, *, status_code: int) -> HTMLResponse:
    """A translated page saying ``message`` (the logged-in person's nav, if known)."""
    staff = getattr(request.state, "staff", None)
    return render_page(
        request,
        "error.html",
        staff=staff if isinstance(staff, Staff) else None,
        status_code=status_code,
        message=message,
        status=status_code,
    )
