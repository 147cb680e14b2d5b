"""The channel rule (pure): Telegram, else e-mail, by preference, among configured channels."""

from __future__ import annotations

import pytest

from services.outbox.channels import (
    Channel,
    ChannelChoice,
    Contact,
    choose_channel,
    not_configured_code,
    reachable,
)

BOTH = (Channel.TELEGRAM, Channel.EMAIL)
TELEGRAM_ONLY = (Channel.TELEGRAM,)
EMAIL_ONLY = (Channel.EMAIL,)

CHAT = Contact(chat_linked=True)
MAIL = Contact(chat_linked=False, has_email=True)
BOTH_CONTACTS = Contact(chat_linked=True, has_email=True)


@pytest.mark.parametrize(
    ("contact", "configured", "expected"),
    [
        # Auto (NULL): Telegram when a chat is linked, else e-mail.
        (CHAT, BOTH, ChannelChoice(channel=Channel.TELEGRAM)),
        (MAIL, BOTH, ChannelChoice(channel=Channel.EMAIL)),
        (BOTH_CONTACTS, BOTH, ChannelChoice(channel=Channel.TELEGRAM)),
        # The preference decides the order.
        (Contact(True, has_email=True, preference="email"), BOTH, ChannelChoice(Channel.EMAIL)),
        (
            Contact(True, has_email=True, preference="telegram"),
            BOTH,
            ChannelChoice(Channel.TELEGRAM),
        ),
        # A preferred channel that cannot be used falls back to the other.
        (Contact(True, has_email=False, preference="email"), BOTH, ChannelChoice(Channel.TELEGRAM)),
        (
            Contact(True, has_email=True, email_unreachable=True, preference="email"),
            BOTH,
            ChannelChoice(Channel.TELEGRAM),
        ),
        (
            Contact(True, telegram_unreachable=True, has_email=True, preference="telegram"),
            BOTH,
            ChannelChoice(Channel.EMAIL),
        ),
        # A blocked bot and no address, a bounced address and no chat: nothing.
        (Contact(True, telegram_unreachable=True), BOTH, ChannelChoice()),
        (Contact(False, has_email=True, email_unreachable=True), BOTH, ChannelChoice()),
        (Contact(False), BOTH, ChannelChoice()),
        # The worker lacks the channel: the other usable one, else wait for it.
        (BOTH_CONTACTS, EMAIL_ONLY, ChannelChoice(channel=Channel.EMAIL)),
        (MAIL, TELEGRAM_ONLY, ChannelChoice(waiting_for=Channel.EMAIL)),
        (CHAT, EMAIL_ONLY, ChannelChoice(waiting_for=Channel.TELEGRAM)),
        (
            Contact(False, has_email=True, preference="telegram"),
            TELEGRAM_ONLY,
            ChannelChoice(waiting_for=Channel.EMAIL),
        ),
        # Nothing usable never waits, whatever is configured.
        (Contact(False), TELEGRAM_ONLY, ChannelChoice()),
        # An unknown stored preference counts as auto.
        (Contact(True, has_email=True, preference="fax"), BOTH, ChannelChoice(Channel.TELEGRAM)),
    ],
)
def test_the_channel_rule(
    contact: Contact, configured: tuple[Channel, ...], expected: ChannelChoice
) -> None:
    assert choose_channel(contact, configured) == expected


def test_reachable_ignores_what_is_configured() -> None:
    assert reachable(MAIL)
    assert reachable(CHAT)
    assert not reachable(Contact(False))
    assert not reachable(
        Contact(True, telegram_unreachable=True, has_email=True, email_unreachable=True)
    )


def test_the_waiting_codes_name_the_channel() -> None:
    assert not_configured_code(Channel.EMAIL) == "email_not_configured"
    assert not_configured_code(Channel.TELEGRAM) == "telegram_not_configured"
