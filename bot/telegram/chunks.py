"""Splitting text that is too long for one Telegram message (pure: no aiogram, no I/O).

Telegram refuses a message over 4,096 characters, counted in UTF-16 code units (an emoji or
another character outside the Basic Multilingual Plane counts twice). `split_message` cuts a
long text into parts within the limit, at the latest paragraph break, else line break, else
space of each part, so words stay whole; only a "word" longer than a whole message is cut
inside, and then never between a character and its combining marks. With ``html=True`` no cut
falls inside a tag (``<b>``) or an entity (``&amp;``); a tag opened in one part and closed in
the next is not re-balanced (the bot sends plain text; keep HTML elements short).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

#: Telegram's limit on a message's text, in UTF-16 code units.
MESSAGE_LIMIT = 4096

_HTML_ATOM = re.compile(r"<[^<>]*>|&#?\w+;")
_ZWJ = "\u200d"
#: Joiners and selectors that belong to the character before them.
_GLUE = {_ZWJ, "\ufe0e", "\ufe0f"}


def utf16_length(text: str) -> int:
    """The length of ``text`` as Telegram counts it (UTF-16 code units)."""
    # Two bytes per code unit; a lone surrogate (possible in a str) counts one, as Telegram's.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def split_message(text: str, limit: int = MESSAGE_LIMIT, *, html: bool = False) -> list[str]:
    """``text`` in parts of at most ``limit`` UTF-16 code units each, in order.

    A text within the limit comes back whole (one part). The whitespace a cut falls on is
    dropped (Telegram trims it anyway), and no part is empty or only whitespace.
    """
    if limit < 1:
        raise ValueError("the limit must be positive")
    if utf16_length(text) <= limit:
        return [text]
    parts: list[str] = []
    rest = text
    while utf16_length(rest) > limit:
        cut, resume = _cut(rest, limit, html=html)
        part = rest[:cut].rstrip()
        if part:
            parts.append(part)
        rest = rest[resume:]
        if cut == resume == 0:  # cannot happen (a cut always moves on); never loop forever
            raise AssertionError("no progress while splitting")
    if rest.strip():
        parts.append(rest)
    return parts or [text[: _fitting_prefix(text, limit)]]


def _cut(text: str, limit: int, *, html: bool) -> tuple[int, int]:
    """Where the first part ends (``cut``) and the rest begins (``resume``)."""
    window = _fitting_prefix(text, limit)
    blocked = _blocked(text, window) if html else set()
    half = window // 2
    breaks = (
        _last_match(text, window, re.compile(r"\n\s*\n"), blocked),
        _last_match(text, window, re.compile(r"\n"), blocked),
        _last_match(text, window, re.compile(r"[^\S\n]+"), blocked),
    )
    # The strongest break in the second half of the window; else the latest break of any kind
    # (a short first part beats a word cut in two).
    for found in breaks:
        if found is not None and found[0] >= half:
            return found
    latest = max((found for found in breaks if found is not None), default=None)
    if latest is not None and latest[0] > 0:
        return latest
    cut = _hard_cut(text, window, blocked)
    return cut, cut


def _fitting_prefix(text: str, limit: int) -> int:
    """The largest index ``i`` with ``utf16_length(text[:i]) <= limit``."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def _last_match(
    text: str, window: int, pattern: re.Pattern[str], blocked: set[int]
) -> tuple[int, int] | None:
    """(start, end) of the last break in ``text[:window + 1]`` not inside an HTML atom.

    The break itself may reach past the window (it is dropped), its start may not.
    """
    found: tuple[int, int] | None = None
    for match in pattern.finditer(text, 0, min(len(text), window + 1)):
        start = match.start()
        if start <= window and start not in blocked:
            end = match.end()
            # The whitespace that goes on after the break (past the window, or the next
            # line's blank start) is dropped with it.
            while end < len(text) and text[end].isspace():
                end += 1
            found = (start, end)
    return found


def _hard_cut(text: str, window: int, blocked: set[int]) -> int:
    """A cut inside a word: before ``window``, not splitting a character from its marks
    (or inside an HTML atom); at least one character, so splitting always moves on."""
    cut = window
    while cut > 1 and (cut in blocked or _attached(text[cut]) or text[cut - 1] == _ZWJ):
        cut -= 1
    return max(cut, 1)


def _attached(char: str) -> bool:
    """A character that belongs to the one before it (a combining mark, a joiner, a
    variation selector, an emoji skin tone)."""
    return (
        char in _GLUE
        or unicodedata.category(char) in ("Mn", "Me", "Mc")
        or 0x1F3FB <= ord(char) <= 0x1F3FF
    )


def _blocked(text: str, window: int) -> set[int]:
    """Indices a cut may not fall on: inside a tag or entity (after its first character)."""
    inside: set[int] = set()
    for match in _atoms(text, window):
        inside.update(range(match.start() + 1, match.end()))
    return inside


def _atoms(text: str, window: int) -> Iterator[re.Match[str]]:
    # An atom starting at or before the window may reach past it; look a little further.
    for match in _HTML_ATOM.finditer(text, 0, min(len(text), window + 1024)):
        if match.start() > window:
            break
        yield match
