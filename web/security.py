"""Security plumbing of the web app: response headers, cookies, CSRF token comparison.

- Every response gets a Content-Security-Policy without inline scripts or styles, frame
  denial, ``Referrer-Policy: no-referrer`` (a login link's token never leaks to another site)
  and ``nosniff``; everything but ``/static`` is ``Cache-Control: no-store`` (pages carry
  personal data).
- Cookies are HttpOnly and SameSite; Secure when the app is reached over HTTPS
  (`bot.config.Settings.cookies_secure`).
- The client address (`client_address`, for the login throttle) is the peer of the
  connection; X-Forwarded-For is believed only when that peer is a trusted proxy
  (``WEB_TRUSTED_PROXIES``), and then the right-most address that is not itself a trusted
  proxy is the client (the left part of the header is whatever the client wrote).
- CSRF: a logged-in form carries the session's synchronizer token (stored with the session);
  a form before login (the login form, a login link's confirmation) carries a random token
  that must equal an HttpOnly cookie set with the form (double submit).
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from ipaddress import IPv4Network, IPv6Network
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SESSION_COOKIE = "trajectbot_session"
#: The double-submit token of forms shown before login.
FORM_COOKIE = "trajectbot_form"
#: The language chosen with the switcher (a preference, not a secret).
LANGUAGE_COOKIE = "trajectbot_lang"
CSRF_FIELD = "csrf_token"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityHeadersMiddleware:
    """Adds `SECURITY_HEADERS` to every response, and ``no-store`` outside ``/static``."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        cacheable = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in {header for header, _ in SECURITY_HEADERS}
                ]
                headers.extend(SECURITY_HEADERS)
                if not cacheable:
                    headers = [(n, v) for n, v in headers if n.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self._app(scope, receive, send_with_headers)


def _in_networks(address: str, networks: Sequence[IPv4Network | IPv6Network]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return any(parsed.version == network.version and parsed in network for network in networks)


def client_address(
    request: Request, trusted_proxies: Sequence[IPv4Network | IPv6Network]
) -> str | None:
    """The address of the client behind ``request`` (``None`` when the server knows none).

    The connection's peer, unless that peer is one of ``trusted_proxies``: then the
    X-Forwarded-For chain is read from the right, skipping trusted proxies, and the first
    address that is not one is the client. An untrusted peer's header is ignored (anyone can
    write it).
    """
    peer = request.client.host if request.client is not None else None
    if peer is None or not trusted_proxies or not _in_networks(peer, trusted_proxies):
        return peer
    chain = [
        part.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for part in header.split(",")
        if part.strip()
    ]
    for hop in reversed(chain):
        if not _in_networks(hop, trusted_proxies):
            return hop
    return chain[0] if chain else peer


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two tokens; a missing one never matches."""
    if not expected or not given:
        return False
    return secrets.compare_digest(expected.encode(), given.encode())


def new_form_token() -> str:
    """A fresh double-submit token for a form shown before login."""
    return secrets.token_urlsafe(32)


def set_cookie(
    response: Response,
    name: str,
    value: str,
    *,
    secure: bool,
    max_age: int | None = None,
    samesite: str = "lax",
    path: str = "/",
) -> None:
    """Set an HttpOnly cookie (Secure when ``secure``)."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        secure=secure,
        samesite=samesite,  # type: ignore[arg-type]
    )


def delete_cookie(response: Response, name: str, *, secure: bool, path: str = "/") -> None:
    """Remove a cookie set by `set_cookie`."""
    response.delete_cookie(name, path=path, httponly=True, secure=secure, samesite="lax")


async def form_value(request: Request, name: str) -> str | None:
    """A field of the request's form (parsed once and cached by Starlette), or ``None``."""
    form = await request.form()
    value = form.get(name)
    return value if isinstance(value, str) else None
