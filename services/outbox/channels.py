"""Which channel a notice goes by: the pure rule (no session, no async).

A person can have two channels: a linked Telegram chat and an e-mail address. Either can be
marked unreachable (the bot was blocked; the address bounced or was refused). Their
preference (``Person.channel_preference``) decides the order: ``telegram``, ``email``, or
NULL ("auto": Telegram when a chat is linked, else e-mail). A usable channel the worker does
not have (no bot token, no SMTP settings) is skipped in favour of the next usable one; when
only such channels are usable, the notice *waits* for one (it is not lost) instead of being
given up as unreachable.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from services.outbox.kinds import OutboxKind

__all__ = [
    "EMAIL_NOT_CONFIGURED",
    "TELEGRAM_NOT_CONFIGURED",
    "WEB_CHAT_LINK_KINDS",
    "Channel",
    "ChannelChoice",
    "ChatTarget",
    "Contact",
    "Preference",
    "chat_target",
    "choose_channel",
    "not_configured_code",
    "parse_chat_target",
    "parse_preference",
    "reachable",
    "staff_page",
]


class Channel(StrEnum):
    """A way to deliver a notice; the value is stored in ``outbox.channel``."""

    TELEGRAM = "telegram"
    EMAIL = "email"


class Preference(StrEnum):
    """What a person (or the school for them) chose; AUTO is stored as NULL."""

    TELEGRAM = "telegram"
    EMAIL = "email"
    AUTO = "auto"


#: ``last_error`` of a row that waits because its channel is not configured in this worker.
TELEGRAM_NOT_CONFIGURED = "telegram_not_configured"
EMAIL_NOT_CONFIGURED = "email_not_configured"

#: Kinds whose e-mail carries a personal web chat link that logs the reader in once: every
#: notice whose Telegram message has a button, sent to someone without a staff web account
#: (parent, student, mentor, teacher): book the intake, the questionnaire, the intake report,
#: their appointments, and the mentor's and teacher's own actions (confirm the intake, read
#: the decision on a referral, see who leaves the lesson). Staff notices point to the staff
#: web app instead (staff log in there with their own account).
WEB_CHAT_LINK_KINDS: frozenset[str] = frozenset(
    {
        OutboxKind.REFERRAL_ACCEPTED,
        OutboxKind.REFERRAL_DECLINED,
        OutboxKind.REFERRAL_MERGED,
        OutboxKind.REFERRAL_ACCEPTED_PARENT,
        OutboxKind.SURVEY_INVITE,
        OutboxKind.SURVEY_REMINDER,
        OutboxKind.APPOINTMENT_MENTOR_CONFIRM,
        OutboxKind.APPOINTMENT_MENTOR_DECLINED,
        OutboxKind.APPOINTMENT_REMINDER,
        OutboxKind.TIMEOUT_TEACHER,
        OutboxKind.TIMEOUT_DECIDED,
        OutboxKind.INTAKE_REPORT,
        OutboxKind.STUDENT_VOICE_ASK,
    }
)


class ChatTarget(StrEnum):
    """A page of the web chat a personal link may lead to once opened (``?then=<target>/<id>``):
    the action behind the notice's Telegram button. Nothing else is accepted."""

    #: The intake report of a trajectory (student, parent, mentor).
    INTAKE_REPORT = "intake-report"
    #: The mentor's question about an intake (appointment id): yes / no.
    INTAKE_CONFIRM = "intake-confirm"
    #: The decision on a referral (referral id), for the mentor who sent it.
    REFERRAL_OUTCOME = "referral-outcome"
    #: Who leaves the teacher's lesson for a time-out (appointment id).
    TIMEOUT_WHO = "timeout-who"
    #: The student's own help question about a referral (referral id; issue 15).
    HELP_QUESTION = "help-question"
    #: The person's upcoming appointments ("My appointments"; no id).
    APPOINTMENTS = "appointments"
    #: The booking flow, opened at once ("Book an appointment"; no id).
    BOOK = "book"


#: The targets without an id.
_TARGETS_WITHOUT_ID = frozenset({ChatTarget.APPOINTMENTS, ChatTarget.BOOK})


#: The target of each kind's e-mail link, and the payload key holding its id (None: none).
_TARGET_OF_KIND: dict[str, tuple[ChatTarget, str | None]] = {
    OutboxKind.REFERRAL_ACCEPTED_PARENT: (ChatTarget.BOOK, None),
    OutboxKind.REFERRAL_ACCEPTED_ADULT: (ChatTarget.BOOK, None),
    OutboxKind.APPOINTMENT_MENTOR_DECLINED: (ChatTarget.BOOK, None),
    OutboxKind.APPOINTMENT_REMINDER: (ChatTarget.APPOINTMENTS, None),
    OutboxKind.INTAKE_REPORT: (ChatTarget.INTAKE_REPORT, "trajectory_id"),
    OutboxKind.APPOINTMENT_MENTOR_CONFIRM: (ChatTarget.INTAKE_CONFIRM, "appointment_id"),
    OutboxKind.REFERRAL_ACCEPTED: (ChatTarget.REFERRAL_OUTCOME, "referral_id"),
    OutboxKind.REFERRAL_DECLINED: (ChatTarget.REFERRAL_OUTCOME, "referral_id"),
    OutboxKind.REFERRAL_MERGED: (ChatTarget.REFERRAL_OUTCOME, "referral_id"),
    OutboxKind.TIMEOUT_TEACHER: (ChatTarget.TIMEOUT_WHO, "appointment_id"),
    OutboxKind.STUDENT_VOICE_ASK: (ChatTarget.HELP_QUESTION, "referral_id"),
}
_TARGET = re.compile(
    "("
    + "|".join(re.escape(t.value) for t in ChatTarget if t not in _TARGETS_WITHOUT_ID)
    + ")/([1-9][0-9]{0,11})|("
    + "|".join(re.escape(t.value) for t in _TARGETS_WITHOUT_ID)
    + ")"
)

