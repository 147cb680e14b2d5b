"""Translatable text as data: a message id plus parameters, rendered later in the user's locale.

The engine and the services never translate: they return `Text` values, and the channel renders
them with the reader's catalog (see `dialogs.render`). That keeps the engine pure and lets the
same reply be shown in Dutch to one person and in Arabic to another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import TypeAlias

#: What a placeholder may hold. Dates, times of day and durations (``timedelta``: "15
#: minutes") are formatted per locale at render time; a nested `Text` is rendered first, a
#: tuple of them is joined as a list in the reader's language.
Param: TypeAlias = "str | int | date | datetime | time | timedelta | Text | tuple[Text, ...]"


def N_(message: str) -> str:  # noqa: N802 - gettext convention for "mark, translate later"
    """Mark a string for extraction without translating it now."""
    return message


@dataclass(frozen=True, slots=True)
class Text:
    """A message id (English source text) with named `{placeholders}`.

    ``plural`` + ``count`` select a plural form through the catalog (Babel/CLDR rules);
    ``literal`` marks user data (a name) that must not be looked up in a catalog.
    """

    msgid: str
    params: Mapping[str, Param] = field(default_factory=lambda: MappingProxyType({}))
    plural: str | None = None
    count: int | None = None
    literal: bool = False

    @classmethod
    def of(cls, msgid: str, **params: Param) -> Text:
        """Build a translatable text with parameters."""
        return cls(msgid, MappingProxyType(dict(params)))

    @classmethod
    def plural_of(cls, singular: str, plural: str, count: int, **params: Param) -> Text:
        """Build a text whose wording depends on ``count`` (``{count}`` is available)."""
        return cls(singular, MappingProxyType({"count": count, **params}), plural, count)

    @classmethod
    def raw(cls, value: Param) -> Text:
        """User data or a bare value (a name, a date) shown as is: never looked up in a catalog."""
        return cls("{value}", MappingProxyType({"value": value}), literal=True)
