"""The cache version (issue 16): one counter bumped by every write to a cached table.

Revision ID: 0027_versions
Revises: 0026_care_team

Workers cache people, roles and option lists per process and read ``cache_version.version``
once per update; a change (by any worker, the web, the CLI) bumps it in the same transaction.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_versions"
down_revision: str | None = "0026_care_team"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the one-row table, at version 0."""
    table = op.create_table(
        "cache_version",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("version", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cache_version")),
    )
    op.bulk_insert(table, [{"id": 1, "version": 0}])


def downgrade() -> None:
    """Drop the table."""
    op.drop_table("cache_version")
