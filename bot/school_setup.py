"""`trajectbot school create` and `trajectbot settings …`: a school set up from the command line.

Each command is one unit of work through `services.settings`; a refused value prints every
problem in the command line's language and exits 1. Imported by `bot/cli.py` only when one
of these commands runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, time
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from dialogs.i18n import Catalog
from dialogs.text import N_, Text
from services.accounts.schools import find_school
from services.accounts.staff_accounts import NewCredentials, create_staff_account
from services.kernel.errors import InputInvalid, NotAllowed
from services.kernel.uow import run_unit_of_work
from services.settings.changes import problems_of
from services.settings.rules import WEEKDAYS, Region
from services.settings.school import (
    FirstAdmin,
    SchoolCreated,
    SchoolSettings,
    TypeSetting,
    create_school,
    school_settings,
    school_zone,
)

T = TypeVar("T")

#: What a setting command does with the school's id and the session, and what it answers.
SettingWork = Callable[[AsyncSession, int, datetime], Awaitable[Sequence[Text]]]


def say(catalog: Catalog, text: Text, *, err: bool = False) -> None:
    """Print one line in the command line's language."""
    click.echo(catalog.render(text), err=err)


def refuse(catalog: Catalog, problems: Sequence[Text]) -> int:
    """Print what is wrong (nothing was changed); the exit status 1."""
    say(catalog, Text.of(N_("Nothing was changed:")), err=True)
    for problem in problems:
        say(catalog, Text.of(N_("- {problem}"), problem=problem), err=True)
    return 1


async def run_school_create(
    app: App,
    *,
    catalog: Catalog,
    code: str,
    name: str,
    timezone: str,
    region: Region,
    admin: FirstAdmin,
    credentials: NewCredentials,
    web_url: str,
) -> int:
    """Create the school, its first admin and the admin's web account in one unit of work."""
    now = datetime.now(UTC)

    async def create(session: AsyncSession) -> SchoolCreated:
        created = await create_school(
            session=session,
            code=code,
            name=name,
            timezone=timezone,
            region=region,
            admin=admin,
            now=now,
        )
        await create_staff_account(
            session=session,
            person=created.admin,
            username=credentials.username,
            password_hash=credentials.password_hash,
            now=now,
        )
        return created

    try:
        created = await run_unit_of_work(app.sessions, create)
    except InputInvalid as refused:
        return refuse(catalog, problems_of(refused))
    say(
        catalog,
        Text.of(
            N_("School “{name}” created with code “{code}” (region {region})."),
            name=Text.raw(created.school.name),
            code=Text.raw(created.school.code),
            region=Text.raw(region.value),
        ),
    )
    say(
        catalog,
        Text.plural_of(
            "{count} closed day added from the school holidays of the region.",
            "{count} closed days added from the school holidays of the region.",
            created.holidays.added,
        ),
    )
    for line in unchecked_line(created.holidays.unchecked_years):
        say(catalog, line)
    say(
        catalog,
        Text.of(
            N_("Administrator web account “{username}” created. Log in at {url}"),
            username=Text.raw(credentials.username),
            url=Text.raw(web_url + "/login"),
        ),
    )
    say(
        catalog,
        Text.of(
            N_(
                "Next: import the people (`trajectbot import PEOPLE.csv`), give the coaches "
                "their hours (`trajectbot settings coach-hours`) and check the settings "
                "(`trajectbot settings show`)."
            )
        ),
    )
    return 0


async def run_setting(
    app: App, *, catalog: Catalog, school_code: str | None, work: SettingWork
) -> int:
    """Run one settings change on the school (one unit of work) and print its answer."""
    now = datetime.now(UTC)

    async def change(session: AsyncSession) -> Sequence[Text]:
        school = await find_school(session=session, code=school_code)
        return await work(session, school.id, now)

    try:
        lines = await run_unit_of_work(app.sessions, change)
    except InputInvalid as refused:
        return refuse(catalog, problems_of(refused))
    except NotAllowed as refused:
        return refuse(catalog, [refused.reason])
    for line in lines:
        say(catalog, line)
    return 0


