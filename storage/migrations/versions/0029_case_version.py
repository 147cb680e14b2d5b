"""The case version (issue 16): a second counter, bumped by writes to referrals, queue items and
trajectories.

Revision ID: 0029_case_version
Revises: 0028_referral_consent

Workers keep what they derive from a case's stage (a mentor's mentees with an open referral,
the verwijzing's warning) per process and read ``cache_version.case_version`` in the same
statement as ``version``; a write to a case bumps it in its own transaction.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029_case_version"
down_revision: str | None = "0028_referral_consent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column, at 0."""
    with op.batch_alter_table("cache_version") as batch:
        batch.add_column(
            sa.Column("case_version", sa.BigInteger(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("cache_version") as batch:
        batch.drop_column("case_version")
