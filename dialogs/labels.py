"""Labels of stored codes (statuses, kinds, urgency, …) as translatable `Text`.

One place, so the web pages and the command line (`trajectbot queue`) name things alike (it
lived in `web/labels.py`, which re-exports it). A code without a label (a kind added by a later
feature) shows as the code itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from dialogs.flow import Option
from dialogs.flows.verwijzing import SUPPORT, URGENCY, WEEKDAYS
from dialogs.text import N_, Text

QUEUE_STATUS: dict[str, str] = {
    "new": N_("new"),
    "in_progress": N_("in progress"),
    "waiting": N_("waiting"),
    "closed": N_("closed"),
}
QUEUE_KIND: dict[str, str] = {
    "referral": N_("referral"),
    "timeout_request": N_("time-out request"),
    "exit_survey": N_("exit questionnaire"),
}
URGENCY_SHORT: dict[str, str] = {"low": N_("low"), "normal": N_("normal"), "high": N_("high")}
WAITING_REASON: dict[str, str] = {
    "care_team": N_("waiting for the care team (ZAT)"),
    "intake": N_("waiting for the intake"),
}
TRAJECTORY_STATUS: dict[str, str] = {
    "planned": N_("planned"),
    "intake_held": N_("intake held — plan to complete"),
    "active": N_("active"),
    "closed": N_("closed"),
}
DECISION: dict[str, str] = {"accepted": N_("accepted"), "declined": N_("declined")}


def label(labels: Mapping[str, str], code: str | StrEnum | None) -> Text:
    """The label of ``code`` (its raw value when the mapping has none; empty for ``None``)."""
    if code is None:
        return Text.raw("")
    value = str(code.value if isinstance(code, StrEnum) else code)
    message = labels.get(value)
    return Text.of(message) if message is not None else Text.raw(value)


def option_label(options: Iterable[Option], code: str | StrEnum) -> Text:
    """The label of an option code of a flow (urgency, support, weekdays)."""
    value = str(code.value if isinstance(code, StrEnum) else code)
    for option in options:
        if option.code == value:
            return option.label
    return Text.raw(value)


def urgency_label(code: str | StrEnum) -> Text:
    """The urgency as the mentor chose it: "High (this week)"."""
    return option_label(URGENCY, code)


def support_labels(codes: Iterable[str | StrEnum]) -> tuple[Text, ...]:
    """The kinds of support asked for."""
    return tuple(option_label(SUPPORT, code) for code in codes)


def weekday_labels(codes: Iterable[str | StrEnum]) -> tuple[Text, ...]:
    """Weekday names."""
    return tuple(option_label(WEEKDAYS, code) for code in codes)
