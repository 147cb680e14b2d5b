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

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from services.outbox.kinds import OutboxKind

__all__ = [
    "EMAIL_NOT_CONFIGURED",
    "TELEGRAM_NOT_CONFIGURED",
    "WEB_CHAT_LINK_KINDS",
    "Channel",
    "ChannelChoice",
    "Contact",
    "Preference",
    "choose_channel",
    "not_configured_code",
    "parse_preference",
    "reachable",
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

#: Kinds whose e-mail carries a personal web chat link that logs the reader in once: the
#: notices that ask a parent or student to act or to read something in the chat (book the
#: intake, the questionnaire, the intake report, their appointments). Staff notices point to
#: the staff web app instead (staff log in there with their own account).
WEB_CHAT_LINK_KINDS: frozenset[str] = frozenset(
    {
        OutboxKind.REFERRAL_ACCEPTED_PARENT,
        OutboxKind.SURVEY_INVITE,
        OutboxKind.SURVEY_REMINDER,
        OutboxKind.APPOINTMENT_MENTOR_DECLINED,
        OutboxKind.APPOINTMENT_REMINDER,
        OutboxKind.TIMEOUT_DECIDED,
        OutboxKind.INTAKE_REPORT,
    }
)


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
