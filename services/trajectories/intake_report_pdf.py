"""The intake report as a PDF for the school's student file (pure: an `IntakeReport` and a
catalog in, bytes out; no database, no web).

The document is in the school's language, Dutch (`FILE_LANGUAGE`): it goes into the school's
own student file, read by the school's staff, whatever language the family reads the chat in.
The labels are English source strings through the catalogs like every other text; dates are
Babel's long dates of that locale ("2 maart 2026").

Names and goals may hold any script (ł, ş, Cyrillic, Arabic): the PDF's built-in fonts are
Latin-1 only, so DejaVu Sans (committed in ``fonts/`` with its licence) is embedded, subset,
and text shaping (uharfbuzz) is on, so Arabic letters join and run right to left. A character
the font lacks (an emoji, Chinese) shows as an empty box; the text around it stays.
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from babel.dates import format_date
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from dialogs.i18n import Catalog
from dialogs.text import N_, Text
from services.trajectories.intake_report import IntakeReport, time_out_agreement
from storage.models import EvaluationKind

#: The language of the document for the student file (the school's language).
FILE_LANGUAGE = "nl"
#: The download's media type.
MEDIA_TYPE = "application/pdf"

_FONTS = Path(__file__).resolve().parent / "fonts"
_FAMILY = "DejaVuSans"
_LINE = 5.5
_LABEL_WIDTH = 55.0

_EVALUATION_KIND = {
    EvaluationKind.INTERIM: N_("interim evaluation"),
    EvaluationKind.FINAL: N_("final evaluation"),
}


def file_name(report: IntakeReport) -> str:
    """The download's file name (ids and dates only: no name of the student)."""
    return f"intake-report-{report.trajectory_id}-{report.made_on.isoformat()}.pdf"