def unchecked_line(years: Sequence[str]) -> list[Text]:
    """The reminder to check the holiday dates not yet compared with rijksoverheid.nl."""
    if not years:
        return []
    return [
        Text.of(
            N_(
                "Check the holiday dates of {years} against rijksoverheid.nl: they were "
                "not yet compared when this version was made. Change them with "
                "`trajectbot settings closed-day`."
            ),
            years=Text.raw(", ".join(years)),
        )
    ]


def _span(span: tuple[time, time]) -> str:
    return f"{span[0].isoformat('minutes')}-{span[1].isoformat('minutes')}"


def _type_line(kind: TypeSetting) -> Text:
    return Text.of(
        N_(
            "  {kind}: {duration} min, start every {step} min, buffer {buffer} min, "
            "{places}, booked by {bookers}, attended by {attendees}, "
            "lead time {lead}{inactive}"
        ),
        kind=Text.raw(kind.kind),
        duration=kind.duration_minutes,
        step=kind.step_minutes,
        buffer=kind.buffer_minutes,
        places=Text.plural_of("{count} place", "{count} places", kind.capacity),
        bookers=Text.raw(",".join(kind.bookable_by)),
        attendees=Text.raw(",".join(kind.attendees)),
        lead=Text.raw(
            "school" if kind.lead_time_minutes is None else f"{kind.lead_time_minutes} min"
        ),
        inactive=Text.of(N_(" (not offered)")) if not kind.active else Text.raw(""),
    )


async def print_settings(app: App, *, catalog: Catalog, school_code: str | None) -> int:
    """Print the school's settings."""

    async def read(session: AsyncSession) -> SchoolSettings:
        school = await find_school(session=session, code=school_code)
        today = datetime.now(UTC).astimezone(school_zone(school)).date()
        return await school_settings(session=session, school_id=school.id, from_day=today)

    found = await run_unit_of_work(app.sessions, read)
    out = [
        Text.of(
            N_("{name} (code “{code}”, time zone {zone}, region {region})"),
            name=Text.raw(found.name),
            code=Text.raw(found.code),
            zone=Text.raw(found.timezone),
            region=Text.raw(found.region or "-"),
        ),
        Text.of(N_("Appointment types:")),
    ]
    out.extend(_type_line(kind) for kind in found.types)
    out.append(Text.of(N_("Opening hours:")))
    for weekday, code in enumerate(WEEKDAYS):
        hours = found.opening_hours.get(weekday)
        out.append(
            Text.raw(f"  {code}: {_span(hours)}")
            if hours
            else Text.of(N_("  {day}: closed"), day=Text.raw(code))
        )
    out.append(
        Text.of(
            N_(
                "Booking: lead time {lead} min, late cancel {late} h, book ahead {horizon} "
                "days, reminder at {hour}:00, time-outs per week for new trajectories {cap}"
            ),
            lead=found.lead_time_minutes,
            late=found.late_cancel_hours,
            horizon=found.horizon_days,
            hour=found.day_reminder_hour,
            cap=found.timeouts_per_week,
        )
    )
    out.append(
        Text.plural_of(
            "Retention: care data of a closed trajectory is erased {count} month after closing "
            "(`trajectbot privacy set-retention`)",
            "Retention: care data of a closed trajectory is erased {count} months after closing "
            "(`trajectbot privacy set-retention`)",
            found.care_retention_months,
        )
    )
    out.append(Text.of(N_("Coaches' hours:")))
    for coach in found.coaches:
        days = "; ".join(
            f"{WEEKDAYS[day]} {' '.join(_span(s) for s in spans)}"
            for day, spans in sorted(coach.hours.items())
        )
        out.append(Text.raw(f"  {coach.external_id}: {days or '-'}"))
    out.append(
        Text.plural_of(
            "{count} closed day from today:",
            "{count} closed days from today:",
            len(found.closed_days),
        )
    )
    out.extend(
        Text.raw(f"  {day.isoformat()} {label or ''}".rstrip()) for day, label in found.closed_days
    )
    for line in out:
        say(catalog, line)
    return 0
