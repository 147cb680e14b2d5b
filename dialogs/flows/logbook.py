"""The coach's logbook entry from the chat (issue 14.2): offered after attendance is marked.

The appointment is a preset answer (`APPOINTMENT`), not a question: the flow starts from the
attendance message's button, and storage checks again that the appointment is on this
coach's agenda and finds its trajectory (`services.appointments.agenda`); the entry is saved
by `services.trajectories.logbook.add_logbook_entry` (cleaned, bidi controls stripped,
1–2,000 characters, audited).
"""

from __future__ import annotations

from dialogs.flow import Flow, Step, StepKind
from dialogs.text import N_

#: Preset (not asked): the appointment whose trajectory the entry is for.
APPOINTMENT = "appointment_id"
#: The limits of `services.trajectories.logbook` (a test keeps them equal).
TEXT_MIN, TEXT_MAX = 1, 2000

AGENDA_LOGBOOK = Flow(
    id="agenda_logbook",
    version=1,
    title=N_("Write in the logbook"),
    done=N_(
        "The logbook entry is saved. The student, the parents and the mentor can read it in "
        "the chat."
    ),
    steps=(
        Step(
            "text",
            StepKind.TEXT,
            min_length=TEXT_MIN,
            max_length=TEXT_MAX,
            prompt=N_(
                "What do you write in the logbook? The student, the parents and the mentor "
                "read it in the chat."
            ),
            label=N_("Logbook entry"),
            example=N_("Good talk about the test week; next time we practise asking for help."),
        ),
        Step(
            "summary", StepKind.SUMMARY, prompt=N_("Save this logbook entry?"), label=N_("Summary")
        ),
    ),
)
