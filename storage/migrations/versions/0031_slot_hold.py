"""A chosen time is held for a few minutes (domain.md, "Double bookings").

Revision ID: 0031_slot_hold
Revises: 0030_adult_students

``slot_hold``: one row per slot row a person's chosen time would take, kept from others until
``expires_at`` while they read the summary (`services.appointments.holds`). A new table;
nothing to move.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031_slot_hold"
down_revision: str | None = "0030_adult_students"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``slot_hold``."""
    op.create_table(
        "slot_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("resource", sa.String(length=32), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id", "holder_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_slot_hold_school_id_holder_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_slot_hold_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_hold")),
        sa.UniqueConstraint(
            "holder_id",
            "resource",
            "starts_at",
            name=op.f("uq_slot_hold_holder_id_resource_starts_at"),
        ),
    )
    op.create_index(
        op.f("ix_slot_hold_school_id_resource_starts_at"),
        "slot_hold",
        ["school_id", "resource", "starts_at"],
        unique=False,
    )


def downgrade() -> None:
    """Drop ``slot_hold`` (minutes-long holds; nothing lasting is lost)."""
    op.drop_index(op.f("ix_slot_hold_school_id_resource_starts_at"), table_name="slot_hold")
    op.drop_table("slot_hold")
