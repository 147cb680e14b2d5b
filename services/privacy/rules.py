"""The AVG rules, pure: what an erased person is called, when care data expires, what the
pruning keeps, and how an audit row's details lose a name. No database, no session."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from dialogs.text import N_, Text

#: The export's structure (``format`` and ``version`` at the top of the JSON; docs/operations.md).
EXPORT_FORMAT = "trajectbot.person-export"
EXPORT_VERSION = 2

#: What an erased person is called: "Verwijderd 1234" (the id, so rows stay distinguishable).
ERASED_GIVEN_NAME = "Verwijderd"

#: A school's retention period (months after closing) unless it sets another, and the range.
DEFAULT_RETENTION_MONTHS = 24
MIN_RETENTION_MONTHS = 1
MAX_RETENTION_MONTHS = 120

#: Telegram redelivers an update for at most a day; ids older than this are pruned.
PROCESSED_UPDATE_DAYS = 14

#: A finished conversation (completed or cancelled) keeps its answers, free text included, for
#: nothing: the chat only continues active ones. Pruned this long after its last change.
FINISHED_CONVERSATION_DAYS = 30


def finished_conversation_cutoff(now: datetime) -> datetime:
    """Finished conversations last changed before this instant are pruned."""
    return now - timedelta(days=FINISHED_CONVERSATION_DAYS)


def answers_about(state: Mapping[str, Any], person_id: int, trajectory_ids: Iterable[int]) -> bool:
    """Whether a stored conversation state's answers are about this student (the student or
    one of their trajectories was chosen in it)."""
    answers = state.get("answers")
    if not isinstance(answers, Mapping):
        return False
    if str(answers.get("student_id")) == str(person_id):
        return True
    return str(answers.get("trajectory_id")) in {str(t) for t in trajectory_ids}


#: A used or expired invitation is kept this long (the bulk invitation skips a parent invited
#: in the last N days, `services.outbox.invitations`), then pruned.
INVITE_KEEP_DAYS = 30


def invite_cutoff(now: datetime) -> datetime:
    """Invitations used or expired before this instant are pruned."""
    return now - timedelta(days=INVITE_KEEP_DAYS)


#: What replaces a name, an address or a username found in an audit row's details.
SCRUBBED = "[erased]"


def erased_names(person_id: int) -> tuple[str, str]:
    """The given and family name an erased person gets (``("Verwijderd", "1234")``)."""
    return ERASED_GIVEN_NAME, str(person_id)


def erased_external_id(person_id: int) -> str:
    """The external id an erased person gets (unique within the school, no trace of the old)."""
    return f"erased-{person_id}"


def months_before(moment: datetime, months: int) -> datetime:
    """``moment`` minus whole calendar months (the day clamped: 31 March − 1 month = 28/29
    February), the time of day kept."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def retention_cutoff(now: datetime, months: int) -> datetime:
    """Care data of a trajectory closed before this instant has expired."""
    return months_before(now, months)


def processed_update_cutoff(now: datetime) -> datetime:
    """Processed update ids handled before this instant are pruned."""
    return now - timedelta(days=PROCESSED_UPDATE_DAYS)


def retention_problem(months: int) -> Text | None:
    """What is wrong with a retention period, or None."""
    if MIN_RETENTION_MONTHS <= months <= MAX_RETENTION_MONTHS:
        return None
    return Text.of(
        N_("The retention period must be from {minimum} to {maximum} months."),
        minimum=MIN_RETENTION_MONTHS,
        maximum=MAX_RETENTION_MONTHS,
    )


def identity_tokens(values: Iterable[str | None]) -> tuple[str, ...]:
    """The strings that identify a person (names, addresses), lower-cased; short ones dropped
    (two letters would match everywhere)."""
    return tuple(
        sorted({v.strip().casefold() for v in values if v and len(v.strip()) >= 3}, key=len)
    )


def scrub(value: Any, tokens: tuple[str, ...]) -> Any:
    """``value`` (an audit row's details) with every string that contains a token replaced
    by `SCRUBBED`; ids, codes and numbers stay."""
    if isinstance(value, str):
        folded = value.casefold()
        return SCRUBBED if any(token in folded for token in tokens) else value
    if isinstance(value, Mapping):
        return {key: scrub(item, tokens) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item, tokens) for item in value]
    return value


def needs_scrub(value: Any, tokens: tuple[str, ...]) -> bool:
    """Whether `scrub` would change ``value``."""
    return bool(tokens) and scrub(value, tokens) != value
