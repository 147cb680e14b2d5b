"""The stylesheets parse as written: every ``{`` has its ``}``.

An unclosed ``@media (max-width: 40rem) {`` in style.css once made every rule after it apply on
phones only (on a laptop the skip link stood above the header on every page); a browser
forgives the missing brace silently, so the source is checked here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from web.templating import STATIC_DIR

#: Comments and quoted strings: their braces are not the stylesheet's.
NOT_CODE = re.compile(r"/\*.*?\*/|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'", re.DOTALL)


def unbalanced(css: str) -> list[str]:
    """Where the braces of ``css`` do not pair (line numbers), empty when they all do."""
    problems: list[str] = []
    opened: list[int] = []
    code = NOT_CODE.sub(lambda match: re.sub(r"[^\n]", " ", match.group()), css)
    for number, line in enumerate(code.splitlines(), start=1):
        for char in line:
            if char == "{":
                opened.append(number)
            elif char == "}":
                if not opened:
                    problems.append(f"line {number}: '}}' closes nothing")
                else:
                    opened.pop()
    problems.extend(f"line {number}: '{{' is never closed" for number in opened)
    return problems


def test_the_check_finds_an_unclosed_block() -> None:
    assert unbalanced("a { b: c; }\n@media (x) {\n  d { e: f; }\n.g { h: i; }") == [
        "line 2: '{' is never closed"
    ]
    assert unbalanced("a { content: '}'; } /* { */") == []
    assert unbalanced("a { b: c; }}") == ["line 1: '}' closes nothing"]


@pytest.mark.parametrize("path", sorted(STATIC_DIR.glob("*.css")), ids=lambda path: path.name)
def test_every_brace_of_the_stylesheets_is_paired(path: Path) -> None:
    assert unbalanced(path.read_text(encoding="utf-8")) == []
