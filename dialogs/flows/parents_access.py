"""Age 18 (domain.md): the adult student decides whether their parents still see their data.

Offered only to a student of 18 or older (`services.kernel.adulthood`), first in their menu
until they answered, and there for as long as they want to change it. The answer is stored by
`services.privacy.parents_access`.
"""

from __future__ import annotations

from dialogs.flow import Flow, Option, Step, StepKind
from dialogs.text import N_, Text

SHARE = "share"
YES, NO = "yes", "no"

#: Above the menu while the adult student has not answered (Telegram and web chat alike).
MENU_NOTE = N_(
    "You are 18 or older: you now decide whether your parents still see your support at "
    "school. Please answer the first question below."
)

PARENTS_ACCESS = Flow(
    id="parents_access",
    version=1,
    title=N_("Your parents' access"),
    done=N_("Thank you. Your answer has been saved; you can change it here at any time."),
    steps=(
        Step(
            SHARE,
            StepKind.SINGLE,
            prompt=N_(
                "You are 18 or older, so you decide: may your parents or carers still see "
                "your support at school here? That is your appointments, the intake report, "
                "the logbook, the messages about them and the questionnaire at the end. The "
                "school's staff keep seeing what they need either way."
            ),
            label=N_("Your parents see your support"),
            options=(
                Option(YES, Text.of(N_("Yes, they may keep seeing it"))),
                Option(NO, Text.of(N_("No, not any more"))),
            ),
            search=False,
        ),
        Step(
            "summary",
            StepKind.SUMMARY,
            prompt=N_("Please check your answer before saving it:"),
            label=N_("Summary"),
        ),
    ),
)
