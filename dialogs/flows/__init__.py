"""The flows the product offers, by id."""

from __future__ import annotations

from dialogs.flow import Flow
from dialogs.flows.afspraken import BOOK, CANCEL, MOVE
from dialogs.flows.exit_survey import SURVEY_FLOWS
from dialogs.flows.logbook import AGENDA_LOGBOOK
from dialogs.flows.parents_access import PARENTS_ACCESS
from dialogs.flows.plan import PLAN
from dialogs.flows.queue import DECLINE, NOTE, TIMEOUT_DECLINE
from dialogs.flows.student_voice import STUDENT_VOICE
from dialogs.flows.verwijzing import VERWIJZING

FLOWS: dict[str, Flow] = {
    flow.id: flow
    for flow in (
        VERWIJZING,
        DECLINE,
        NOTE,
        TIMEOUT_DECLINE,
        BOOK,
        MOVE,
        CANCEL,
        PLAN,
        AGENDA_LOGBOOK,
        STUDENT_VOICE,
        PARENTS_ACCESS,
    )
}
FLOWS.update({flow.id: flow for flow in SURVEY_FLOWS.values()})


def get_flow(flow_id: str) -> Flow:
    """The flow with this id (KeyError for an unknown id)."""
    return FLOWS[flow_id]
