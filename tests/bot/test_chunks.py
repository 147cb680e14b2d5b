"""Splitting long texts for Telegram: within 4,096 UTF-16 code units, at natural breaks."""

from __future__ import annotations

import re

import pytest

from bot.telegram.chunks import MESSAGE_LIMIT, split_message, utf16_length


def _words(parts: list[str]) -> list[str]:
    return [word for part in parts for word in part.split()]


def test_a_text_within_the_limit_is_one_part() -> None:
    text = "a" * MESSAGE_LIMIT

    assert split_message(text) == [text]
    assert split_message("") == [""]


def test_length_is_counted_in_utf16_code_units() -> None:
    assert utf16_length("abc") == 3
    assert utf16_length("é") == 1
    assert utf16_length("😀") == 2  # outside the Basic Multilingual Plane: a surrogate pair
    assert utf16_length("مرحبا") == 5


def test_emoji_count_twice_so_a_text_of_4096_characters_may_not_fit() -> None:
    text = "😀" * 2049  # 2,049 characters, 4,098 code units

    parts = split_message(text)

    assert len(parts) == 2
    assert all(utf16_length(p) <= MESSAGE_LIMIT for p in parts)
    assert "".join(parts) == text  # no pair cut in half, nothing lost


def test_paragraph_breaks_are_preferred() -> None:
    first, second, third = "A" * 2500, "B" * 1000, "C" * 1000  # a line break comes later
    text = f"{first}\n\n{second}\n{third}"

    parts = split_message(text)

    assert parts == [f"{first}", f"{second}\n{third}"]


def test_line_breaks_when_no_paragraph_break_is_late_enough() -> None:
    lines = [f"Line {n}: " + "x" * 90 for n in range(60)]
    text = "\n".join(lines)

    parts = split_message(text)

    assert all(utf16_length(p) <= MESSAGE_LIMIT for p in parts)
    assert "\n".join(parts) == text  # only whole lines in each part
    assert all(utf16_length(p) > MESSAGE_LIMIT // 2 for p in parts[:-1])


def test_words_stay_whole_in_one_long_line() -> None:
    text = " ".join(f"word{n}" for n in range(2000))  # about 17,000 characters, no newline

    parts = split_message(text)

    assert len(parts) > 1
    assert all(utf16_length(p) <= MESSAGE_LIMIT for p in parts)
    assert _words(parts) == text.split()


def test_a_word_longer_than_a_message_is_cut_inside_only_then() -> None:
    text = "start " + "x" * 9000 + " end"

    parts = split_message(text)

    assert all(utf16_length(p) <= MESSAGE_LIMIT for p in parts)
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")
    assert parts[0] == "start"  # the cut falls before the long word, not inside "start"


def test_combining_marks_stay_with_their_letter() -> None:
    text = "e\u0301" * 3000  # "é" as e + combining acute, no spaces

    parts = split_message(text, 1001)

    assert all(not p.startswith("\u0301") for p in parts)
    assert "".join(parts) == text


def test_emoji_sequences_are_not_cut_after_a_joiner() -> None:
    family = "👩\u200d👩\u200d👧"
    text = family * 1000

    parts = split_message(text, 999)

    assert all(utf16_length(p) <= 999 for p in parts)
    assert all(not p.startswith("\u200d") and not p.endswith("\u200d") for p in parts)
    assert "".join(parts) == text


@pytest.mark.parametrize("limit", [50, 97, 1000])
def test_html_tags_and_entities_are_never_cut(limit: int) -> None:
    text = " ".join(
        ["<b>bold&amp;more</b>", "&lt;x&gt;", "<a href='https://e.x/a b'>link</a>"] * 100
    )

    parts = split_message(text, limit, html=True)

    atom = re.compile(r"<[^<>]*>|&#?\w+;")
    assert all(utf16_length(p) <= limit for p in parts)
    for part in parts:
        stripped = atom.sub("", part)
        assert "<" not in stripped
        assert ">" not in stripped
        assert not re.search(r"&#?\w*$", stripped)
    assert _words(parts) == text.split()


def test_no_part_is_empty_and_nothing_is_lost_but_the_breaks() -> None:
    text = ("Paragraph. " * 50 + "\n\n\n") * 40

    parts = split_message(text)

    assert all(p.strip() for p in parts)
    assert _words(parts) == text.split()
