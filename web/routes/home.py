"""``/``: straight to the first page the person's roles open (the queue for a care
coordinator), or a short page when there is none yet."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.deps import StaffDep
from web.nav import NavItem, visible_items
from web.pages import render_page
from web.runtime import web_of

NAV: tuple[NavItem, ...] = ()


async def home(*, request: Request, staff: StaffDep) -> Response:
    """The first navigation entry the person may open, else the empty home page."""
    items = visible_items(web_of(request).nav, staff.person)
    if items:
        return RedirectResponse(items[0].path, status_code=303)
    return render_page(request, "home.html", staff=staff)


def build_router() -> APIRouter:
    """A fresh router with the home route."""
    router = APIRouter()
    router.add_api_route("/", home, methods=["GET"])
    return router
