"""FastAPI dependencies: the shared `Web`, units of work, the logged-in staff member, CSRF.

Typical staff route::

    @router.get("/things")
    async def things(request: Request, staff: CoordinatorDep, uow: UnitOfWorkDep) -> Response:
        rows = await uow(lambda s: list_things(session=s, viewer=staff.person))  # authorizes
        return render_page(request, "things.html", staff=staff, rows=rows)

    @router.post("/things/{thing_id}/done", dependencies=[CsrfProtected])
    async def done(...): ...

Routes never begin a transaction themselves: every database step is one unit of work run by
`UnitOfWork` (`services.kernel.uow.run_unit_of_work`: commit on return, rollback on raise, the
SQLite "database is locked" retry). A route may run several units one after another (the web
chat: resolve the session, apply the event, keep the flash), all in the request's session.

`current_staff` re-reads the person (roles included) from the database on every request;
`staff_with(*roles)` refuses (403) a person without one of ``roles``. Services check
again, so a route that forgets a role check still cannot show another school's data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.web_sessions import resolve_session
from services.kernel.uow import run_unit_of_work
from storage.models import Person, Role
from web.errors import CsrfRefused, Forbidden, LoginRequired
from web.runtime import Web, web_of
from web.security import CSRF_FIELD, FORM_COOKIE, SESSION_COOKIE, form_value, tokens_match


def get_web(request: Request) -> Web:
    """The `Web` of this app."""
    return web_of(request)


WebDep = Annotated[Web, Depends(get_web)]


T = TypeVar("T")


async def db_session(web: WebDep) -> AsyncIterator[AsyncSession]:
    """One database session per request, with no transaction open: `UnitOfWork` begins them."""
    async with web.app.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(db_session)]


@dataclass(frozen=True, slots=True)
class UnitOfWork:
    """Runs one unit of work in the request's session: ``await uow(lambda s: service(session=s))``.

    The one place a web route begins a transaction (through `run_unit_of_work`).
    """

    session: AsyncSession

    async def __call__(
        self,
        work: Callable[[AsyncSession], Awaitable[T]],
        *,
        commit_on: tuple[type[Exception], ...] = (),
    ) -> T:
        """Run ``work`` in one transaction: committed when it returns, rolled back if it raises.

        ``commit_on``: refusals raised after changes that must stay (see `run_unit_of_work`).
        """
        return await run_unit_of_work(self.session, work, commit_on=commit_on)


def unit_of_work(session: SessionDep) -> UnitOfWork:
    """The request's `UnitOfWork`."""
    return UnitOfWork(session)


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]


@dataclass(frozen=True, slots=True)
class Staff:
    """The logged-in staff member, as stored now. ``person`` is what services authorize."""

    person: Person
    account_id: int
    session_id: int
    csrf_token: str

    def has_role(self, *roles: Role) -> bool:
        """Whether the person holds any of ``roles``."""
        return any(self.person.has_role(role) for role in roles)


async def optional_staff(request: Request, web: WebDep) -> Staff | None:
    """The staff member behind the session cookie, or ``None`` (not logged in, or expired).

    Read in a session of its own, so the `Person` stays loaded (and usable by error pages)
    whatever the request's own session rolls back.
    """
    cached = getattr(request.state, "staff", None)
    if isinstance(cached, Staff):
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    found = await run_unit_of_work(
        web.app.sessions,
        lambda session: resolve_session(session=session, token=token, now=web.now()),
    )
    if found is None:
        return None
    staff = Staff(found.person, found.account_id, found.session_id, found.csrf_token)
    request.state.staff = staff
    return staff


async def current_staff(staff: Annotated[Staff | None, Depends(optional_staff)]) -> Staff:
    """The logged-in staff member; `LoginRequired` (→ the login page) when there is none."""
    if staff is None:
        raise LoginRequired
    return staff


StaffDep = Annotated[Staff, Depends(current_staff)]


def staff_with(*roles: Role) -> Callable[[Staff], Awaitable[Staff]]:
    """A dependency: the logged-in staff member if they hold one of ``roles``, else 403."""

    async def dependency(staff: StaffDep) -> Staff:
        if not staff.has_role(*roles):
            raise Forbidden
        return staff

    return dependency


CoordinatorDep = Annotated[Staff, Depends(staff_with(Role.CARE_COORDINATOR))]
TrajectoryStaffDep = Annotated[Staff, Depends(staff_with(Role.CARE_COORDINATOR, Role.COACH))]
#: The trajectory page and its logbook: also a district coach (the service decides which cases).
CaseStaffDep = Annotated[
    Staff, Depends(staff_with(Role.CARE_COORDINATOR, Role.COACH, Role.DISTRICT_COACH))
]


async def verify_csrf(request: Request, staff: StaffDep) -> None:
    """A logged-in form must carry its session's CSRF token (`CsrfRefused`, 403, otherwise)."""
    if not tokens_match(staff.csrf_token, await form_value(request, CSRF_FIELD)):
        raise CsrfRefused


async def verify_form_csrf(request: Request) -> None:
    """A form shown before login must carry the token of its cookie (double submit)."""
    if not tokens_match(request.cookies.get(FORM_COOKIE), await form_value(request, CSRF_FIELD)):
        raise CsrfRefused


#: Put on every staff POST route: ``@router.post(..., dependencies=[CsrfProtected])``.
CsrfProtected = Depends(verify_csrf)
#: Put on every POST route before login.
FormCsrfProtected = Depends(verify_form_csrf)
