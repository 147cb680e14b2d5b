"""``GET /healthz`` for operators and load balancers: is the database reachable, migrated and
still writable?

JSON only, no personal data and no internals (no error text, no path):
``{"status": "ok", "database": "ok", "schema": "current"}`` with 200, or 503 with what is
wrong: ``database`` is ``unreachable`` (no answer) or ``unwritable`` (a committed write failed:
full disk, read-only file or database), ``schema`` is ``current``, ``outdated`` (run
`trajectbot init`) or ``unknown``. The write is a heartbeat row committed at most every
`storage.health.HEARTBEAT_INTERVAL` seconds (`storage.health`, docs/decisions.md).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from storage.health import Heartbeat
from storage.migrate import schema_is_current
from web.deps import WebDep
from web.nav import NavItem

log = logging.getLogger(__name__)

NAV: tuple[NavItem, ...] = ()


def _unavailable(database: str, schema: str) -> JSONResponse:
    return JSONResponse(
        {"status": "unavailable", "database": database, "schema": schema}, status_code=503
    )


def build_router(heartbeat: Heartbeat | None = None) -> APIRouter:
    """A fresh router with the health endpoint (its own heartbeat: one per web app)."""
    beats = heartbeat if heartbeat is not None else Heartbeat()

    async def healthz(*, web: WebDep) -> JSONResponse:
        """The database answers, its schema is the code's newest revision, and it writes."""
        try:
            current = await schema_is_current(web.app.engine)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("health check: database unreachable (%s)", type(exc).__name__)
            return _unavailable("unreachable", "unknown")
        if not current:
            # An old schema may lack the heartbeat table: report what is wrong, write nothing.
            return _unavailable("ok", "outdated")
        try:
            await beats.beat(web.app.engine, web.now())
        except (SQLAlchemyError, OSError) as exc:
            log.warning("health check: database cannot write (%s)", type(exc).__name__)
            return _unavailable("unwritable", "current")
        return JSONResponse({"status": "ok", "database": "ok", "schema": "current"})

    router = APIRouter()
    router.add_api_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    return router
