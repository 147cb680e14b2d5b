"""The student's own voice (issue 15): their help question in their own words, asked in the
chat in their language once the referral is accepted (or at once, when the mentor chose so).

The referral is a preset answer (`REFERRAL`), not a question: the flow starts from the
message's button or the web chat link. The mentor's description of the student's question stays
as it was; both are shown on the referral and trajectory pages.
"""

from __future__ import annotations

from dialogs.flow import Flow, Step, StepKind
from dialogs.text import N_

REFERRAL = "referral_id"
OWN_WORDS = "own_words"
OWN_WORDS_MIN, OWN_WORDS_MAX = 5, 1000

STUDENT_VOICE = Flow(
    id="student_voice",
    version=1,
    title=N_("Your help question"),
    done=N_("Thank you. Your help question has been saved for the people who will help you."),
    steps=(
        Step(
            OWN_WORDS,
            StepKind.TEXT,
            min_length=OWN_WORDS_MIN,
            max_length=OWN_WORDS_MAX,
            prompt=N_(
                "Your mentor asked for extra support for you at school. In your own words: "
                "what would you like help with?"
            ),
            label=N_("Your help question"),
            example=N_("I want to be able to concentrate in class and plan my homework."),
        ),
        Step(
            "summary",
            StepKind.SUMMARY,
            prompt=N_("Please check your answer before sending it:"),
            label=N_("Summary"),
        ),
    ),
)
