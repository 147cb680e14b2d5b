"""Login throttling instead of a hard lock-out (issue 13): the recent failures at the login form.

Revision ID: 0018_login_throttle
Revises: 0017_health

``login_failure`` holds one row per wrong password or unknown username, with the SHA-256 of
the username typed and of the client address (never either as typed) and the time. The login
form counts them per (username, address) and per address to ask for progressive waits
(`services.accounts.rules.required_wait`). ``staff_account.failed_attempts`` and
``locked_until`` stay (unused) so that a downgrade loses nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_login_throttle"
down_revision: str | None = "0017_health"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``login_failure`` with its indexes; lift every hard lock still running."""
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username_hash", sa.String(length=64), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    op.create_index(
        op.f("ix_login_failure_username_hash"), "login_failure", ["username_hash"], unique=False
    )
    op.create_index(
        op.f("ix_login_failure_failed_at"), "login_failure", ["failed_at"], unique=False
    )
    op.create_index(
        op.f("ix_login_failure_address_hash_failed_at"),
        "login_failure",
        ["address_hash", "failed_at"],
        unique=False,
    )
    op.execute("UPDATE staff_account SET failed_attempts = 0, locked_until = NULL")


def downgrade() -> None:
    """Drop ``login_failure`` (the old lock-out starts afresh)."""
    op.drop_index(op.f("ix_login_failure_address_hash_failed_at"), table_name="login_failure")
    op.drop_index(op.f("ix_login_failure_failed_at"), table_name="login_failure")
    op.drop_index(op.f("ix_login_failure_username_hash"), table_name="login_failure")
    op.drop_table("login_failure")
