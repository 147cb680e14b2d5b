"""Typed callback data for every inline button (never hand-split strings)."""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from dialogs.events import Action, Event
from services.kernel.ids import MAX_ID

#: A row id in callback data. Out of range (≥ 2^31, negative, 0) the payload fails to unpack,
#: so no handler's filter matches and the press is answered as a button that no longer works
#: (`handlers.fallback`), never passed to the database (`services.kernel.ids`).
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
#: A version counter carried by a button: 0 … MAX_ID, like an id.
Counter = Annotated[int, Field(ge=0, le=MAX_ID)]

#: Telegram's limit on a button's callback data, in bytes (UTF-8).
CALLBACK_DATA_LIMIT = 64


class FlowCallback(CallbackData, prefix="f"):
    """A button of a flow question: the engine event plus the run and version of the
    conversation it belongs to (``f:<flow>:<action>:<version>:<run>:<value>``).

    Run and version let the engine recognise a press on an old keyboard, of an earlier run or
    of another flow (a button packed before runs existed has one field less, matches no
    handler here and is answered as no longer working); nothing here is trusted for
    authorization (storage re-checks everything against the person who pressed).
    """

    flow: str
    action: str
    version: Counter
    run: str = ""
    value: str = ""

    @classmethod
    def from_event(cls, flow: str, event: Event) -> FlowCallback:
        """The callback for one engine button event."""
        return cls(
            flow=flow,
            action=event.action.value,
            version=event.version or 0,
            run=event.run or "",
            value=event.value,
        )

    @classmethod
    def data_for(cls, flow: str, event: Event) -> str:
        """``from_event(flow, event).pack()``, without building the model (a keyboard packs
        every button of every question; the model's validation and dump cost more than the
        string). Anything the model would refuse or check (a separator in a value, a version
        out of range, over 64 bytes) goes through the model, which raises as before."""
        version = event.version or 0
        fields = (flow, event.action.value, str(version), event.run or "", event.value)
        data = ":".join((cls.__prefix__, *fields))
        if (
            0 <= version <= MAX_ID
            and data.count(":") == len(fields)
            and len(data.encode()) <= CALLBACK_DATA_LIMIT
        ):
            return data
        return cls.from_event(flow, event).pack()

    def to_event(self) -> Event | None:
        """The engine event, or None when the action is unknown (a forged payload)."""
        try:
            action = Action(self.action)
        except ValueError:
            return None
        if action is Action.TEXT:
            return None
        return Event(action, self.value, self.version, self.run)


class MenuCallback(CallbackData, prefix="m"):
    """A main-menu button: start a flow, or one of the role's lists."""

    action: str
    value: str = ""


class LanguageCallback(CallbackData, prefix="lang"):
    """A language choice on the language screen."""

    code: str


class QueueCallback(CallbackData, prefix="q"):
    """A care coordinator's action on one queue item."""

    action: str
    item: RowId


class SurveyCallback(CallbackData, prefix="sv"):
    """Open the exit questionnaire of one invitation (its message's button, or the menu).

    The invitation id carries no authority: storage checks it is the presser's own, unused and
    not expired.
    """

    action: str
    invitation: RowId


class SurveyItemCallback(CallbackData, prefix="qs"):
    """A care coordinator's action on one exit-questionnaire queue item (open, close)."""

    action: str
    item: RowId


class AppointmentCallback(CallbackData, prefix="ap"):
    """An action on one appointment: move or cancel (its owner), yes / no / show (the intake's
    mentor), attended / no-show (a coach of the school).

    Nothing here is trusted: storage checks the presser against the appointment. ``version``
    is the appointment's version the mentor's question was about (0 when it does not matter).
    """

    action: str
    appointment: RowId
    version: Counter = 0


class TimeoutRequestCallback(CallbackData, prefix="tr"):
    """A care coordinator's action on one time-out request in the queue (open, approve,
    decline: the reason is asked by a flow)."""

    action: str
    item: RowId


class ReferralCallback(CallbackData, prefix="rf"):
    """The mentor's button on a decision notice: show the decision on one referral (with a
    decline's reason). Storage checks that the presser is the mentor who sent it."""

    action: str
    referral: RowId


class IntakeReportCallback(CallbackData, prefix="ir"):
    """The button of an intake report notice: show the intake report of one trajectory.

    Storage checks that the presser is its student, a parent (`Guardianship`) or a mentor
    (`Mentorship`) of the student, and that the report exists (the trajectory is active).
    """

    action: str
    trajectory: RowId


class PlanCallback(CallbackData, prefix="pl"):
    """A coach's or care coordinator's choice in "Plans to complete": open the plan flow of
    one trajectory. The id carries no authority: storage checks that the presser is staff of
    the trajectory's school and that it is still open."""

    action: str
    trajectory: RowId


class StudentVoiceCallback(CallbackData, prefix="hv"):
    """The button of the student's help-question notice: open the student-voice flow of one
    referral. The id carries no authority: storage checks the presser is the referral's
    student, was asked, and has not answered yet."""

    action: str
    referral: RowId
