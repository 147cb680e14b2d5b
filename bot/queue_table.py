"""The care coordinator's queue printed as a table (`trajectbot queue`)."""

from __future__ import annotations

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from dialogs.flows.exit_survey import RESPONDENT_LABELS
from dialogs.i18n import Catalog
from dialogs.labels import QUEUE_KIND, QUEUE_STATUS, URGENCY_SHORT, label
from dialogs.text import N_, Text
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.kernel.errors import NotAllowed
from services.kernel.uow import run_unit_of_work
from services.queue.listing import QueueEntry, list_queue
from storage.models import Person


def _kind(entry: QueueEntry, catalog: Catalog) -> str:
    # The labels of the web's queue (`dialogs.labels`): one wording on every channel.
    kind = label(QUEUE_KIND, entry.kind)
    if entry.respondent_type is None:
        return catalog.render(kind)
    # An exit questionnaire says who answered it: "exit questionnaire (parent)".
    respondent = Text.of(RESPONDENT_LABELS[entry.respondent_type.value])
    return catalog.render(Text.of(N_("{kind} ({respondent})"), kind=kind, respondent=respondent))


async def print_queue(
    app: App, *, external_id: str, school_code: str | None, catalog: Catalog
) -> int:
    """Print the queue the person may see; exit status 1 when they may not see one."""

    async def find_viewer(session: AsyncSession) -> Person | None:
        school = await find_school(session=session, code=school_code)
        return await get_person_by_external_id(
            session=session, school_id=school.id, external_id=external_id
        )

    viewer = await run_unit_of_work(app.sessions, find_viewer)
    if viewer is None:
        click.echo(
            catalog.render(
                Text.of(N_("Nobody with id “{id}” was found."), id=Text.raw(external_id))
            ),
            err=True,
        )
        return 1
    try:
        entries = await run_unit_of_work(
            app.sessions, lambda session: list_queue(session=session, viewer=viewer)
        )
    except NotAllowed:
        click.echo(
            catalog.render(Text.of(N_("Only a care coordinator can see the queue."))), err=True
        )
        return 1

    def tr(message: str) -> str:
        return catalog.render(Text.of(message))

    header = [
        tr(N_("Item")),
        tr(N_("Received")),
        tr(N_("Kind")),
        tr(N_("Status")),
        tr(N_("Urgency")),
        tr(N_("Student")),
        tr(N_("Class")),
        tr(N_("Mentor")),
    ]
    rows = [
        [
            str(e.queue_item_id),
            catalog.render(Text.raw(e.created_at)),
            _kind(e, catalog),
            catalog.render(label(QUEUE_STATUS, e.status)),
            catalog.render(label(URGENCY_SHORT, e.urgency)),
            e.student_name or "",
            e.group_name or "",
            e.mentor_name or "",
        ]
        for e in entries
    ]
    if not rows:
        click.echo(tr(N_("The queue is empty.")))
        return 0
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    for line in [header, ["-" * w for w in widths], *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    click.echo(catalog.render(Text.plural_of("{count} open item", "{count} open items", len(rows))))
    return 0
