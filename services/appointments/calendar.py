"""The .ics file of an appointment (RFC 5545), built with the icalendar library.

One event per file, in the school's time zone (Europe/Amsterdam) with its VTIMEZONE, so every
calendar app shows the right wall-clock time on both sides of a DST change. The UID is stable
per appointment and SEQUENCE is the appointment's version: a moved appointment's file replaces
the earlier one, a cancelled one (METHOD:CANCEL, STATUS:CANCELLED) removes it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

from storage.models import AppointmentKind

SCHOOL_ZONE = ZoneInfo("Europe/Amsterdam")
PRODUCT_ID = "-//trajectbot//appointments//NL"


class CalendarEntry(Protocol):
    """What a calendar file needs of an appointment (an `AppointmentView` has it)."""

    @property
    def appointment_id(self) -> int: ...
    @property
    def kind(self) -> AppointmentKind: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def version(self) -> int: ...


def uid_of(appointment_id: int) -> str:
    """The calendar UID of an appointment: the same for every version of it."""
    return f"appointment-{appointment_id}@trajectbot"


def calendar_file(
    entry: CalendarEntry,
    *,
    title: str,
    location: str | None,
    cancelled: bool = False,
    zone: ZoneInfo = SCHOOL_ZONE,
    stamp: datetime | None = None,
) -> bytes:
    """The .ics bytes for ``entry``; ``title`` and ``location`` come rendered from the channel.

    ``stamp`` (DTSTAMP) defaults to now; tests pass a fixed one.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    start = entry.starts_at.astimezone(zone)
    first = date(start.year - 1, 1, 1)
    calendar.add_component(
        Timezone.from_tzinfo(zone, first_date=first, last_date=first + timedelta(days=3 * 366))
    )
    event = Event()
    event.add("uid", uid_of(entry.appointment_id))
    event.add("sequence", entry.version)
    event.add("dtstamp", (stamp or datetime.now(UTC)).astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", entry.ends_at.astimezone(zone))
    event.add("summary", title)
    if location:
        event.add("location", location)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("categories", [entry.kind.value])
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
