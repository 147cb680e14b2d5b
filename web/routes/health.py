"""``GET /healthz`` for operators and load balancers: is the database reachable and migrated?

JSON only, no personal data: ``{"status": "ok", "database": "ok", "schema": "current"}``
with 200, or 503 with what is wrong.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from storage.migrate import schema_is_current
from web.deps import WebDep
from web.nav import NavItem

log = logging.getLogger(__name__)

NAV: tuple[NavItem, ...] = ()


async def healthz(*, web: WebDep) -> JSONResponse:
    """The database answers and its schema is the code's newest revision."""
    try:
        current = await schema_is_current(web.app.engine)
    except (SQLAlchemyError, OSError) as exc:
        log.warning("health check: database unreachable (%s)", type(exc).__name__)
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "schema": "unknown"},
            status_code=503,
        )
    if not current:
        return JSONResponse(
            {"status": "unavailable", "database": "ok", "schema": "outdated"}, status_code=503
        )
    return JSONResponse({"status": "ok", "database": "ok", "schema": "current"})


def build_router() -> APIRouter:
    """A fresh router with the health endpoint."""
    router = APIRouter()
    router.add_api_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    return router
