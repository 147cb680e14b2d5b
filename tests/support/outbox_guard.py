"""Every outbox row product code writes, in every test, must be of a kind the worker can send.

`install` hooks the construction of `Outbox` rows (SQLAlchemy's ``init`` event). A row built by
product code (``services/``, ``bot/``, ``web/``; rows a test builds itself, with made-up kinds
to test the worker, are left alone) whose kind has no message in `bot.outbox.messages` is
recorded, and the autouse fixture in ``tests/conftest.py`` fails the test that wrote it. So
every journey the suite runs doubles as the check that no notice is written without a message
(issue 11: ``referral.accepted`` went out as "no message for it" for months).
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import event

from storage.models import Outbox

ROOT = Path(__file__).resolve().parents[2]
_PRODUCT = tuple(str(ROOT / part) + "/" for part in ("services", "bot", "web", "dialogs"))
_TESTS = str(ROOT / "tests") + "/"

#: (kind, file:line of the writer) of rows written without a message since the last `take`.
_unsendable: list[tuple[str, str]] = []
_installed: list[bool] = []


def _writer(frame: FrameType | None) -> str | None:
    """file:line of the product code that built the row, None when a test built it."""
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(_TESTS):
            return None
        if filename.startswith(_PRODUCT):
            return f"{Path(filename).relative_to(ROOT)}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def _on_init(target: Outbox, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    del target, args
    from bot.outbox.messages import KINDS  # the worker's registry, once a row is built

    kind = kwargs.get("kind")
    if kind in KINDS:
        return
    writer = _writer(sys._getframe(1))  # who is building this row
    if writer is not None:
        _unsendable.append((str(kind), writer))


def install() -> None:
    """Hook `Outbox` construction once per process."""
    if not _installed:
        event.listen(Outbox, "init", _on_init)
        _installed.append(True)


def take() -> list[tuple[str, str]]:
    """The rows recorded since the last call (and forget them)."""
    found = list(_unsendable)
    _unsendable.clear()
    return found
