"""The web app factory: `create_web_app(app)` builds the FastAPI application from the
composition root's `App` (settings, database, catalogs). Nothing is built at import time.

Each area of the site is a module in `web/routes/` exporting ``build_router()`` and ``NAV``
(its navigation entries); `web.routes.areas` lists them in one place, so a new page is a new
module plus one line there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from bot.app import App
from storage.models import utcnow
from web.errors import CrashGuardMiddleware, install_error_handlers, possible_path
from web.routes import areas
from web.runtime import Web
from web.security import SecurityHeadersMiddleware
from web.templating import STATIC_DIR, create_environment


def create_web_app(app: App, *, clock: Callable[[], datetime] = utcnow) -> FastAPI:
    """The web app on ``app``'s database and catalogs; ``clock`` gives the current UTC time."""
    web_app = FastAPI(
        title="trajectbot",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # First on every route: an id out of any column's range is "not found" (404).
        dependencies=[Depends(possible_path)],
    )
    nav = tuple(item for area in areas() for item in area.nav)
    web_app.state.web = Web(app=app, environment=create_environment(), clock=clock, nav=nav)
    for area in areas():
        web_app.include_router(area.build_router())
    web_app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_handlers(web_app)
    web_app.add_middleware(CrashGuardMiddleware)
    web_app.add_middleware(SecurityHeadersMiddleware)
    return web_app
