"""The text of each outbox notification, in the recipient's language.

A notification shows on a lock screen, so it names no student and carries no care details:
it says that something is waiting and offers a button; the details appear inside the chat,
after the Telegram layer has identified who pressed it (domain.md, "Lock screens"). The payload
holds ids only, and the ids go into button payloads, never into the text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dialogs.i18n import Catalogs
from dialogs.text import N_, Text
from storage.outbox import PERSON_UNREACHABLE, ClaimedMessage
from storage.referrals import REFERRAL_NEW
from storage.surveys import SURVEY_COMPLETED, SURVEY_INVITE, SURVEY_REMINDER

#: Button payload that opens one queue item; routed by the Telegram layer, which checks that
#: the presser may see it (the payload carries no authority).
OPEN_QUEUE_ITEM = "q:open:{queue_item_id}"
#: Opens the exit questionnaire of one invitation (`bot.telegram.callbacks.SurveyCallback`);
#: the Telegram layer checks it is the presser's own, unused and not expired.
OPEN_SURVEY = "sv:open:{invitation_id}"
#: Opens one exit-questionnaire result (`bot.telegram.callbacks.SurveyItemCallback`).
OPEN_SURVEY_ITEM = "qs:open:{queue_item_id}"


@dataclass(frozen=True, slots=True)
class OutgoingButton:
    """One inline button: its label (rendered) and the payload sent back when pressed."""

    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One rendered message for one chat; ``outbox_id`` is for the logs."""

    outbox_id: int
    chat_id: int
    text: str
    buttons: tuple[OutgoingButton, ...] = ()


class UnknownMessageError(ValueError):
    """The row's kind has no text, or its payload lacks what the text needs."""


@dataclass(frozen=True, slots=True)
class _Content:
    text: Text
    buttons: tuple[tuple[Text, str], ...] = ()


def _referral_new(payload: Mapping[str, Any]) -> _Content:
    queue_item_id = _id(payload, "queue_item_id")
    return _Content(
        Text.of(N_("There is a new referral in your queue. Open this chat to see it.")),
        ((Text.of(N_("Show the referral")), OPEN_QUEUE_ITEM.format(queue_item_id=queue_item_id)),),
    )


def _person_unreachable(payload: Mapping[str, Any]) -> _Content:
    _id(payload, "person_id")
    return _Content(
        Text.of(
            N_(
                "A message could not be delivered: someone has blocked the bot or left "
                "Telegram. Open the queue to see who."
            )
        )
    )


def _survey_invite(payload: Mapping[str, Any]) -> _Content:
    invitation_id = _id(payload, "invitation_id")
    return _Content(
        Text.of(
            N_(
                "The school invites you to a short questionnaire: five questions, about 2 "
                "minutes. Your answers help make the support better."
            )
        ),
        (
            (
                Text.of(N_("Start the questionnaire")),
                OPEN_SURVEY.format(invitation_id=invitation_id),
            ),
        ),
    )


def _survey_reminder(payload: Mapping[str, Any]) -> _Content:
    invitation_id = _id(payload, "invitation_id")
    return _Content(
        Text.of(
            N_(
                "A reminder: the school's short questionnaire is still open for you. "
                "It takes about 2 minutes."
            )
        ),
        (
            (
                Text.of(N_("Open the questionnaire")),
                OPEN_SURVEY.format(invitation_id=invitation_id),
            ),
        ),
    )


def _survey_completed(payload: Mapping[str, Any]) -> _Content:
    queue_item_id = _id(payload, "queue_item_id")
    return _Content(
        Text.of(N_("An exit questionnaire has been answered. Open this chat to read it.")),
        (
            (
                Text.of(N_("Show the answers")),
                OPEN_SURVEY_ITEM.format(queue_item_id=queue_item_id),
            ),
        ),
    )


_BUILDERS: dict[str, Callable[[Mapping[str, Any]], _Content]] = {
    REFERRAL_NEW: _referral_new,
    SURVEY_INVITE: _survey_invite,
    SURVEY_REMINDER: _survey_reminder,
    SURVEY_COMPLETED: _survey_completed,
    PERSON_UNREACHABLE: _person_unreachable,
}

#: The kinds this worker can send.
KINDS = frozenset(_BUILDERS)


def build_message(claimed: ClaimedMessage, catalogs: Catalogs) -> OutgoingMessage:
    """The message for ``claimed`` in the recipient's language (Dutch when unsupported).

    Raises `UnknownMessageError` for a kind without a text or a payload without its ids.
    """
    builder = _BUILDERS.get(claimed.kind)
    if builder is None:
        raise UnknownMessageError(f"no text for kind {claimed.kind!r}")
    content = builder(claimed.payload)
    catalog = catalogs.get(claimed.language)
    return OutgoingMessage(
        outbox_id=claimed.outbox_id,
        chat_id=claimed.chat_id,
        text=catalog.render(content.text),
        buttons=tuple(
            OutgoingButton(label=catalog.render(label), payload=payload)
            for label, payload in content.buttons
        ),
    )


def _id(payload: Mapping[str, Any], key: str) -> int:
    value = payload.get(key)
    # bool is an int in Python; a JSON true is no id.
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise UnknownMessageError(f"payload lacks a valid {key}")
    return value
