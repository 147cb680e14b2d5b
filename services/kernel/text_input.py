"""Free text typed by a person, cleaned and length-checked the same way everywhere.

Every service that stores free text (a decline reason, a note, trajectory goals, a logbook
entry, an open answer of the exit questionnaire) goes through these two functions, so a text
typed in the chat and one posted from the web count and fail the same way, with the same
translated message.
"""

from __future__ import annotations

from dialogs.text import Text
from dialogs.typed_text import clean, control_problem


def clean_text(raw: str) -> str:
    """``raw`` as stored: without control and bidi control characters (line breaks and tabs
    kept), NFC, outer whitespace stripped — as the dialog engine does (`dialogs.typed_text`)."""
    return clean(raw)


def validate_text(raw: str, minimum: int, maximum: int) -> Text | None:
    """What is wrong with typed ``raw``: a control character (NUL …), or its cleaned length;
    ``None`` when it can be stored (as `clean_text` makes it)."""
    return control_problem(raw) or validate_length(clean_text(raw), minimum, maximum)


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
