"""Short flows a care coordinator runs on one queue item: decline a referral or a time-out
request with a reason, add a note.

The item is a preset answer (`QUEUE_ITEM`), not a question: the flow starts from the item's
own buttons, and storage checks again that this person may act on it.
"""

from __future__ import annotations

from dialogs.flow import Flow, Step, StepKind
from dialogs.text import N_

QUEUE_ITEM = "queue_item_id"

DECLINE = Flow(
    id="queue_decline",
    version=1,
    title=N_("Decline a referral"),
    done=N_(
        "The referral is declined. The mentor gets a message and reads your reason in the chat."
    ),
    steps=(
        Step(
            "reason",
            StepKind.TEXT,
            min_length=5,
            max_length=1000,
            prompt=N_(
                "Why do you decline this referral? The reason stays in the file, and the "
                "mentor who referred reads it in the chat (not on the lock screen)."
            ),
            label=N_("Reason"),
            example=N_(
                "First try a seat change and a talk with the parents; refer again in "
                "six weeks if that does not help."
            ),
        ),
        Step("summary", StepKind.SUMMARY, prompt=N_("Decline this referral?"), label=N_("Summary")),
    ),
)

TIMEOUT_DECLINE = Flow(
    id="timeout_decline",
    version=1,
    title=N_("Decline a time-out request"),
    done=N_("The time-out request is declined. The student gets a message (without your reason)."),
    steps=(
        Step(
            "reason",
            StepKind.TEXT,
            min_length=5,
            max_length=1000,
            prompt=N_(
                "Why do you decline this time-out request? The reason stays in the file; the "
                "student hears only that it was not approved this time."
            ),
            label=N_("Reason"),
            example=N_(
                "Two time-outs this week already; first talk with the mentor about the plan."
            ),
        ),
        Step(
            "summary",
            StepKind.SUMMARY,
            prompt=N_("Decline this time-out request?"),
            label=N_("Summary"),
        ),
    ),
)

NOTE = Flow(
    id="queue_note",
    version=1,
    title=N_("Add a note"),
    done=N_("The note is saved."),
    steps=(
        Step(
            "text",
            StepKind.TEXT,
            max_length=2000,
            prompt=N_("Type your note. Notes are internal: only care coordinators see them."),
            label=N_("Note"),
            example=N_("Called the mother: she agrees with an intake next week."),
        ),
        Step("summary", StepKind.SUMMARY, prompt=N_("Save this note?"), label=N_("Summary")),
    ),
)
