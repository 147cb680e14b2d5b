"""A notice as Telegram shows it: its text, then the prompt that says what to press.

`bot.outbox.messages` keeps the prompt ("Press the button to …") as a msgid of its own, left
out of e-mails; Telegram joins the two. Tests that compare a Telegram message in a language
render both parts with that language's catalog and join them the same way.
"""

from __future__ import annotations

from typing import NamedTuple

from dialogs.i18n import Catalog
from dialogs.text import Text


class Notice(NamedTuple):
    """The English source of a notice's text and of its Telegram prompt."""

    text: str
    prompt: str
    new_line: bool = False

    @property
    def english(self) -> str:
        """The whole Telegram text in English (the source)."""
        return f"{self.text}{self.separator}{self.prompt}"

    @property
    def separator(self) -> str:
        return "\n" if self.new_line else " "


def telegram_text(catalog: Catalog, notice: Notice, **params: object) -> str:
    """``notice`` as Telegram shows it in ``catalog``'s language."""
    text = catalog.render(Text.of(notice.text, **params))  # type: ignore[arg-type]
    return f"{text}{notice.separator}{catalog.render(Text.of(notice.prompt))}"
