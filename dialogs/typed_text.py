"""The one rule for text a person types, in the chat or in a web form (pure: no I/O).

* Control characters (NUL and the other C0/C1 controls, DEL) are refused with a reason the
  person reads: they are never typed on purpose, PostgreSQL refuses a NUL outright, and a
  silently changed text is worse than a question. Line breaks and tabs are text (``\\r\\n`` and
  ``\\r`` from a browser's textarea become ``\\n``).
* Bidirectional *embeddings, overrides and isolates* (U+202A–U+202E, U+2066–U+2069) are
  removed from what is stored: one typed into a referral would otherwise reach the care
  coordinator's card and page and reorder the line around it. Isolates are added at render
  time only, around each inserted value (`dialogs.i18n`). The *marks* U+200E, U+200F and
  U+061C stay: they hold no state that leaks past the text and Arabic keyboards type them.
"""

from __future__ import annotations

import unicodedata

from dialogs.text import N_, Text

#: Removed from stored text (see the module's docstring).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: The control characters that are text.
KEPT_CONTROLS = frozenset("\n\t")

CONTROL_REFUSED = Text.of(
    N_(
        "Your text contains an invisible control character (for example a NUL). Please type "
        "it again without it."
    )
)


def _unify_line_breaks(raw: str) -> str:
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def has_control(raw: str) -> bool:
    """Whether ``raw`` holds a control character other than a line break or tab."""
    return any(
        unicodedata.category(ch) == "Cc" and ch not in KEPT_CONTROLS
        for ch in _unify_line_breaks(raw)
    )


def control_problem(raw: str) -> Text | None:
    """The reason ``raw`` is refused for its control characters, or ``None``."""
    return CONTROL_REFUSED if has_control(raw) else None


def clean(raw: str) -> str:
    """``raw`` as stored: line breaks unified, controls and bidi controls removed (controls are
    refused before; removing them again keeps anything that slipped through out of storage),
    NFC, outer whitespace stripped."""
    kept = "".join(
        ch
        for ch in _unify_line_breaks(raw)
        if ch not in BIDI_CONTROLS and (ch in KEPT_CONTROLS or unicodedata.category(ch) != "Cc")
    )
    return unicodedata.normalize("NFC", kept).strip()
