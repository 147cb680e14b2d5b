"""A setting that cannot be used, said in one line: which setting and why.

Light on purpose (only `dialogs.text`): the command line's guard (`bot.cli_guard`) catches it
without importing pydantic-settings or SQLAlchemy.
"""

from __future__ import annotations

from dialogs.text import N_, Text


class SettingsError(Exception):
    """``name`` (the environment variable, e.g. ``DATABASE_URL``) cannot be used: ``reason``."""

    def __init__(self, name: str, reason: Text) -> None:
        super().__init__(name)
        self.name = name
        self.reason = reason

    @property
    def text(self) -> Text:
        """The one line the operator reads."""
        return Text.of(
            N_("The setting {name} is not valid: {reason}"),
            name=Text.raw(self.name),
            reason=self.reason,
        )
