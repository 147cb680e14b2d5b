"""The guard (issue 13 follow-up): every table that can hold something about a person is in
the person export or in the commented allow-list of what is deliberately not exported.

"Can hold something about a person": a foreign key to ``person`` (directly, or through the
tables that do: a survey answer through its response and invitation, a saved queue view
through its web account), or a free-text or JSON column (free text may name anyone). A new
table of either kind fails here until `services.privacy.collect.EXPORTED_TABLES` or
`services.privacy.coverage.NOT_EXPORTED` says where it stands.
"""

from __future__ import annotations

from sqlalchemy import JSON, Table, Text

from services.privacy.collect import EXPORTED_TABLES, SECTIONS
from services.privacy.coverage import NOT_EXPORTED
from storage.models import Base


def _reaches_person(tables: dict[str, Table]) -> set[str]:
    reach = {"person"}
    grown = True
    while grown:
        grown = False
        for name, table in tables.items():
            if name not in reach and any(
                fk.column.table.name in reach for fk in table.foreign_keys
            ):
                reach.add(name)
                grown = True
    return reach


def _has_free_text(table: Table) -> bool:
    return any(isinstance(c.type, Text | JSON) for c in table.columns)


def personal_tables() -> set[str]:
    """The tables of the models' metadata that can hold something about a person."""
    tables = dict(Base.metadata.tables)
    return _reaches_person(tables) | {n for n, t in tables.items() if _has_free_text(t)}


def test_every_table_about_a_person_is_exported_or_deliberately_left_out() -> None:
    missing = personal_tables() - set(EXPORTED_TABLES) - set(NOT_EXPORTED)
    assert not missing, (
        f"tables {sorted(missing)} can hold personal data but are neither in the person "
        "export (services/privacy/collect.py EXPORTED_TABLES) nor in the commented allow-list "
        "(services/privacy/coverage.py NOT_EXPORTED); decide, and see to erasure and retention"
    )


def test_the_lists_name_real_tables_once_with_real_sections() -> None:
    tables = set(Base.metadata.tables)
    assert set(EXPORTED_TABLES) <= tables, set(EXPORTED_TABLES) - tables
    assert set(NOT_EXPORTED) <= tables, set(NOT_EXPORTED) - tables
    assert not set(EXPORTED_TABLES) & set(NOT_EXPORTED)
    assert all(reason.strip() for reason in NOT_EXPORTED.values())
    named = {section for sections in EXPORTED_TABLES.values() for section in sections}
    assert named <= set(SECTIONS), named - set(SECTIONS)


def test_the_guard_sees_the_new_tables() -> None:
    """The walk finds the tables that landed without the export (the reason for this guard),
    both those pointing at a person and those reaching one through another table."""
    assert {
        "consent",
        "district_coach_request",
        "care_team_case",
        "care_team_meeting",
        "support_activity",
        "student_event",
        "queue_filter_set",
        "survey_answer",
    } <= personal_tables()
