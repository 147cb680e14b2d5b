"""Configuration from the environment and `.env` (pydantic-settings). Built once, by the CLI."""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.settings_error import SettingsError
from dialogs.i18n import DEFAULT_LOCALES_PATH
from dialogs.text import N_, Text
from storage.db import DEFAULT_DATABASE_URL


class Settings(BaseSettings):
    """Every key is listed, with its meaning, in `.env.example`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    telegram_bot_token: SecretStr | None = None
    #: Another Bot API server (a local one, or the test emulator); None means api.telegram.org.
    telegram_api_base: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_host: str = "127.0.0.1"
    telegram_webhook_port: int = Field(default=8081, ge=1, le=65535)
    telegram_webhook_path: str = "/telegram/webhook"
    #: Public base URL Telegram posts to (https://bot.school.example); when set, the webhook
    #: is registered at start-up.
    telegram_webhook_url: str | None = None
    #: The bot's @username, for invitation links; asked from Telegram (getMe) when unset.
    telegram_bot_username: str | None = None
    #: Where `trajectbot invite` writes QR codes.
    invites_dir: Path = Path("invites")
    #: Flood control per Telegram user: more than this many updates within the window are
    #: dropped (ticking a multiple choice quickly must still pass).
    flood_limit: int = Field(default=20, ge=1)
    flood_window_seconds: float = Field(default=10.0, gt=0)
    #: The web app (`trajectbot web`, `trajectbot run`): where it listens.
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=1, le=65535)
    #: The address people use to reach the web app (behind a proxy: https://…); links sent in
    #: chat (login links) start with it. Empty: http://WEB_HOST:WEB_PORT.
    web_base_url: str | None = None
    #: Cookies only over HTTPS. Empty: on when WEB_BASE_URL starts with https://.
    web_secure_cookies: bool | None = None
    #: How long a staff login lasts (absolute, not extended by activity).
    web_session_hours: int = Field(default=12, ge=1, le=24 * 7)
    #: Reverse proxies whose X-Forwarded-For is believed (comma-separated addresses or
    #: networks). The login throttle counts failures per client address; behind a proxy every
    #: request comes from the proxy, so its header names the client. Empty: the header is
    #: ignored. Default: a proxy on this machine (the documented deployment).
    web_trusted_proxies: str = "127.0.0.1,::1"
    #: E-mail, the second channel (parents without Telegram): the SMTP server the outbox
    #: sends through. Empty SMTP_HOST: no e-mail; notices for e-mail-only people wait.
    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    #: The sender address (``Naam school <noreply@school.example>``); required with SMTP_HOST.
    smtp_from: str | None = None
    #: ``starttls`` (port 587, the default), ``tls`` (implicit TLS, port 465) or ``none``
    #: (a relay on the local network or the test server).
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    #: Seconds to wait for the SMTP server.
    smtp_timeout: float = Field(default=30.0, gt=0)
    #: How long an outbox worker's claim on a row holds (seconds); past it another worker (or
    #: the same one after a restart) takes the row back. Longer than twice a send's timeout.
    outbox_lease_seconds: float = Field(default=120.0, ge=61.0, le=3600.0)
    locales_path: Path = DEFAULT_LOCALES_PATH
    #: Language of the command line's own messages (staff tooling).
    cli_language: str = "nl"
    log_level: str = "INFO"

    @field_validator("web_trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                try:
                    ipaddress.ip_network(part.strip(), strict=False)
                except ValueError:
                    raise ValueError(
                        f"{part.strip()!r} is not an IP address or network (e.g. 127.0.0.1, "
                        "10.0.0.0/8, ::1)"
                    ) from None
        return value

    @property
    def trusted_proxies(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """WEB_TRUSTED_PROXIES as networks (a single address is a /32 or /128)."""
        return tuple(
            ipaddress.ip_network(part.strip(), strict=False)
            for part in self.web_trusted_proxies.split(",")
            if part.strip()
        )

    @property
    def web_url(self) -> str:
        """The web app's public base URL, without a trailing slash."""
        if self.web_base_url:
            return self.web_base_url.rstrip("/")
        return f"http://{self.web_host}:{self.web_port}"

    @property
    def smtp_configured(self) -> bool:
        """Whether the e-mail channel can run: a host and a sender address."""
        return bool(self.smtp_host) and bool(self.smtp_from)

    @property
    def telegram_configured(self) -> bool:
        """Whether the Telegram bot (and its outbox channel) can run: a token is set."""
        token = self.telegram_bot_token
        return token is not None and bool(token.get_secret_value())

    @property
    def smtp_port_or_default(self) -> int:
        """SMTP_PORT, or the usual port of SMTP_SECURITY (465 tls, 587 starttls, 25 none)."""
        if self.smtp_port is not None:
            return self.smtp_port
        return {"tls": 465, "starttls": 587, "none": 25}[self.smtp_security]

    @property
    def cookies_secure(self) -> bool:
        """Whether cookies carry the Secure flag (explicit setting, else from the base URL)."""
        if self.web_secure_cookies is not None:
            return self.web_secure_cookies
        return self.web_url.startswith("https://")


#: The drivers the product runs on (async SQLAlchemy).
SUPPORTED_DATABASES = ("sqlite+aiosqlite", "postgresql+asyncpg")
#: The levels LOG_LEVEL may name (any case).
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def load_settings() -> Settings:
    """Read settings now (never at import time).

    A setting that cannot be used raises `SettingsError` naming it and saying why (the command
    line prints that one line and exits with code 2: `bot.cli_guard`).
    """
    try:
        settings = Settings()
    except ValidationError as invalid:
        raise _first_problem(invalid) from None
    problem = database_url_problem(settings.database_url)
    if problem is not None:
        raise SettingsError("DATABASE_URL", problem)
    if settings.log_level.strip().upper() not in LOG_LEVELS:
        raise SettingsError(
            "LOG_LEVEL",
            Text.of(
                N_("“{value}” is not a log level: use DEBUG, INFO, WARNING or ERROR."),
                value=Text.raw(settings.log_level[:40]),
            ),
        )
    return settings


def database_url_problem(url: str) -> Text | None:
    """What is wrong with a DATABASE_URL, or None (the address itself is never repeated: it
    may hold a password)."""
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - a port that is not a number fails here
    except (ArgumentError, ValueError):
        return Text.of(
            N_(
                "it is not a database address (for example "
                "sqlite+aiosqlite:///./var/trajectbot.db or "
                "postgresql+asyncpg://user:password@host/trajectbot)."
            )
        )
    if parsed.drivername not in SUPPORTED_DATABASES:
        return Text.of(
            N_(
                "the database driver “{driver}” is not supported: use sqlite+aiosqlite:// or "
                "postgresql+asyncpg://."
            ),
            driver=Text.raw(parsed.drivername[:40]),
        )
    return None


def _first_problem(invalid: ValidationError) -> SettingsError:
    """The first field pydantic refused, as the environment variable and its reason."""
    error = invalid.errors(include_url=False, include_input=False)[0]
    field = str(error["loc"][0]) if error["loc"] else "?"
    return SettingsError(
        field.upper(),
        Text.of(N_("the value is not accepted: {detail}."), detail=Text.raw(error["msg"])),
    )