#: Staff notices: the staff web app's page to show after logging in (``/login?next=``), by
#: the payload key holding its id (None: the page needs no id).
_STAFF_PAGE_OF_KIND: dict[str, tuple[str, str | None]] = {
    OutboxKind.REFERRAL_NEW: ("/queue/{id}", "queue_item_id"),
    OutboxKind.TIMEOUT_REQUESTED: ("/queue/timeout-requests/{id}", "queue_item_id"),
    OutboxKind.PERSON_EMAIL_UNREACHABLE: ("/contacts", None),
}


def _payload_id(payload: Mapping[str, Any], key: str) -> int | None:
    value = payload.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return None
    return value


def chat_target(kind: str, payload: Mapping[str, Any]) -> str | None:
    """Where the web chat link of a ``kind`` e-mail leads once opened (``intake-confirm/12``,
    ``appointments``), or None: the chat itself (its menu)."""
    if kind == OutboxKind.TIMEOUT_DECIDED:
        # Approved: "My appointments", as the Telegram button; refused: no button, the chat.
        return ChatTarget.APPOINTMENTS.value if payload.get("approved") is True else None
    found = _TARGET_OF_KIND.get(kind)
    if found is None:
        return None
    target, key = found
    if key is None:
        return target.value
    target_id = _payload_id(payload, key)
    return None if target_id is None else f"{target.value}/{target_id}"


def parse_chat_target(value: str) -> tuple[ChatTarget, int | None] | None:
    """A ``then`` value the web chat accepts (one of `ChatTarget`, with its id when it takes
    one), else None."""
    found = _TARGET.fullmatch(value)
    if found is None:
        return None
    if found.group(3) is not None:
        return ChatTarget(found.group(3)), None
    return ChatTarget(found.group(1)), int(found.group(2))


def staff_page(kind: str, payload: Mapping[str, Any]) -> str | None:
    """The staff web app's page a staff notice of ``kind`` is about (None: the start page)."""
    found = _STAFF_PAGE_OF_KIND.get(kind)
    if found is None:
        return None
    page, key = found
    if key is None:
        return page
    page_id = _payload_id(payload, key)
    return None if page_id is None else page.format(id=page_id)


@dataclass(frozen=True, slots=True)
class Contact:
    """What the rule needs to know about one recipient (no address, no name)."""

    chat_linked: bool
    telegram_unreachable: bool = False
    has_email: bool = False
    email_unreachable: bool = False
    preference: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelChoice:
    """The rule's answer: send by ``channel``; or wait for ``waiting_for`` (usable, but not
    configured here); or neither (nothing usable: the row is settled unreachable)."""

    channel: Channel | None = None
    waiting_for: Channel | None = None


def parse_preference(value: str | None) -> Preference:
    """The stored preference (NULL or an unknown value: auto)."""
    if value == Preference.TELEGRAM:
        return Preference.TELEGRAM
    if value == Preference.EMAIL:
        return Preference.EMAIL
    return Preference.AUTO


def _order(preference: Preference) -> tuple[Channel, Channel]:
    if preference is Preference.EMAIL:
        return (Channel.EMAIL, Channel.TELEGRAM)
    # Auto and Telegram: Telegram when a chat is linked, else e-mail.
    return (Channel.TELEGRAM, Channel.EMAIL)


def choose_channel(contact: Contact, configured: Collection[Channel]) -> ChannelChoice:
    """The channel for one notice to ``contact``, among the ``configured`` ones.

    Usable: Telegram when a chat is linked and the bot was not blocked; e-mail when there is
    an address that did not bounce. In the preference's order, the first usable channel that
    is configured is chosen; if usable channels exist but none is configured, the first of
    them is waited for.
    """
    usable = {
        Channel.TELEGRAM: contact.chat_linked and not contact.telegram_unreachable,
        Channel.EMAIL: contact.has_email and not contact.email_unreachable,
    }
    candidates = [c for c in _order(parse_preference(contact.preference)) if usable[c]]
    for channel in candidates:
        if channel in configured:
            return ChannelChoice(channel=channel)
    if candidates:
        return ChannelChoice(waiting_for=candidates[0])
    return ChannelChoice()


def not_configured_code(channel: Channel) -> str:
    """The ``last_error`` of a row waiting for ``channel``."""
    return EMAIL_NOT_CONFIGURED if channel is Channel.EMAIL else TELEGRAM_NOT_CONFIGURED


def reachable(contact: Contact) -> bool:
    """Whether any channel could bring ``contact`` a notice (configured here or not)."""
    choice = choose_channel(contact, (Channel.TELEGRAM, Channel.EMAIL))
    return choice.channel is not None
