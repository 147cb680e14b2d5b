"""Queue actions: the care coordinator's decision on a queue item, and internal notes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

``queue_item`` gains ``decision`` (accepted / declined), ``decision_reason`` (why it was
declined), ``decided_at`` and ``decided_by_id`` (a person of the item's school);
``queue_note`` holds the coordinators' internal notes. Hand-checked against `storage.models`;
`tests/storage/test_migrations.py` proves they match. On SQLite, batch mode copies
``queue_item`` to add the constraints (SQLite cannot add them in place).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DECISION_COMPLETE = (
    "(decision IS NULL AND decided_at IS NULL AND decided_by_id IS NULL"
    " AND decision_reason IS NULL)"
    " OR (decision IS NOT NULL AND decided_at IS NOT NULL AND decided_by_id IS NOT NULL"
    " AND (decision <> 'declined' OR decision_reason IS NOT NULL))"
)


def upgrade() -> None:
    """Add the decision columns to ``queue_item`` and create ``queue_note``."""
    with op.batch_alter_table("queue_item") as batch:
        batch.add_column(sa.Column("decision", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("decision_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("decided_by_id", sa.Integer(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_queue_item_queue_decision"), "decision IN ('accepted', 'declined')"
        )
        batch.create_check_constraint(
            op.f("ck_queue_item_decision_complete"), sa.text(DECISION_COMPLETE)
        )
        batch.create_foreign_key(
            op.f("fk_queue_item_school_id_decided_by_id_person"),
            "person",
            ["school_id", "decided_by_id"],
            ["school_id", "id"],
        )

    op.create_table(
        "queue_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("queue_item_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_item_id"],
            ["queue_item.id"],
            name=op.f("fk_queue_note_queue_item_id_queue_item"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "author_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_queue_note_school_id_author_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_queue_note_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_note")),
    )
    op.create_index(
        op.f("ix_queue_note_queue_item_id"), "queue_note", ["queue_item_id"], unique=False
    )


def downgrade() -> None:
    """Drop ``queue_note`` and the decision columns (their constraints go first)."""
    op.drop_table("queue_note")
    with op.batch_alter_table("queue_item") as batch:
        batch.drop_constraint(
            op.f("fk_queue_item_school_id_decided_by_id_person"), type_="foreignkey"
        )
        batch.drop_constraint(op.f("ck_queue_item_decision_complete"), type_="check")
        batch.drop_constraint(op.f("ck_queue_item_queue_decision"), type_="check")
        batch.drop_column("decided_by_id")
        batch.drop_column("decided_at")
        batch.drop_column("decision_reason")
        batch.drop_column("decision")
