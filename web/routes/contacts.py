"""Contact details (issue 12, e-mail as a second channel): a person's e-mail address and the
channel they prefer, for the school's administrators and care coordinators.

``GET /contacts`` lists the people whose e-mail address does not work (refused or bounced:
the care coordinators were told) and, with ``?number=``, one person's details with a form to
change them. ``POST /contacts/<person id>`` saves (`services.accounts.contacts.set_contact`:
validated, audited; a new address clears the bounce mark). Every request re-checks the role
and the school in the service; another school's person and an unknown id give the same 404.
"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from dialogs.text import N_, Text
from services.accounts.contacts import (
    EMAIL_MAX,
    NUMBER_MAX,
    PREFERENCES,
    contact_overview,
    set_contact,
)
from services.kernel.errors import InputInvalid, NotAllowed, NotFound
from storage.models import Role
from web.deps import CsrfProtected, Staff, UnitOfWork, UnitOfWorkDep, WebDep, staff_with
from web.errors import NotAvailable
from web.nav import NavItem
from web.pages import render_page

log = logging.getLogger(__name__)

PATH = "/contacts"
ContactStaffDep = Annotated[Staff, Depends(staff_with(Role.CARE_COORDINATOR, Role.ADMIN))]

NAV = (
    NavItem(
        "contacts",
        PATH,
        N_("Contact details"),
        frozenset({Role.CARE_COORDINATOR, Role.ADMIN}),
        order=70,
    ),
)

#: The preference choices as the form shows them.
PREFERENCE_LABELS: dict[str, str] = {
    "auto": N_("Telegram if linked, else e-mail"),
    "telegram": N_("Telegram"),
    "email": N_("E-mail"),
}


async def _page(
    *,
    request: Request,
    web: WebDep,
    staff: Staff,
    uow: UnitOfWork,
    number: str,
    status_code: int = 200,
    done: bool = False,
    email_value: str | None = None,
    preference_value: str | None = None,
    problem: Text | None = None,
) -> Response:
    try:
        overview = await uow(
            lambda session: contact_overview(
                session=session, viewer=staff.person, number=number, now=web.now()
            )
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    person = overview.person
    return render_page(
        request,
        "contacts.html",
        staff=staff,
        status_code=status_code,
        overview=overview,
        number=number[:NUMBER_MAX],
        person=person,
        email_value=email_value if email_value is not None else (person.email if person else ""),
        preference_value=preference_value or (person.preference if person else "auto"),
        preferences=[(code, Text.of(PREFERENCE_LABELS[code])) for code in PREFERENCES_SHOWN],
        problem=problem,
        done=done,
        limits={"email": EMAIL_MAX, "number": NUMBER_MAX},
    )


#: In the order the form shows them.
PREFERENCES_SHOWN = ("auto", "email", "telegram")
assert set(PREFERENCES_SHOWN) == set(PREFERENCES)  # noqa: S101 - a module-level consistency check


async def contacts_page(
    *,
    request: Request,
    web: WebDep,
    staff: ContactStaffDep,
    uow: UnitOfWorkDep,
    number: str = "",
    done: str = "",
) -> Response:
    """The people whose address does not work, and one person's details when asked."""
    return await _page(
        request=request, web=web, staff=staff, uow=uow, number=number, done=done == "1"
    )


async def save_contact(
    *,
    request: Request,
    web: WebDep,
    staff: ContactStaffDep,
    uow: UnitOfWorkDep,
    person_id: int,
    number: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    preference: Annotated[str, Form()] = "auto",
) -> Response:
    """Save the address and the preference; a bad address shows the form again, kept."""
    try:
        await uow(
            lambda session: set_contact(
                session=session,
                actor=staff.person,
                person_id=person_id,
                email=email[: EMAIL_MAX * 2],
                preference=preference[:20],
                now=web.now(),
            )
        )
    except (NotAllowed, NotFound) as refused:
        raise NotAvailable from refused
    except InputInvalid as refused:
        log.info("contact change of person_id=%s refused (input)", person_id)
        return await _page(
            request=request,
            web=web,
            staff=staff,
            uow=uow,
            number=number,
            status_code=422,
            email_value=email[: EMAIL_MAX * 2],
            preference_value=preference if preference in PREFERENCES else None,
            problem=refused.reason,
        )
    query = urlencode({"number": number[:NUMBER_MAX], "done": "1"})
    return RedirectResponse(f"{PATH}?{query}", status_code=303)


def build_router() -> APIRouter:
    """A fresh router with the contact page and its form."""
    router = APIRouter()
    router.add_api_route(PATH, contacts_page, methods=["GET"])
    router.add_api_route(
        f"{PATH}/{{person_id:int}}", save_contact, methods=["POST"], dependencies=[CsrfProtected]
    )
    return router
