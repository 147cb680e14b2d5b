"""Initial schema: schools, people and roles, invites, conversations, referrals, queue, outbox,
audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Hand-checked against `storage.models`; `tests/storage/test_migrations.py` proves they match.
Constraint names follow `storage.models.base.NAMING_CONVENTION` and are spelled out here
(``op.f``) so that this revision does not depend on the models as they evolve.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("student", "parent", "mentor", "teacher", "coach", "care_coordinator", "admin")


def _enum(
    table: str, column: str, name: str, values: Sequence[str]
) -> tuple[sa.Column[str], sa.CheckConstraint]:
    """A VARCHAR(32) column plus the CHECK constraint `storage.models.base.str_enum` creates."""
    allowed = ", ".join(f"'{value}'" for value in values)
    return (
        sa.Column(column, sa.String(length=32), nullable=False),
        sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_{table}_{name}")),
    )


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create every table of the first release."""
    op.create_table(
        "school",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school")),
        sa.UniqueConstraint("code", name=op.f("uq_school_code")),
    )

    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("group_name", sa.String(length=32), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=True),
        sa.Column("telegram_chat_id", sa.BigInteger(), nullable=True),
        _timestamp("unreachable_at", nullable=True),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_person_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint(
            "school_id", "external_id", name=op.f("uq_person_school_id_external_id")
        ),
        sa.UniqueConstraint("school_id", "id", name=op.f("uq_person_school_id_id")),
        sa.UniqueConstraint("telegram_user_id", name=op.f("uq_person_telegram_user_id")),
    )

    op.create_table(
        "person_role",
        sa.Column("person_id", sa.Integer(), nullable=False),
        *_enum("person_role", "role", "role", ROLES),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_person_role_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "role", name=op.f("pk_person_role")),
    )

    for link, holder in (("guardianship", "parent_id"), ("mentorship", "mentor_id")):
        op.create_table(
            link,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("school_id", sa.Integer(), nullable=False),
            sa.Column(holder, sa.Integer(), nullable=False),
            sa.Column("student_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["school_id", holder],
                ["person.school_id", "person.id"],
                name=op.f(f"fk_{link}_school_id_{holder}_person"),
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                ["school_id", "student_id"],
                ["person.school_id", "person.id"],
                name=op.f(f"fk_{link}_school_id_student_id_person"),
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                ["school_id"], ["school.id"], name=op.f(f"fk_{link}_school_id_school")
            ),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{link}")),
            sa.UniqueConstraint(holder, "student_id", name=op.f(f"uq_{link}_{holder}_student_id")),
        )
        op.create_index(op.f(f"ix_{link}_student_id"), link, ["student_id"], unique=False)

    op.create_table(
        "invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        *_enum("invite", "role", "role", ROLES),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        _timestamp("expires_at"),
        _timestamp("used_at", nullable=True),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_invite_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_invite_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invite_token_hash")),
    )
    op.create_index(op.f("ix_invite_person_id"), "invite", ["person_id"], unique=False)

    op.create_table(
        "conversation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("flow", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        *_enum(
            "conversation", "status", "conversation_status", ("active", "completed", "cancelled")
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_conversation_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_conversation_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation")),
        sa.UniqueConstraint("person_id", "flow", name=op.f("uq_conversation_person_id_flow")),
    )

    op.create_table(
        "referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=False),
        sa.Column("help_question_student", sa.Text(), nullable=False),
        sa.Column("help_question_teacher", sa.Text(), nullable=False),
        sa.Column("tried", sa.Text(), nullable=False),
        sa.Column("works_at_home", sa.Text(), nullable=True),
        sa.Column("works_at_school", sa.Text(), nullable=True),
        *_enum("referral", "urgency", "urgency", ("low", "normal", "high")),
        sa.Column("parents_informed", sa.Boolean(), nullable=False),
        sa.Column("parents_not_informed_reason", sa.Text(), nullable=True),
        sa.Column("support", sa.JSON(), nullable=False),
        sa.Column("intake_from", sa.Date(), nullable=False),
        sa.Column("intake_days", sa.JSON(), nullable=False),
        sa.Column("text_language", sa.String(length=8), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["school_id", "mentor_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_referral_school_id_mentor_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "student_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_referral_school_id_student_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_referral_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
    )
    op.create_index(op.f("ix_referral_mentor_id"), "referral", ["mentor_id"], unique=False)
    op.create_index(op.f("ix_referral_student_id"), "referral", ["student_id"], unique=False)

    op.create_table(
        "queue_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        *_enum("queue_item", "kind", "queue_kind", ("referral",)),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        *_enum("queue_item", "status", "queue_status", ("new", "in_progress", "waiting", "closed")),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["person.id"], name=op.f("fk_queue_item_assignee_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referral.id"], name=op.f("fk_queue_item_referral_id_referral")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_queue_item_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_item")),
    )
    op.create_index(op.f("ix_queue_item_referral_id"), "queue_item", ["referral_id"], unique=False)
    op.create_index(
        op.f("ix_queue_item_school_id_status"), "queue_item", ["school_id", "status"], unique=False
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        *_enum("outbox", "status", "outbox_status", ("pending", "sent", "failed", "unreachable")),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _timestamp("next_attempt_at"),
        _timestamp("created_at"),
        _timestamp("sent_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["person.id"], name=op.f("fk_outbox_recipient_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_outbox_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_outbox_dedup_key")),
    )
    op.create_index(op.f("ix_outbox_recipient_id"), "outbox", ["recipient_id"], unique=False)
    op.create_index(
        op.f("ix_outbox_status_next_attempt_at"),
        "outbox",
        ["status", "next_attempt_at"],
        unique=False,
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        _timestamp("at"),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_audit_log_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_school_id"), "audit_log", ["school_id"], unique=False)
    op.create_index(
        op.f("ix_audit_log_subject_type_subject_id"),
        "audit_log",
        ["subject_type", "subject_id"],
        unique=False,
    )


def downgrade() -> None:
    """Drop every table, children first."""
    for table in (
        "audit_log",
        "outbox",
        "queue_item",
        "referral",
        "conversation",
        "invite",
        "mentorship",
        "guardianship",
        "person_role",
        "person",
        "school",
    ):
        # Indexes go with their table on both backends.
        op.drop_table(table)