def render_intake_report_pdf(report: IntakeReport, catalog: Catalog) -> bytes:
    """The intake report as a PDF document, its texts in ``catalog``'s language."""
    # fontTools reports every table it subsets at INFO, and fpdf2 names the characters of
    # the text a font lacks (a student's goals): no document text goes into the logs.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    logging.getLogger("fpdf").setLevel(logging.ERROR)
    pdf = _Document(catalog)
    pdf.set_title(catalog.render(Text.of(N_("Intake report"))))
    pdf.set_lang(catalog.language)
    pdf.set_creator("trajectbot")
    pdf.set_creation_date(datetime.combine(report.made_on, time(0), tzinfo=UTC))
    pdf.add_page()

    def day(value: date) -> str:
        return format_date(value, "long", locale=catalog.locale)

    def text(msgid: str, **params: str) -> str:
        return catalog.render(Text.of(msgid, **{k: Text.raw(v) for k, v in params.items()}))

    pdf.set_font(_FAMILY, "B", 18)
    pdf.multi_cell(0, 9, text(N_("Intake report")), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FAMILY, "", 10)
    pdf.multi_cell(0, _LINE, report.school_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.multi_cell(
        0,
        _LINE,
        text(N_("Confidential: for the student file.")),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(4)

    student = report.student_name
    if report.group_name:
        student = text(N_("{name} (class {group})"), name=student, group=report.group_name)
    rows = [
        (text(N_("Student")), student),
        (
            text(N_("Intake held on")),
            day(report.intake_held_on) if report.intake_held_on else "–",
        ),
        (
            text(N_("Period")),
            text(N_("from {start} to {end}"), start=day(report.start), end=day(report.end)),
        ),
        (text(N_("Coach (fixed contact)")), report.coach_name),
        (text(N_("Mentor")), _names(report.mentor_names)),
        (text(N_("Parents or carers")), _names(report.parent_names)),
        (text(N_("Care coordinator")), _names(report.care_coordinator_names)),
    ]
    for label, value in rows:
        pdf.label_row(label, value)

    pdf.heading(text(N_("Goals")))
    pdf.paragraph(report.goals)

    pdf.heading(text(N_("Agreements")))
    pdf.paragraph(catalog.render(time_out_agreement(report)))
    pdf.paragraph(
        text(
            N_(
                "The coach is the fixed contact for the student, the parents and the mentor. "
                "The plan is evaluated on the dates below; the final evaluation closes the "
                "trajectory with an advice for the school."
            )
        )
    )

    pdf.heading(text(N_("Evaluation dates")))
    for evaluation in report.evaluations:
        kind = catalog.render(Text.of(_EVALUATION_KIND[evaluation.kind]))
        line = f"{day(evaluation.due_on)}: {kind}"
        if evaluation.held_on is not None:
            line += " " + text(N_("(held on {date})"), date=day(evaluation.held_on))
        pdf.paragraph(f"• {line}")

    pdf.ln(6)
    pdf.set_font(_FAMILY, "", 8)
    pdf.multi_cell(
        0,
        4,
        text(N_("Made on {date}."), date=day(report.made_on)),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    return bytes(pdf.output())


def needs_shaping(text: str) -> bool:
    """Whether ``text`` holds letters that join or reorder (Arabic, Hebrew, Syriac, Thaana…)
    or combining marks, which only a shaping engine places right."""
    return any(
        0x0590 <= ord(char) <= 0x08FF
        or 0xFB1D <= ord(char) <= 0xFDFF
        or 0xFE70 <= ord(char) <= 0xFEFF
        or unicodedata.category(char) in ("Mn", "Me", "Mc")
        for char in text
    )


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(names) if names else "–"


class _Document(FPDF):
    """An A4 page with the embedded fonts, text shaping on, and a page footer."""

    def __init__(self, catalog: Catalog, footer: str = N_("Intake report · page {page}")) -> None:
        super().__init__(format="A4")
        self._catalog = catalog
        self._footer = footer
        self.add_font(_FAMILY, "", str(_FONTS / "DejaVuSans.ttf"))
        self.add_font(_FAMILY, "B", str(_FONTS / "DejaVuSans-Bold.ttf"))
        self.set_margins(20, 20, 20)
        self.set_auto_page_break(auto=True, margin=18)

    def multi_cell(
        self, w: float, h: float | None = None, text: str = "", *args: Any, **kwargs: Any
    ) -> Any:
        """`FPDF.multi_cell`, shaped (uharfbuzz) only when ``text`` needs it: shaping every line
        costs a second for a long Latin text that looks the same without it."""
        self.set_text_shaping(use_shaping_engine=needs_shaping(text))
        return super().multi_cell(w, h, text, *args, **kwargs)

    def footer(self) -> None:
        """The page number at the foot of every page."""
        self.set_y(-14)
        self.set_font(_FAMILY, "", 8)
        label = self._catalog.render(Text.of(self._footer, page=Text.raw(str(self.page_no()))))
        self.cell(0, 5, label, align="C")

    def label_row(self, label: str, value: str) -> None:
        """A label and its value side by side (the value may wrap)."""
        self.set_font(_FAMILY, "B", 10)
        top = self.get_y()
        self.multi_cell(_LABEL_WIDTH, _LINE, label, new_x=XPos.RIGHT, new_y=YPos.TOP)
        label_bottom = top + self._height_of(label, _LABEL_WIDTH)
        self.set_font(_FAMILY, "", 10)
        self.multi_cell(0, _LINE, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_y(max(self.get_y(), label_bottom) + 1)

    def heading(self, title: str) -> None:
        """A section's heading (on a new page when it would stand alone at the foot)."""
        if self.get_y() > self.h - self.b_margin - 30:
            self.add_page()
        else:
            self.ln(4)
        self.set_font(_FAMILY, "B", 13)
        self.multi_cell(0, 7, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def paragraph(self, body: str) -> None:
        """A paragraph of running text (line breaks kept)."""
        self.set_font(_FAMILY, "", 10)
        self.multi_cell(0, _LINE, body, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def _height_of(self, body: str, width: float) -> float:
        lines = self.multi_cell(width, _LINE, body, dry_run=True, output="LINES")
        return _LINE * max(len(lines), 1)


#: The page, fonts and shaping of this report, shared by the other documents for the student
#: file (`services.exports.closing_report_pdf`); ``footer`` is the page footer's message id.
ReportDocument = _Document
FONT_FAMILY = _FAMILY
LINE_HEIGHT = _LINE

__all__ = [
    "FILE_LANGUAGE",
    "FONT_FAMILY",
    "LINE_HEIGHT",
    "MEDIA_TYPE",
    "ReportDocument",
    "file_name",
    "render_intake_report_pdf",
]
