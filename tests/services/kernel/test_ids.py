"""`services.kernel.ids`: an id from outside names a possible row, or it is nothing."""

from __future__ import annotations

import pytest

from services.kernel.ids import MAX_ID, id_in_range, parse_id


@pytest.mark.parametrize(
    "raw",
    ["", "0", "-1", "+1", " 1", "1 ", "1e3", "²", "١٢", "2147483648", "9" * 30, None, 1.0, True],
)
def test_what_cannot_name_a_row_is_none(raw: object) -> None:
    assert parse_id(raw) is None


@pytest.mark.parametrize(("raw", "value"), [("1", 1), ("42", 42), (str(MAX_ID), MAX_ID), (7, 7)])
def test_a_possible_id_is_its_number(raw: object, value: int) -> None:
    assert parse_id(raw) == value


def test_the_range_is_postgresql_integer() -> None:
    assert MAX_ID == 2**31 - 1
    assert id_in_range(1)
    assert id_in_range(MAX_ID)
    assert not id_in_range(0)
    assert not id_in_range(MAX_ID + 1)
    assert not id_in_range(2**63)
    assert parse_id(2**63) is None
