"""The AVG rights of a person (issue 13) for the school's care coordinators and administrators.

=====================================  ========================================================
``/privacy?number=S1001``              find a person by their number (administration system)
``/privacy/people/<id>``               the person: download everything (JSON, PDF); for an
                                       administrator the erasure form (the name typed to confirm)
``/privacy/people/<id>/export.json``   everything stored about the person, as JSON (audited)
``/privacy/people/<id>/export.pdf``    the same as a readable PDF in the reader's language
``POST /privacy/people/<id>/erase``    erase the person (administrator; audited)
=====================================  ========================================================

Every request goes through `services.privacy.views`, which re-checks the role and the school
from the database; another school's person and an unknown id give the same 404.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from dialogs.text import N_, Text
from services.kernel.errors import InputInvalid, NotAllowed, NotFound
from services.privacy.export_pdf import MEDIA_TYPE, file_name, render_export_pdf
from services.privacy.views import (
    Channel,
    PrivacySubject,
    erase,
    export_person,
    find_person,
    privacy_subject,
)
from storage.models import Role
from web.deps import CsrfProtected, Staff, UnitOfWork, UnitOfWorkDep, WebDep, staff_with
from web.errors import NotAvailable
from web.nav import NavItem
from web.pages import render_page

log = logging.getLogger(__name__)

PATH = "/privacy"
NUMBER_MAX = 64
NAME_MAX = 210
PrivacyStaffDep = Annotated[Staff, Depends(staff_with(Role.CARE_COORDINATOR, Role.ADMIN))]

NAV = (
    NavItem(
        "privacy",
        PATH,
        N_("Privacy"),
        frozenset({Role.CARE_COORDINATOR, Role.ADMIN}),
        order=72,
    ),
)


async def find_page(
    *, request: Request, staff: PrivacyStaffDep, uow: UnitOfWorkDep, number: str = ""
) -> Response:
    """The search by number; a known number leads to the person's page."""
    number = number.strip()[:NUMBER_MAX]
    unknown = False
    if number:
        try:
            person_id = await uow(lambda s: _person_id(s, staff.person.school_id, number))
        except NotFound:
            unknown = True
        else:
            return RedirectResponse(f"{PATH}/people/{person_id}", status_code=303)
    return render_page(
        request,
        "privacy.html",
        staff=staff,
        status_code=404 if unknown else 200,
        number=number,
        unknown=unknown,
        subject=None,
        limits={"number": NUMBER_MAX, "name": NAME_MAX},
    )


async def _person_id(session: Any, school_id: int, number: str) -> int:
    return (await find_person(session=session, school_id=school_id, external_id=number)).id


async def _subject(web: WebDep, staff: Staff, uow: UnitOfWork, person_id: int) -> PrivacySubject:
    try:
        return await uow(
            lambda s: privacy_subject(
                session=s, actor=staff.person, person_id=person_id, now=web.now()
            )
        )
    except (NotAllowed, NotFound) as refused:
        raise NotAvailable from refused


async def person_page(
    *,
    request: Request,
    web: WebDep,
    staff: PrivacyStaffDep,
    uow: UnitOfWorkDep,
    person_id: int,
    done: str = "",
) -> Response:
    """The person: the downloads and, for an administrator, the erasure form."""
    subject = await _subject(web, staff, uow, person_id)
    return _person(request, staff, subject, done=done == "1")


def _person(
    request: Request,
    staff: Staff,
    subject: PrivacySubject,
    *,
    done: bool = False,
    problem: Text | None = None,
    status_code: int = 200,
) -> Response:
    return render_page(
        request,
        "privacy.html",
        staff=staff,
        status_code=status_code,
        number=subject.external_id,
        unknown=False,
        subject=subject,
        may_erase=staff.has_role(Role.ADMIN) and staff.person.id != subject.person_id,
        done=done,
        problem=problem,
        limits={"number": NUMBER_MAX, "name": NAME_MAX},
    )


async def _export(
    web: WebDep, staff: Staff, uow: UnitOfWork, person_id: int, form: str
) -> dict[str, Any]:
    try:
        return await uow(
            lambda s: export_person(
                session=s,
                actor=staff.person,
                person_id=person_id,
                now=web.now(),
                channel=Channel.WEB,
                form=form,
            )
        )
    except (NotAllowed, NotFound) as refused:
        raise NotAvailable from refused


def _download(data: bytes, media_type: str, name: str) -> Response:
    return Response(
        data,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


async def export_json(
    web: WebDep, staff: PrivacyStaffDep, uow: UnitOfWorkDep, person_id: int
) -> Response:
    """Everything about the person as JSON (audited)."""
    data = await _export(web, staff, uow, person_id, "json")
    body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    return _download(body, "application/json", file_name(data, "json"))


async def export_pdf(
    web: WebDep, staff: PrivacyStaffDep, uow: UnitOfWorkDep, person_id: int
) -> Response:
    """Everything about the person as a PDF in the reader's language (audited)."""
    data = await _export(web, staff, uow, person_id, "pdf")
    catalog = web.catalog(staff.person.language)
    body = await asyncio.to_thread(render_export_pdf, data, catalog)
    return _download(body, MEDIA_TYPE, file_name(data, "pdf"))


async def erase_person(
    *,
    request: Request,
    web: WebDep,
    staff: PrivacyStaffDep,
    uow: UnitOfWorkDep,
    person_id: int,
    name: Annotated[str, Form()] = "",
    force: Annotated[str, Form()] = "",
) -> Response:
    """Erase the person (administrator; the name typed must be the person's)."""
    try:
        await uow(
            lambda s: erase(
                session=s,
                actor=staff.person,
                person_id=person_id,
                now=web.now(),
                channel=Channel.WEB,
                force=force == "1",
                typed_name=name[:NAME_MAX],
            )
        )
    except NotFound as refused:
        raise NotAvailable from refused
    except NotAllowed as refused:
        subject = await _subject(web, staff, uow, person_id)
        return _person(request, staff, subject, problem=refused.reason, status_code=403)
    except InputInvalid as refused:
        log.info("erasure of person_id=%s refused", person_id)
        subject = await _subject(web, staff, uow, person_id)
        return _person(request, staff, subject, problem=refused.reason, status_code=422)
    return RedirectResponse(f"{PATH}/people/{person_id}?done=1", status_code=303)


def build_router() -> APIRouter:
    """A fresh router with the privacy pages, the downloads and the erasure."""
    router = APIRouter()
    router.add_api_route(PATH, find_page, methods=["GET"])
    people = f"{PATH}/people/{{person_id:int}}"
    router.add_api_route(people, person_page, methods=["GET"])
    router.add_api_route(people + "/export.json", export_json, methods=["GET"])
    router.add_api_route(people + "/export.pdf", export_pdf, methods=["GET"])
    router.add_api_route(
        people + "/erase", erase_person, methods=["POST"], dependencies=[CsrfProtected]
    )
    return router
