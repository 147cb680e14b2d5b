"""The outbox's `Sender` for e-mail (aiosmtplib): the second channel, for people without
Telegram.

The message is the one Telegram would show (`bot.outbox.messages`, in the recipient's
language): a plain-text part and a simple HTML part, a subject per kind, the .ics as a
``text/calendar`` attachment (its ``method`` taken from the file), and instead of buttons a
link: a one-time web chat link (``/c/<token>``) or the staff web app's login page.

The SMTP server's answers, in the worker's terms:

=====================================================  ====================================
5xx to RCPT (``SMTPRecipientsRefused``)                `Unreachable` (``email_refused``):
                                                       the address is marked, the care
                                                       coordinators are told
4xx to anything; no connection (refused, DNS, a       `TemporaryFailure` (retried)
connect timeout)
a timeout or a dropped connection once connected       `Uncertain` (the server may have
                                                       taken the message)
authentication or sender refused (our settings)        `TemporaryFailure` (logged as error)
other 5xx (the message itself is refused)              `PermanentFailure`
=====================================================  ====================================
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import urlencode

import aiosmtplib

from bot.config import Settings
from bot.outbox.messages import OutgoingMessage
from bot.outbox.sender import PermanentFailure, TemporaryFailure, Uncertain, Unreachable

log = logging.getLogger(__name__)

#: Written right to left: the HTML part says so.
_RTL = frozenset({"ar"})
_METHOD = re.compile(rb"^METHOD:([A-Za-z-]+)\r?$", re.MULTILINE)

__all__ = ["EmailSender", "SmtpConfig", "email_sender_from", "render_email"]


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """How to reach the SMTP server (from `bot.config.Settings`)."""

    host: str
    port: int
    sender: str
    security: str = "starttls"
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0


class EmailSender:
    """Sends outbox messages by e-mail; ``web_url`` is where links point (WEB_BASE_URL)."""

    def __init__(self, config: SmtpConfig, *, web_url: str) -> None:
        self._config = config
        self._web_url = web_url.rstrip("/")

    async def send(self, message: OutgoingMessage) -> None:
        """Send ``message`` to its address; return once the server accepted it."""
        if not message.email:
            raise PermanentFailure("no_address")
        mail = render_email(message, sender=self._config.sender, web_url=self._web_url)
        config = self._config
        try:
            await aiosmtplib.send(
                mail,
                hostname=config.host,
                port=config.port,
                username=config.username or None,
                password=config.password or None,
                use_tls=config.security == "tls",
                start_tls=config.security == "starttls",
                timeout=config.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            if codes and all(500 <= code < 600 for code in codes):
                raise Unreachable("email_refused") from exc
            raise TemporaryFailure("email_deferred") from exc
        except aiosmtplib.SMTPRecipientRefused as exc:
            if 500 <= exc.code < 600:
                raise Unreachable("email_refused") from exc
            raise TemporaryFailure("email_deferred") from exc
        except (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPSenderRefused) as exc:
            # Our own settings are wrong: nothing the recipient can change; retry, loudly.
            log.error(  # noqa: TRY400 - no traceback: it may quote addresses
                "outbox_id=%s: the SMTP server refuses our login or sender (%s)",
                message.outbox_id,
                exc.code,
            )
            raise TemporaryFailure("smtp_settings") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 400 <= exc.code < 500:
                raise TemporaryFailure("email_deferred") from exc
            raise PermanentFailure("email_rejected") from exc
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPConnectTimeoutError) as exc:
            # No connection: nothing was sent.
            raise TemporaryFailure("smtp_unavailable") from exc
        except (aiosmtplib.SMTPServerDisconnected, TimeoutError) as exc:
            # Connected, then no answer: the server may have taken the message.
            raise Uncertain("smtp_uncertain") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Connection refused, DNS, STARTTLS not offered: before any message was sent.
            raise TemporaryFailure("smtp_unavailable") from exc


def render_email(message: OutgoingMessage, *, sender: str, web_url: str) -> EmailMessage:
    """The e-mail for ``message``: plain text and HTML, and the calendar file if any."""
    assert message.email is not None  # noqa: S101 - checked by the caller
    url = _link_url(message, web_url)
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.email
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    mail["Message-ID"] = make_msgid(domain=domain)
    # Out-of-office replies and the like should not answer an automatic message.
    mail["Auto-Submitted"] = "auto-generated"
    plain = [message.text]
    if message.link is not None and url is not None:
        plain.append(f"{message.link.label}:\n{url}")
    if message.footer:
        plain.append(f"-- \n{message.footer}")
    mail.set_content("\n\n".join(plain) + "\n", subtype="plain", charset="utf-8")
    mail.add_alternative(_html(message, url), subtype="html", charset="utf-8")
    if message.attachment is not None:
        found = _METHOD.search(message.attachment.data)
        maintype, _, subtype = message.attachment.mime_type.partition("/")
        params = {"method": found.group(1).decode("ascii").upper()} if found else {}
        mail.add_attachment(
            message.attachment.data,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=message.attachment.filename,
            params=params,
        )
    # Last: set_content / add_alternative / add_attachment move Content-* headers into parts.
    mail["Content-Language"] = message.language
    return mail


def _link_url(message: OutgoingMessage, web_url: str) -> str | None:
    if message.link is None:
        return None
    if message.link.token is not None:
        then = f"?then={message.link.then}" if message.link.then else ""
        return f"{web_url}/c/{message.link.token}{then}"
    if message.link.then:
        return f"{web_url}/login?{urlencode({'next': message.link.then})}"
    return f"{web_url}/login"


def _html(message: OutgoingMessage, url: str | None) -> str:
    direction = "rtl" if message.language in _RTL else "ltr"
    paragraphs = "".join(
        f"<p>{html.escape(part).replace(chr(10), '<br>')}</p>"
        for part in message.text.split("\n\n")
    )
    link = ""
    if message.link is not None and url is not None:
        link = (
            f'<p><a href="{html.escape(url, quote=True)}" '
            'style="display:inline-block;padding:10px 16px;background:#1d4ed8;color:#ffffff;'
            f'text-decoration:none;border-radius:6px">{html.escape(message.link.label)}</a></p>'
        )
    footer = (
        f'<p style="color:#555555;font-size:small">{html.escape(message.footer)}</p>'
        if message.footer
        else ""
    )
    return (
        f'<!DOCTYPE html><html lang="{html.escape(message.language)}" dir="{direction}">'
        f'<head><meta charset="utf-8"><title>{html.escape(message.subject)}</title></head>'
        f'<body style="font-family:sans-serif;line-height:1.5">{paragraphs}{link}{footer}'
        "</body></html>\n"
    )


def email_sender_from(settings: Settings) -> EmailSender | None:
    """The e-mail sender the settings describe, or None when SMTP is not configured."""
    if not settings.smtp_configured:
        return None
    assert settings.smtp_host is not None  # noqa: S101 - smtp_configured checked it
    assert settings.smtp_from is not None  # noqa: S101
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return EmailSender(
        SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port_or_default,
            sender=settings.smtp_from,
            security=settings.smtp_security,
            username=settings.smtp_username or None,
            password=password or None,
            timeout=settings.smtp_timeout,
        ),
        web_url=settings.web_url,
    )
