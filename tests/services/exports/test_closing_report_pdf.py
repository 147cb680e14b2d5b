"""The closing report's PDF (pure: a report in, bytes out): Dutch, the intake report's fonts,
names in any script (Arabic shaped, read back in logical order), every section's content, a
file name without the student's name."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader

from dialogs.i18n import Catalogs
from services.exports.closing_report_pdf import file_name, render_closing_report_pdf
from services.exports.rules import SCHOOL_LANGUAGE, ClosingEvaluation, ClosingReport
from storage.models import AppointmentKind, EvaluationKind

NL = Catalogs().get(SCHOOL_LANGUAGE)


def _report() -> ClosingReport:
    return ClosingReport(
        trajectory_id=41,
        school_name="Scholengemeenschap De Brug",
        student_name="ليلى حداد",
        student_number="100555",
        group_name="2B",
        goals="Leila vraagt op tijd om hulp.\nZe plant haar huiswerk met de coach.",
        start=date(2026, 3, 2),
        end=date(2026, 6, 26),
        intake_held_on=date(2026, 3, 2),
        closed_on=date(2026, 6, 30),
        coach_name="Олена Шевченко",
        mentor_names=("Zofia Łukasiewicz-Şahin",),
        closed_by_name="Zora Bakker",
        evaluations=(
            ClosingEvaluation(
                EvaluationKind.INTERIM, date(2026, 4, 15), date(2026, 4, 16), "Gaat beter."
            ),
            ClosingEvaluation(EvaluationKind.INTERIM, date(2026, 5, 20), None, None),
            ClosingEvaluation(
                EvaluationKind.FINAL, date(2026, 6, 26), date(2026, 6, 30), "Doelen gehaald."
            ),
        ),
        advice="Vaste plek vooraan in de klas.",
        attended=(
            (AppointmentKind.INTAKE, 1),
            (AppointmentKind.GESPREK, 6),
            (AppointmentKind.TIME_OUT, 3),
            (AppointmentKind.EVALUATION, 2),
        ),
        missed=1,
        questionnaires=(2, 3),
        made_on=date(2026, 7, 1),
    )


def test_the_pdf_holds_every_section_in_dutch_and_names_in_any_script() -> None:
    data = render_closing_report_pdf(_report(), NL)

    assert data.startswith(b"%PDF-")
    assert b"DejaVuSans" in data
    text = " ".join(
        " ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(data)).pages
    )
    for expected in (
        "Afsluitverslag",
        "ليلى حداد",
        "Олена Шевченко",
        "Zofia Łukasiewicz-Şahin",
        "Leila vraagt op tijd om hulp. Ze plant haar huiswerk met de coach.",
        "van 2 maart 2026 tot en met 26 juni 2026",
        "tussenevaluatie: gehouden op 16 april 2026",
        "Gaat beter.",
        "tussenevaluatie: gepland op 20 mei 2026, niet gehouden",
        "Doelen gehaald.",
        "Vaste plek vooraan in de klas.",
        "begeleidingsgesprek 6",
        "Afspraken: aanwezig 12",
        "Afspraken: niet gekomen 1",
        "Afgesloten op 30 juni 2026, 4 dagen na de geplande einddatum.",
        "Exit-vragenlijsten ingevuld: 2 van 3.",
    ):
        assert expected in text, expected


def test_the_file_name_carries_no_name() -> None:
    assert file_name(_report()) == "closing-report-41-2026-07-01.pdf"
