"""What the web app's routes share, built once by `web.app.create_web_app`.

Routes reach it through the request (``request.app.state.web``, or the `WebDep` dependency in
`web.deps`), never through a module global.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from jinja2 import Environment
from starlette.requests import Request

from bot.app import App
from bot.config import Settings
from dialogs.i18n import Catalog
from web.nav import NavItem


@dataclass(frozen=True, slots=True)
class Web:
    """The application (settings, database, catalogs), templates, clock and navigation."""

    app: App
    environment: Environment
    clock: Callable[[], datetime]
    nav: tuple[NavItem, ...]

    @property
    def settings(self) -> Settings:
        """The application's settings."""
        return self.app.settings

    @property
    def cookies_secure(self) -> bool:
        """Whether cookies are sent over HTTPS only."""
        return self.app.settings.cookies_secure

    @property
    def session_ttl(self) -> timedelta:
        """How long a staff login lasts."""
        return timedelta(hours=self.app.settings.web_session_hours)

    def now(self) -> datetime:
        """The current time (UTC, timezone-aware); tests pass their own clock."""
        return self.clock()

    def catalog(self, language: str | None) -> Catalog:
        """The catalog of ``language`` (unsupported: Dutch)."""
        return self.app.catalogs.get(language)


def web_of(request: Request) -> Web:
    """The `Web` of the app serving ``request``."""
    web = getattr(request.app.state, "web", None)
    if not isinstance(web, Web):
        raise TypeError("the app was not built by web.app.create_web_app")
    return web
