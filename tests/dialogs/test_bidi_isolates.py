"""Bidirectional isolates (issue 14): each value isolated once, never an isolate in an isolate.

An isolate (U+2068 … U+2069) inside another hides its letters from the outer one's
first-strong rule; "Booked: {appointment}" with "{kind}, {when}" inside was isolated as a
whole, found no strong letter outside the inner isolates and ran left to right:
"تم الحجز: الخميس، 3 ،اجتماع تمهيدي ديسمبر".
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dialogs.flows.afspraken import appointment_text, kind_label
from dialogs.i18n import FSI, LANGUAGES, PDI, Catalogs
from dialogs.text import Text
from services.appointments.views import AppointmentView
from services.conversations.appointment_bindings import booked_lines
from storage.models import AppointmentKind, AppointmentStatus

CATALOGS = Catalogs()
AR = CATALOGS.get("ar")
#: Thursday 3 December 2026, 10:30 in the school's time zone (CET).
STARTS = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def _depth(text: str) -> int:
    """The deepest nesting of isolates in ``text`` (fails on an unbalanced one)."""
    depth = deepest = 0
    for char in text:
        if char == FSI:
            depth += 1
            deepest = max(deepest, depth)
        elif char == PDI:
            depth -= 1
            assert depth >= 0, f"a PDI without its FSI: {text!r}"
    assert depth == 0, f"an FSI without its PDI: {text!r}"
    return deepest


def _isolates(text: str) -> list[str]:
    """The isolated parts of ``text``, in logical order (no nesting, see `_depth`)."""
    return [part.split(PDI, 1)[0] for part in text.split(FSI)[1:]]


def _view() -> AppointmentView:
    return AppointmentView(
        appointment_id=1,
        kind=AppointmentKind.INTAKE,
        status=AppointmentStatus.BOOKED,
        starts_at=STARTS,
        ends_at=STARTS.replace(hour=10),
        student_id=2,
        student_name="Ilse Voorbeeld",
        booked_by_id=3,
        coach_name=None,
        mentor_confirmed=True,
        late_cancel=False,
        version=1,
    )


def test_the_arabic_booking_confirmation_reads_right_to_left_in_order() -> None:
    lines = [AR.render(line) for line in booked_lines(_view(), now=None)]
    booked = lines[0]
    assert _depth(booked) == 1, f"nested isolates: {booked!r}"
    kind = AR.render(kind_label(AppointmentKind.INTAKE.value))
    prefix = AR.render(Text.of("Booked: {appointment}.", appointment=Text.raw("x")))
    prefix = prefix.split(FSI, 1)[0]
    assert prefix.startswith("تم الحجز")
    # The parts in logical (reading) order: "Booked:", the kind, the whole date as one unit.
    parts = _isolates(booked)
    assert parts[0] == kind
    when = parts[1]
    assert "الخميس" in when  # Thursday
    assert "3" in when
    assert "ديسمبر" in when  # December
    assert "10:30" in when or "١٠:٣٠" in when
    assert len(parts) == 2
    assert booked.startswith(prefix)
    assert booked.index(kind) < booked.index("الخميس") < booked.index("ديسمبر")
    # The sentence's own direction is the Arabic one: its first strong letter is outside
    # every isolate and Arabic.
    assert booked.index("ت") < booked.index(FSI)
    for line in lines:
        assert _depth(line) <= 1, line


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_no_message_nests_isolates_in_any_language(language: str) -> None:
    catalog = CATALOGS.get(language)
    student = appointment_text(AppointmentKind.TIME_OUT.value, STARTS, "Ilse Voorbeeld")
    texts = [
        Text.of("Booked: {appointment}.", appointment=appointment_text("intake", STARTS)),
        Text.of("Booked: {appointment}.", appointment=student),
        Text.of("Booked: {appointment}.", appointment=Text.raw(STARTS)),
        Text.of(
            "Booked: {appointment}.",
            appointment=(Text.raw("Ilse"), Text.raw(date(2026, 12, 3)), kind_label("intake")),
        ),
    ]
    for text in texts:
        rendered = catalog.render(text)
        assert _depth(rendered) == (1 if catalog.rtl else 0), rendered
        if catalog.rtl:
            # Every value is isolated once: the date whole (weekday to time), a name whole.
            assert any("الخميس" in part and "ديسمبر" in part for part in _isolates(rendered))
