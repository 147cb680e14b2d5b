"""Logging for every process (`bot.app.build_app`): LOG_LEVEL for the product's own loggers,
and the libraries that would write personal data kept quieter whatever LOG_LEVEL says.

The product's loggers write ids only (docs/architecture.md, "Privacy"). Some libraries log
what passes through them when their logger is at DEBUG or INFO: SQLAlchemy's engine logs the
rows it reads at DEBUG (names, care texts; its bound parameters are hidden at the engine too:
`storage.db.create_engine` sets ``hide_parameters``), aiosqlite logs every call with its
parameters, aiosmtplib the mail it sends, fontTools the glyphs of a PDF's text, httpx the URL
of each request (the Bot API's carries the bot token). Those loggers never go below the level
in `QUIETED`, so ``LOG_LEVEL=DEBUG`` is safe to switch on at a school
(`tests/bot/test_logs_carry_no_personal_data.py` plants names and greps everything logged).
"""

from __future__ import annotations

import logging

#: The lowest level each library logger may log at (its DEBUG/INFO carries personal data or
#: secrets; see the module's docstring). A logger and all its children.
QUIETED: dict[str, int] = {
    "sqlalchemy": logging.WARNING,
    "aiosqlite": logging.WARNING,
    "asyncpg": logging.WARNING,
    "aiosmtplib": logging.WARNING,
    "mail.log": logging.WARNING,  # aiosmtpd (the test SMTP server)
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "fontTools": logging.WARNING,
    "fpdf": logging.WARNING,
    "PIL": logging.WARNING,
    "multipart": logging.WARNING,
    "python_multipart": logging.WARNING,
    "openpyxl": logging.WARNING,
    "alembic": logging.WARNING,  # narrates every schema check at INFO
    "uvicorn.access": logging.WARNING,  # paths carry personal link tokens (/c/<token>)
    "aiohttp.access": logging.WARNING,
    # aiogram at DEBUG narrates updates and API calls; INFO says "update handled", ids only.
    "aiogram": logging.INFO,
    "aiohttp": logging.INFO,
    "asyncio": logging.INFO,
}

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    """Log at ``level`` (a name: DEBUG, INFO, …; validated by `bot.config.load_settings`),
    the loggers in `QUIETED` never below their floor."""
    numeric = logging.getLevelName(level.strip().upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    logging.basicConfig(level=numeric, format=_FORMAT)
    # basicConfig does nothing when the root logger has a handler already (a second app in
    # the same process, a test runner): the level is set either way.
    logging.getLogger().setLevel(numeric)
    for name, floor in QUIETED.items():
        logging.getLogger(name).setLevel(max(floor, numeric))
