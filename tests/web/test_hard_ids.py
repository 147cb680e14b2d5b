"""Issue 13: an id no row can have, in any web path, is "not found" (404) — never a 500.

The test walks the app's routes, so a new route with an ``{…:int}`` id is covered without
being listed here; each is requested with ids past PostgreSQL's ``integer`` (2^31), past
SQLite's 64-bit integers (2^63), 0 and −1, by every staff role and by nobody, on SQLite and
(with ``--postgres-url``) PostgreSQL.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi.routing import APIRoute

from tests.web.conftest import BrowserFactory
from tests.web.staff_client import OTHER_PASSWORD, StaffWorld

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_INT_PARAM = re.compile(r"\{([a-z_]+):int\}")
BAD_IDS = (2**63, 2**31, 2**31 + 7, 2**64 + 1, 10**30, 0, -1, "x1", "1e3")


def _id_routes(transport: httpx.ASGITransport) -> list[tuple[str, str]]:
    """(method, path template) of every route with an integer in its path."""
    found: list[tuple[str, str]] = []

    def walk(routes: list[Any]) -> None:
        for route in routes:
            included = getattr(route, "original_router", None)  # an included router
            if included is not None:
                walk(included.routes)
            elif isinstance(route, APIRoute) and _INT_PARAM.search(route.path):
                found.extend((method, route.path) for method in sorted(route.methods or ()))

    walk(transport.app.routes)  # type: ignore[attr-defined]
    return found


async def test_every_route_with_an_id_answers_404_for_impossible_ids(
    staff_world: tuple[StaffWorld, httpx.ASGITransport], browsers: BrowserFactory
) -> None:
    world, transport = staff_world
    routes = _id_routes(transport)
    # The walk finds the pages people open by id (a sanity check on the walk itself).
    assert ("GET", "/queue/{item_id:int}") in routes
    assert ("GET", "/trajectories/{trajectory_id:int}") in routes
    assert len(routes) >= 15, routes

    visitors = []
    for username, password in (
        ("zoco", None),
        ("coach", None),
        ("admin", None),
        ("zoco-zuid", OTHER_PASSWORD),
    ):
        browser = await browsers()
        response = await (
            browser.log_in(username) if password is None else browser.log_in(username, password)
        )
        assert response.status_code < 400, username
        visitors.append(browser)
    visitors.append(await browsers())  # nobody logged in
    tokens = {}
    for browser in visitors:
        page = await browser.get("/")
        found = _CSRF.search(page.text)
        tokens[id(browser)] = found.group(1) if found else ""

    real = str(world.item_id)
    for method, template in routes:
        for bad in BAD_IDS:
            # The bad id in each position in turn (the others a real id, so only it is wrong).
            names = _INT_PARAM.findall(template)
            for name in names:
                path = template
                for other in names:
                    value = str(bad) if other == name else real
                    path = path.replace("{" + other + ":int}", value)
                for browser in visitors:
                    csrf = tokens[id(browser)]
                    response = await browser.client.request(
                        method, path, data={"csrf_token": csrf} if method == "POST" else None
                    )
                    assert response.status_code < 500, (method, path, response.status_code)
                    if isinstance(bad, int) and bad > 0 and method == "GET":
                        assert response.status_code == 404, (method, path)
