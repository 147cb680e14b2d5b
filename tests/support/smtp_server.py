"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1, a free port) that keeps what it
receives, and the product's e-mail sender pointed at it.

Use the ``smtp_server`` fixture (import ``smtp_server_fixture`` into the test module or a
conftest, with ``# noqa: F401``, and ask for ``smtp_server``) and read the mail back as
`email.message.EmailMessage` objects: ``smtp_server.messages``,
``smtp_server.to("ouder@example.org")``, ``await smtp_server.wait_for(count)``. Addresses in
``smtp_server.refuse`` get ``550`` at RCPT (a refused address), those in ``smtp_server.defer``
``451`` (try again later). `sender_for` builds the product's `EmailSender` for it, and
`settings_for` the `Settings` keys (SMTP_* without TLS) for a product started as a whole.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.outbox.email_sender import EmailSender, SmtpConfig

#: The sender the tests' e-mail comes from.
TEST_FROM = "Trajectvoorziening De Brug <noreply@school.example>"
#: Where the tests' links point (the web app test client's base URL).
TEST_WEB_URL = "http://testserver"


@dataclass
class Received:
    """One message as the server got it: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class _Handler:
    """aiosmtpd's handler: refuses or defers chosen recipients, keeps every message."""

    refuse: set[str] = field(default_factory=set)
    defer: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        del server, session, rcpt_options
        if address.lower() in self.refuse:
            return "550 5.1.1 <" + address + ">: Recipient address rejected: User unknown"
        if address.lower() in self.defer:
            return "451 4.3.0 Temporary failure, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        del server, session
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


class SmtpTestServer:
    """The running server: its port, what it received, whom it refuses."""

    def __init__(self, controller: Controller, handler: _Handler) -> None:
        self._controller = controller
        self._handler = handler
        self.host = "127.0.0.1"
        self.port = int(controller.port)

    @property
    def refuse(self) -> set[str]:
        """Addresses (lower case) answered 550 at RCPT."""
        return self._handler.refuse

    @property
    def defer(self) -> set[str]:
        """Addresses (lower case) answered 451 at RCPT."""
        return self._handler.defer

    @property
    def received(self) -> list[Received]:
        """Everything received, in order."""
        with self._handler.lock:
            return list(self._handler.received)

    @property
    def messages(self) -> list[EmailMessage]:
        """The messages received, in order."""
        return [item.message for item in self.received]

    def to(self, address: str) -> list[EmailMessage]:
        """The messages whose envelope went to ``address``."""
        wanted = address.lower()
        return [
            item.message
            for item in self.received
            if wanted in (rcpt.lower() for rcpt in item.rcpt_tos)
        ]

    async def wait_for(self, count: int, within: float = 10.0) -> list[EmailMessage]:
        """Wait until ``count`` messages were received (the server runs in its own thread)."""
        async with asyncio.timeout(within):
            # Polled: the server's thread cannot set an event of this loop without more code.
            while len(self.received) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        return self.messages

    def clear(self) -> None:
        """Forget what was received."""
        with self._handler.lock:
            self._handler.received.clear()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_smtp_server() -> tuple[SmtpTestServer, Controller]:
    """Start a server on a free port (stop the controller when done)."""
    handler = _Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), ready_timeout=10)
    controller.start()
    return SmtpTestServer(controller, handler), controller


@pytest.fixture(name="smtp_server")
def smtp_server_fixture() -> Iterator[SmtpTestServer]:
    """A real SMTP server on 127.0.0.1 for this test; stopped afterwards."""
    server, controller = start_smtp_server()
    try:
        yield server
    finally:
        controller.stop()


def sender_for(server: SmtpTestServer, *, web_url: str = TEST_WEB_URL) -> EmailSender:
    """The product's e-mail sender, talking to ``server`` without TLS."""
    return EmailSender(
        SmtpConfig(
            host=server.host, port=server.port, sender=TEST_FROM, security="none", timeout=10
        ),
        web_url=web_url,
    )


def settings_for(server: SmtpTestServer) -> dict[str, Any]:
    """The SMTP settings (as `Settings` keyword arguments) that point at ``server``."""
    return {
        "smtp_host": server.host,
        "smtp_port": server.port,
        "smtp_from": TEST_FROM,
        "smtp_security": "none",
        "smtp_timeout": 10.0,
    }


def plain_text(message: EmailMessage) -> str:
    """The text/plain body of ``message``."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "no text/plain part"
    content = part.get_content()
    assert isinstance(content, str)
    return content


def html_text(message: EmailMessage) -> str:
    """The text/html body of ``message``."""
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "no text/html part"
    content = part.get_content()
    assert isinstance(content, str)
    return content


def calendar_attachment(message: EmailMessage) -> tuple[bytes, EmailMessage] | None:
    """The text/calendar attachment's bytes and its part, or None."""
    for part in message.iter_attachments():
        assert isinstance(part, EmailMessage)
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload, part
    return None
