"""The rule for typed text (`dialogs.typed_text`): controls refused, bidi controls dropped."""

from __future__ import annotations

import pytest

from dialogs.typed_text import BIDI_CONTROLS, CONTROL_REFUSED, clean, control_problem


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x0b", "\x0c"])
def test_control_characters_are_refused(control: str) -> None:
    assert control_problem(f"Hallo{control}daar") == CONTROL_REFUSED


@pytest.mark.parametrize("text", ["Regel 1\nRegel 2", "a\tb", "Windows\r\nregel", "oud\rMac"])
def test_line_breaks_and_tabs_are_text(text: str) -> None:
    assert control_problem(text) is None


def test_bidi_embeddings_overrides_and_isolates_are_dropped_marks_kept() -> None:
    assert len(BIDI_CONTROLS) == 9
    typed = "".join(sorted(BIDI_CONTROLS)) + "مرحبا\u200f abc\u200e \u061c"
    assert clean(typed) == "مرحبا\u200f abc\u200e \u061c"
    assert clean("  \u202eevil\u202c\r\nline  ") == "evil\nline"
