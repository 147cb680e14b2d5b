"""Free text typed by a person, cleaned and length-checked the same way everywhere.

Every service that stores free text (a decline reason, a note, trajectory goals, a logbook
entry, an open answer of the exit questionnaire) goes through these two functions, so a text
typed in the chat and one posted from the web count and fail the same way, with the same
translated message.
"""

from __future__ import annotations

import unicodedata

from dialogs.text import Text


def clean_text(raw: str) -> str:
    """``raw`` without control characters (line breaks and tabs kept) and outer whitespace, NFC."""
    # As the dialog engine does: keep words and line breaks, drop control characters and
    # outer whitespace, so a reason typed in the chat and one passed here count the same.
    kept = "".join(ch for ch in raw if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return unicodedata.normalize("NFC", kept).strip()


def validate_length(text: str, minimum: int, maximum: int) -> Text | None:
    """What is wrong with the length of (cleaned) ``text``, or ``None`` when it is fine."""
    # The same wording as the dialog engine's text steps, so the catalogs hold it once.
    if len(text) < minimum:
        return Text.plural_of(
            "That is too short: please write at least {count} character.",
            "That is too short: please write at least {count} characters.",
            minimum,
        )
    if len(text) > maximum:
        return Text.plural_of(
            "That is too long: at most {count} character, yours has {length}.",
            "That is too long: at most {count} characters, yours has {length}.",
            maximum,
            length=len(text),
        )
    return None
