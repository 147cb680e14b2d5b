"""The intake report's PDF for the student file (pure: a report in, bytes out): a real PDF, in
Dutch, whose text (read back with pypdf) holds the student's name in any script, the goals and
the dates; nothing of the text goes into the logs."""

from __future__ import annotations

import io
import logging
from datetime import date

import pytest
from pypdf import PdfReader

from dialogs.i18n import Catalogs
from services.trajectories.intake_report import EvaluationDate, IntakeReport
from services.trajectories.intake_report_pdf import (
    FILE_LANGUAGE,
    file_name,
    needs_shaping,
    render_intake_report_pdf,
)
from storage.models import EvaluationKind

NL = Catalogs().get(FILE_LANGUAGE)
GOALS = (
    "Zofia blijft rustig in de les en vraagt op tijd hulp.\n"
    "Ze plant haar huiswerk samen met de coach."
)


def _report(**changes: object) -> IntakeReport:
    values: dict[str, object] = {
        "trajectory_id": 41,
        "school_name": "Scholengemeenschap De Brug",
        "student_name": "Zofia Łukasiewicz-Şahin",
        "group_name": "2B",
        "goals": GOALS,
        "start": date(2026, 3, 2),
        "end": date(2026, 6, 26),
        "evaluations": (
            EvaluationDate(EvaluationKind.INTERIM, date(2026, 4, 15)),
            EvaluationDate(EvaluationKind.FINAL, date(2026, 6, 26)),
        ),
        "timeouts_in_plan": True,
        "timeouts_per_week": 2,
        "coach_name": "Coen de Vries",
        "care_coordinator_names": ("Zora Bakker",),
        "mentor_names": ("Mila Jansen",),
        "parent_names": ("Олена Шевченко", "ليلى حداد"),
        "intake_held_on": date(2026, 3, 2),
        "made_on": date(2026, 3, 3),
    }
    values.update(changes)
    return IntakeReport(**values)  # type: ignore[arg-type]


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_holds_names_in_every_script_the_goals_and_dutch_dates() -> None:
    data = render_intake_report_pdf(_report(), NL)
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata is not None
    text = _text(data)
    assert "Zofia Łukasiewicz-Şahin" in text
    assert "Олена Шевченко" in text  # Cyrillic
    assert "ليلى حداد" in text  # Arabic, shaped, read back in logical order
    assert "Zofia blijft rustig in de les en vraagt op tijd hulp." in text
    assert "Ze plant haar huiswerk samen met de coach." in text
    for day in ("2 maart 2026", "26 juni 2026", "15 april 2026"):  # Babel, nl
        assert day in text
    assert "Coen de Vries" in text
    assert "Mila Jansen" in text
    assert "Zora Bakker" in text
    # The embedded font is DejaVu Sans (the built-in fonts are Latin-1 only).
    assert b"DejaVuSans" in data


def test_an_arabic_name_of_the_student_and_long_goals_fit_on_more_pages() -> None:
    goals = "Rustig blijven in de les. " * 76  # about 2,000 characters, the limit
    data = render_intake_report_pdf(_report(student_name="ليلى حداد", goals=goals.strip()), NL)
    text = _text(data)
    assert "ليلى حداد" in text
    assert text.count("Rustig blijven in de les.") == 76
    assert len(PdfReader(io.BytesIO(data)).pages) >= 1


def test_missing_glyphs_do_not_put_the_text_in_the_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    data = render_intake_report_pdf(_report(goals="Doel met 中文 tekens en een 😀 erbij."), NL)
    assert "Doel met" in _text(data)
    assert "中" not in caplog.text
    assert "Doel" not in caplog.text


def test_the_file_name_carries_no_name() -> None:
    assert file_name(_report()) == "intake-report-41-2026-03-03.pdf"


def test_only_joining_scripts_and_marks_are_shaped() -> None:
    assert needs_shaping("ليلى")
    assert needs_shaping("e\u0301")  # a combining accent
    assert not needs_shaping("Zofia Łukasiewicz-Şahin, Олена")
