"""The administrator imports the school's people from the web (a tab of the settings area).

The same import as ``trajectbot import`` (`services.accounts.roster.sync.sync_people`): a
OneRoster bundle (.zip) or the project's CSV, full sync for OneRoster and partial for the CSV
(the report's first line says which); for a OneRoster export of several schools the school is
named in "School in the export" (the command line's ``--org``). Two buttons on one form:
"Check the file" plans and shows what would change and every bad row, writing nothing;
"Import" plans again from the file sent with it and writes (refused while there are bad rows,
unless the administrator ticked to leave them out). Nothing is kept between the two: a second
machine behind the load balancer, or a file changed in between, cannot import what was not
checked the second time.

The service checks the administrator again from the database and imports into their own
school only (no school is taken from the request); the file decides the administration
system's roles only; the audit row (``people.import``) names them and holds counts only. The
report is the command line's (`roster.report.report_lines`). The file is bounded
(`UPLOAD_MAX_BYTES`) before it is read, kept in a private temporary directory for the run and
removed after it.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile as StarletteUpload

from dialogs.text import N_, Text
from dialogs.typed_text import has_control
from services.accounts.roster.report import report_lines
from services.accounts.roster.sync import SyncResult, sync_people
from services.kernel.errors import NotAllowed
from services.settings.school import SchoolSettings
from web.deps import CsrfProtected, SessionDep
from web.errors import Forbidden, TooLarge, too_large
from web.routes.settings import AdminDep, admin_settings, settings_page
from web.runtime import web_of

log = logging.getLogger(__name__)

#: A school of 2,000 students with their parents and teachers is about 1 MB of OneRoster.
UPLOAD_MAX_MB = 20
UPLOAD_MAX_BYTES = UPLOAD_MAX_MB * 1024 * 1024
#: A OneRoster org's identifier or sourcedId (the command line's ``--org``).
ORG_MAX = 64
#: What is kept of the sent file's name (it is shown in the report's lines).
NAME_MAX = 80
_UNSAFE = re.compile(r"[^\w.\- ]+")

FIX_HINT = Text.of(N_("Fix the rows, or tick “Leave the bad rows out” and import the others."))
CHECKED = Text.of(N_("The file can be imported. To import it, choose it again and press “Import”."))


async def _bounded(request: Request) -> AsyncIterator[None]:
    # Before the form is parsed (the CSRF check reads it): a request that says it is larger
    # than the limit is refused without spooling it.
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > UPLOAD_MAX_BYTES + 64 * 1024:
        raise TooLarge(UPLOAD_MAX_MB)
    try:
        yield
    finally:
        # Starlette spools the sent file to a temporary file; it goes when the request is
        # done, whatever the answer was (a refused token included).
        form = getattr(request, "_form", None)
        if form is not None:
            await form.close()


async def import_page(request: Request, *, staff: AdminDep, session: SessionDep) -> Response:
    """The form: choose a file, check it, import it."""
    found = await admin_settings(session, staff, web_of(request).now())
    return _page(request, staff, found)


async def import_file(request: Request, *, staff: AdminDep, session: SessionDep) -> Response:
    """Check (``action=check``, writes nothing) or import the file sent; show the report.

    The form is read here, not by FastAPI's parameters: those would read the whole body before
    the size check (`_bounded`) could refuse it.
    """
    form = await request.form()
    sent = form.get("file")
    file = sent if isinstance(sent, StarletteUpload) else None
    action = form.get("action")
    skip_bad_rows = form.get("skip_bad_rows")
    sent_org = form.get("org")
    org = sent_org.strip() if isinstance(sent_org, str) else ""
    web = web_of(request)
    found = await admin_settings(session, staff, web.now())
    skip = skip_bad_rows == "yes"
    if len(org) > ORG_MAX or has_control(org):
        problem = Text.plural_of(
            "Please write at most {count} character.",
            "Please write at most {count} characters.",
            ORG_MAX,
        )
        return _page(request, staff, found, org=org[:ORG_MAX], org_problem=problem, status=422)
    if file is None or not file.filename:
        return _page(
            request, staff, found, problem=Text.of(N_("Choose a file to import.")), status=422
        )
    data = await file.read(UPLOAD_MAX_BYTES + 1)
    if len(data) > UPLOAD_MAX_BYTES:
        return _page(request, staff, found, problem=too_large(UPLOAD_MAX_MB), status=413)
    dry_run = action != "import"
    with tempfile.TemporaryDirectory(prefix="trajectbot-import-") as folder:
        path = Path(folder) / _safe_name(file.filename)
        path.write_bytes(data)
        try:
            result = await sync_people(
                web.app.sessions,
                path=path,
                school_code=None,
                now=web.now(),
                dry_run=dry_run,
                skip_bad_rows=skip,
                org=org or None,
                actor=staff.person,
            )
        except NotAllowed as refused:
            raise Forbidden from refused
    log.info(
        "people import by person_id=%s: %s, %s",
        staff.person.id,
        "checked" if dry_run else "run",
        _outcome(result),
    )
    lines = report_lines(result, dry_run=dry_run, fix_hint=FIX_HINT)
    if dry_run and not result.fatal and not result.refused:
        lines.append((CHECKED, False))
    failed = bool(result.fatal) or result.refused
    return _page(
        request,
        staff,
        found,
        lines=lines,
        written=result.written,
        skip=skip,
        org=org,
        status=422 if failed else 200,
    )


def _outcome(result: SyncResult) -> str:
    # For the log: what happened, never a name or an id from the file.
    if result.fatal:
        return "unreadable"
    if result.refused:
        return "refused (bad rows)"
    return "written" if result.written else "planned"


def _safe_name(sent: str) -> str:
    """The sent file's own name without any folder, unusual characters or excess length;
    ``.zip`` decides that it is read as a OneRoster bundle."""
    name = _UNSAFE.sub("_", sent.replace("\\", "/").rsplit("/", 1)[-1]).strip(". ")
    suffix = ".zip" if name.lower().endswith(".zip") else ".csv"
    stem = name[: -len(suffix)] if name.lower().endswith(suffix) else name
    return f"{stem[: NAME_MAX - len(suffix)] or 'people'}{suffix}"


def _page(
    request: Request,
    staff: AdminDep,
    found: SchoolSettings,
    *,
    problem: Text | None = None,
    lines: list[tuple[Text, bool]] | None = None,
    written: bool = False,
    skip: bool = False,
    org: str = "",
    org_problem: Text | None = None,
    status: int = 200,
) -> Response:
    return settings_page(
        request,
        "people.html",
        staff=staff,
        found=found,
        section="people",
        status_code=status,
        file_problem=problem,
        lines=lines or [],
        written=written,
        skip=skip,
        org=org,
        org_problem=org_problem,
        org_max=ORG_MAX,
        upload_max_mb=UPLOAD_MAX_MB,
    )


def build_router() -> APIRouter:
    """A fresh router with the import page (a tab of the settings area, `settings.SECTIONS`)."""
    router = APIRouter()
    router.add_api_route("/settings/people", import_page, methods=["GET"])
    router.add_api_route(
        "/settings/people",
        import_file,
        methods=["POST"],
        dependencies=[Depends(_bounded), CsrfProtected],
    )
    return router
