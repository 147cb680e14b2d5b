"""Web: staff accounts, sessions, login links, logbook (issue 6); the queue's age clock and
what a waiting item waits for; the ``partnership_viewer`` role.

Revision ID: 0008
Revises: 0007

``queue_item`` gains ``waiting_since``, ``waiting_reason`` and ``paused_seconds`` with plain
``ADD COLUMN`` (no table copy: on SQLite, copying ``queue_item`` would drop and recreate a
table that others reference with ON DELETE CASCADE). Items already waiting (accepted, intake
to be planned) start their pause at their last update.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = ("student", "parent", "mentor", "teacher", "coach", "care_coordinator", "admin")
NEW_ROLES = (*OLD_ROLES, "partnership_viewer")
WAITING_REASONS = ("care_team", "intake")


def _in(column: str, values: Sequence[str]) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{value}'" for value in values))


def _set_roles(values: Sequence[str]) -> None:
    for table in ("person_role", "invite"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_role"), type_="check")
            batch.create_check_constraint(op.f(f"ck_{table}_role"), _in("role", values))


def upgrade() -> None:
    """Create the web tables and the logbook; add the age clock to ``queue_item``."""
    _set_roles(NEW_ROLES)
    _add_queue_clock()
    _create_web_chat_session()
    op.create_table(
        "staff_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id", "person_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_staff_account_school_id_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_staff_account_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_account")),
        sa.UniqueConstraint("person_id", name=op.f("uq_staff_account_person_id")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_account_username")),
    )
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["staff_account.id"],
            name=op.f("fk_web_session_account_id_staff_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "person_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_web_session_school_id_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_web_session_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_session_token_hash")),
    )
    op.create_index(op.f("ix_web_session_account_id"), "web_session", ["account_id"], unique=False)
    op.create_index(op.f("ix_web_session_person_id"), "web_session", ["person_id"], unique=False)
    op.create_table(
        "login_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id", "person_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_login_link_school_id_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_login_link_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_link_token_hash")),
    )
    op.create_index(op.f("ix_login_link_person_id"), "login_link", ["person_id"], unique=False)
    op.create_table(
        "logbook_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("trajectory_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id", "author_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_logbook_entry_school_id_author_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "trajectory_id"],
            ["trajectory.school_id", "trajectory.id"],
            name=op.f("fk_logbook_entry_school_id_trajectory_id_trajectory"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_logbook_entry_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logbook_entry")),
    )
    op.create_index(
        op.f("ix_logbook_entry_trajectory_id"), "logbook_entry", ["trajectory_id"], unique=False
    )


def _add_queue_clock() -> None:
    check = _in("waiting_reason", WAITING_REASONS)
    op.add_column(
        "queue_item", sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "queue_item",
        sa.Column("paused_seconds", sa.Integer(), server_default="0", nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its CHECK in place; a separate constraint would need a copy.
        op.execute(
            "ALTER TABLE queue_item ADD COLUMN waiting_reason VARCHAR(32)"
            f" CONSTRAINT ck_queue_item_waiting_reason CHECK ({check})"
        )
    else:
        op.add_column("queue_item", sa.Column("waiting_reason", sa.String(32), nullable=True))
        op.create_check_constraint(op.f("ck_queue_item_waiting_reason"), "queue_item", check)
    op.execute(
        "UPDATE queue_item SET waiting_since = updated_at, waiting_reason = 'intake'"
        " WHERE status = 'waiting'"
    )


def downgrade() -> None:
    """Drop the web tables and the logbook, the age clock and the partnership viewers."""
    _drop_web_chat_session()
    op.drop_index(op.f("ix_logbook_entry_trajectory_id"), table_name="logbook_entry")
    op.drop_table("logbook_entry")
    op.drop_index(op.f("ix_login_link_person_id"), table_name="login_link")
    op.drop_table("login_link")
    op.drop_index(op.f("ix_web_session_person_id"), table_name="web_session")
    op.drop_index(op.f("ix_web_session_account_id"), table_name="web_session")
    op.drop_table("web_session")
    op.drop_table("staff_account")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite refuses DROP COLUMN for a column with a CHECK: copy the table (a downgrade
        # is a development tool; see the module docstring for why upgrade avoids this).
        with op.batch_alter_table("queue_item") as batch:
            batch.drop_constraint(op.f("ck_queue_item_waiting_reason"), type_="check")
            batch.drop_column("waiting_reason")
            batch.drop_column("paused_seconds")
            batch.drop_column("waiting_since")
    else:
        op.drop_constraint(op.f("ck_queue_item_waiting_reason"), "queue_item", type_="check")
        op.drop_column("queue_item", "waiting_reason")
        op.drop_column("queue_item", "paused_seconds")
        op.drop_column("queue_item", "waiting_since")
    op.execute("DELETE FROM person_role WHERE role = 'partnership_viewer'")
    op.execute("DELETE FROM invite WHERE role = 'partnership_viewer'")
    _set_roles(OLD_ROLES)


def _create_web_chat_session() -> None:
    """The web chat's browser sessions (parents and students who opened a personal link)."""
    op.create_table(
        "web_chat_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("survey_invitation_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_secret", sa.String(length=64), nullable=False),
        sa.Column("flash", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id", "person_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_web_chat_session_school_id_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "survey_invitation_id"],
            ["survey_invitation.school_id", "survey_invitation.id"],
            name=op.f("fk_web_chat_session_school_id_survey_invitation_id_survey_invitation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_web_chat_session_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_chat_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_chat_session_token_hash")),
    )
    op.create_index(
        op.f("ix_web_chat_session_person_id"), "web_chat_session", ["person_id"], unique=False
    )


def _drop_web_chat_session() -> None:
    op.drop_index(op.f("ix_web_chat_session_person_id"), table_name="web_chat_session")
    op.drop_table("web_chat_session")
