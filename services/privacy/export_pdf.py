"""The export of one person as a readable PDF: pure, the export's data and a catalog in,
bytes out (no database, no web).

The page, fonts (DejaVu Sans, embedded) and shaping (Arabic joins, right to left) of the
intake report (`services.trajectories.intake_report_pdf.ReportDocument`), in the requester's
language. Each section of the JSON export (`services.privacy.collect.SECTIONS`) gets a
translated heading; its rows are shown field by field with the field's name as in the JSON
(the PDF and the JSON say the same, the JSON is the complete, machine-readable one).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from fpdf.enums import XPos, YPos

from dialogs.i18n import Catalog
from dialogs.text import N_, Text
from services.privacy.collect import SECTIONS
from services.trajectories.intake_report_pdf import FONT_FAMILY, LINE_HEIGHT, ReportDocument

MEDIA_TYPE = "application/pdf"

_TITLES: dict[str, str] = {
    "person": N_("Personal details"),
    "roles": N_("Roles"),
    "links": N_("Links (ids of mentors, mentees, parents, children)"),
    "referrals_as_student": N_("Referrals about this person"),
    "referrals_as_mentor": N_("Referrals written by this person"),
    "queue_items": N_("Queue items of these referrals"),
    "queue_notes_about": N_("Notes about this person"),
    "queue_notes_written": N_("Notes written by this person"),
    "trajectories": N_("Trajectories"),
    "evaluations": N_("Evaluations"),
    "logbook_about": N_("Logbook entries about this person"),
    "logbook_written": N_("Logbook entries written by this person"),
    "appointments": N_("Appointments"),
    "timeout_requests": N_("Time-out requests"),
    "survey_invitations": N_("Questionnaire invitations"),
    "survey_responses": N_("Questionnaires answered"),
    "survey_answers": N_("Questionnaire answers"),
    "conversations": N_("Conversations with the bot"),
    "outbox": N_("Messages sent (kind and dates)"),
    "audit": N_("Audit trail"),
    "web_accounts": N_("Web accounts"),
    "web_sessions": N_("Web sessions"),
    "login_links": N_("Login links"),
    "invites": N_("Invitations"),
    "web_chat_sessions": N_("Web chat sessions"),
    "coach_hours": N_("Coach hours"),
    "consents": N_("Consents"),
    "district_coach_requests": N_("District coach requests"),
    "care_team_cases": N_("Care team cases"),
    "care_team_meetings_created": N_("Care team meetings planned by this person"),
    "support_activities": N_("Observations and teacher support"),
    "student_events": N_("Student events (OPP, TLV, absence)"),
    "visitation_reports_recorded": N_("Visitation reports recorded by this person"),
    "indicator_targets_set": N_("Indicator targets set by this person"),
    "queue_filter_sets": N_("Saved queue views"),
}

#: Each value shown is cut at this length (a conversation's stored state can be long).
_MAX_VALUE = 2000


def file_name(data: dict[str, Any], extension: str) -> str:
    """The download's file name (the person's id and the date only: no name)."""
    made = str(data.get("made_at", ""))[:10]
    return f"person-export-{data['person']['id']}-{made}.{extension}"


def _value(value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, dict | list):
        shown = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        shown = str(value)
    return shown if len(shown) <= _MAX_VALUE else shown[:_MAX_VALUE] + "…"


def render_export_pdf(data: dict[str, Any], catalog: Catalog) -> bytes:
    """The export as a PDF document, its headings in ``catalog``'s language."""
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    logging.getLogger("fpdf").setLevel(logging.ERROR)
    pdf = ReportDocument(catalog, footer=N_("Personal data · page {page}"))

    def text(msgid: str, **params: str) -> str:
        return catalog.render(Text.of(msgid, **{k: Text.raw(v) for k, v in params.items()}))

    title = text(N_("Personal data"))
    pdf.set_title(title)
    pdf.set_lang(catalog.language)
    pdf.set_creator("trajectbot")
    pdf.set_creation_date(datetime.fromisoformat(data["made_at"]).astimezone(UTC))
    pdf.add_page()
    pdf.set_font(FONT_FAMILY, "B", 18)
    pdf.multi_cell(0, 9, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT_FAMILY, "", 10)
    person = data["person"]
    pdf.multi_cell(
        0,
        LINE_HEIGHT,
        text(
            N_("Everything {school} stores about {name} (made {made})."),
            school=data["school"]["name"],
            name=f"{person['given_name']} {person['family_name']}",
            made=data["made_at"][:16].replace("T", " "),
        ),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.multi_cell(
        0,
        LINE_HEIGHT,
        text(N_("The JSON download holds the same data in a form for computers.")),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    for section in SECTIONS:
        pdf.heading(text(_TITLES[section]))
        content = data[section]
        if isinstance(content, dict):
            rows: list[Any] = [content]
        elif content and not isinstance(content[0], dict):
            rows = [{"": ", ".join(str(v) for v in content)}]
        else:
            rows = list(content)
        if not rows:
            pdf.paragraph(text(N_("None.")))
            continue
        for row in rows:
            for key, value in row.items():
                pdf.label_row(str(key), _value(value))
            pdf.ln(2)
    return bytes(pdf.output())


__all__ = ["MEDIA_TYPE", "file_name", "render_export_pdf"]
