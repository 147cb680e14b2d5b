"""The closing report as a PDF for the student's file (TOP Dossier / OPP): pure, a
`ClosingReport` and a catalog in, bytes out (no database, no web).

The same page, fonts (DejaVu Sans, embedded and subset) and shaping (uharfbuzz for text that
needs it: Arabic joins and runs right to left) as the intake report
(`services.trajectories.intake_report_pdf`), in the school's language
(`services.exports.rules.SCHOOL_LANGUAGE`). Free text (goals, evaluation notes, the advice)
is shown as the staff wrote it: the document is for the school's own file.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time

from babel.dates import format_date
from fpdf.enums import XPos, YPos

from dialogs.i18n import Catalog
from dialogs.text import N_, Text
from services.exports.rules import KIND_LABELS, ClosingReport, closing_outcome
from services.trajectories.intake_report_pdf import FONT_FAMILY, LINE_HEIGHT, ReportDocument
from storage.models import EvaluationKind

MEDIA_TYPE = "application/pdf"

_EVALUATION_KIND = {
    EvaluationKind.INTERIM: N_("interim evaluation"),
    EvaluationKind.FINAL: N_("final evaluation"),
}


def file_name(report: ClosingReport) -> str:
    """The download's file name (ids and dates only: no name of the student)."""
    return f"closing-report-{report.trajectory_id}-{report.made_on.isoformat()}.pdf"


def render_closing_report_pdf(report: ClosingReport, catalog: Catalog) -> bytes:
    """The closing report as a PDF document, its texts in ``catalog``'s language."""
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    logging.getLogger("fpdf").setLevel(logging.ERROR)
    pdf = ReportDocument(catalog, footer=N_("Closing report · page {page}"))
    pdf.set_title(catalog.render(Text.of(N_("Closing report"))))
    pdf.set_lang(catalog.language)
    pdf.set_creator("trajectbot")
    pdf.set_creation_date(datetime.combine(report.made_on, time(0), tzinfo=UTC))
    pdf.add_page()

    def day(value: date | None) -> str:
        return "–" if value is None else format_date(value, "long", locale=catalog.locale)

    def text(msgid: str, **params: str) -> str:
        return catalog.render(Text.of(msgid, **{k: Text.raw(v) for k, v in params.items()}))

    pdf.set_font(FONT_FAMILY, "B", 18)
    pdf.multi_cell(0, 9, text(N_("Closing report")), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT_FAMILY, "", 10)
    pdf.multi_cell(0, LINE_HEIGHT, report.school_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.multi_cell(
        0,
        LINE_HEIGHT,
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
        (text(N_("Student number")), report.student_number),
        (text(N_("Intake held on")), day(report.intake_held_on)),
        (
            text(N_("Period")),
            text(N_("from {start} to {end}"), start=day(report.start), end=day(report.end)),
        ),
        (text(N_("Closed on")), day(report.closed_on)),
        (text(N_("Coach (fixed contact)")), report.coach_name or "–"),
        (text(N_("Mentor")), ", ".join(report.mentor_names) or "–"),
        (text(N_("Closed by")), report.closed_by_name or "–"),
    ]
    for label, value in rows:
        pdf.label_row(label, value)

    pdf.heading(text(N_("Goals")))
    pdf.paragraph(report.goals or "–")

    pdf.heading(text(N_("Evaluations")))
    for evaluation in report.evaluations:
        kind = catalog.render(Text.of(_EVALUATION_KIND[evaluation.kind]))
        if evaluation.held_on is not None:
            line = text(N_("{kind}: held on {date}"), kind=kind, date=day(evaluation.held_on))
        else:
            line = text(
                N_("{kind}: planned on {date}, not held"), kind=kind, date=day(evaluation.due_on)
            )
        pdf.paragraph(f"• {line}")
        if evaluation.notes and evaluation.kind is not EvaluationKind.FINAL:
            pdf.paragraph(evaluation.notes)

    pdf.heading(text(N_("Final evaluation")))
    final = report.final_evaluation
    pdf.paragraph((final.notes if final is not None else None) or "–")

    pdf.heading(text(N_("Advice for the school")))
    pdf.paragraph(report.advice or "–")

    pdf.heading(text(N_("Support given")))
    for kind, count in report.attended:
        pdf.label_row(catalog.render(Text.of(KIND_LABELS[kind])), str(count))
    pdf.label_row(text(N_("Appointments attended")), str(report.attended_total))
    pdf.label_row(text(N_("Appointments missed")), str(report.missed))

    pdf.heading(text(N_("Outcome")))
    pdf.paragraph(catalog.render(closing_outcome(report.end, report.closed_on, day)))
    answered, invited = report.questionnaires
    pdf.paragraph(
        text(
            N_("Exit questionnaires answered: {answered} of {invited}."),
            answered=str(answered),
            invited=str(invited),
        )
    )

    pdf.ln(6)
    pdf.set_font(FONT_FAMILY, "", 8)
    pdf.multi_cell(
        0,
        4,
        text(N_("Made on {date}."), date=day(report.made_on)),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    return bytes(pdf.output())


__all__ = ["MEDIA_TYPE", "file_name", "render_closing_report_pdf"]
