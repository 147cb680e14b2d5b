"""A school's own "About the support room" text per language (issue 15.7).

Revision ID: 0022_about_text
Revises: 0021_outbox_leases

``school_about_text`` holds at most one text per (school, language), written by the school's
administrator in the settings area. A language without a row shows the catalogs' default.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_about_text"
down_revision: str | None = "0021_outbox_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``school_about_text``."""
    op.create_table(
        "school_about_text",
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_school_about_text_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["person.id"],
            name=op.f("fk_school_about_text_updated_by_id_person"),
        ),
        sa.PrimaryKeyConstraint("school_id", "language", name=op.f("pk_school_about_text")),
    )


def downgrade() -> None:
    """Drop ``school_about_text`` (the schools' own texts are lost; the defaults remain)."""
    op.drop_table("school_about_text")
