"""Exit questionnaire: invitations, responses, answers (issue 5); ``exit_survey`` queue items;
outbox rows with a deadline (``not_after``: a reminder is never sent after its invitation
expired).

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_QUEUE_KINDS = ("referral", "timeout_request")
NEW_QUEUE_KINDS = (*OLD_QUEUE_KINDS, "exit_survey")


def _kind_check(values: Sequence[str]) -> str:
    return "kind IN ({})".format(", ".join(f"'{value}'" for value in values))


def _respondent_type() -> sa.Enum:
    return sa.Enum(
        "student",
        "parent",
        "teacher",
        name="respondent_type",
        native_enum=False,
        create_constraint=True,
        length=32,
    )


def upgrade() -> None:
    """Create the survey tables; link queue items to a response; outbox deadlines."""
    op.create_table(
        "survey_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("trajectory_id", sa.Integer(), nullable=False),
        sa.Column("respondent_id", sa.Integer(), nullable=False),
        sa.Column("respondent_type", _respondent_type(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("token_issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_survey_invitation_expires_after_created")
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "respondent_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_survey_invitation_school_id_respondent_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "trajectory_id"],
            ["trajectory.school_id", "trajectory.id"],
            name=op.f("fk_survey_invitation_school_id_trajectory_id_trajectory"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_survey_invitation_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitation")),
        sa.UniqueConstraint("school_id", "id", name=op.f("uq_survey_invitation_school_id_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_survey_invitation_token_hash")),
        sa.UniqueConstraint(
            "trajectory_id",
            "respondent_id",
            name=op.f("uq_survey_invitation_trajectory_id_respondent_id"),
        ),
    )
    op.create_index(
        op.f("ix_survey_invitation_respondent_id"),
        "survey_invitation",
        ["respondent_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_survey_invitation_school_id_created_at"),
        "survey_invitation",
        ["school_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "survey_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("respondent_type", _respondent_type(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id", "invitation_id"],
            ["survey_invitation.school_id", "survey_invitation.id"],
            name=op.f("fk_survey_response_school_id_invitation_id_survey_invitation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_survey_response_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_response")),
        sa.UniqueConstraint("invitation_id", name=op.f("uq_survey_response_invitation_id")),
        sa.UniqueConstraint("school_id", "id", name=op.f("uq_survey_response_school_id_id")),
    )
    op.create_index(
        op.f("ix_survey_response_school_id_completed_at"),
        "survey_response",
        ["school_id", "completed_at"],
        unique=False,
    )
    op.create_table(
        "survey_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=4), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("text_language", sa.String(length=8), nullable=True),
        sa.CheckConstraint(
            "value IS NULL OR value IN ('1', '2', '3', '4', '5', 'na')",
            name=op.f("ck_survey_answer_scale_value"),
        ),
        sa.CheckConstraint(
            "(value IS NOT NULL AND text IS NULL AND text_language IS NULL)"
            " OR (value IS NULL AND text IS NOT NULL AND text_language IS NOT NULL)",
            name=op.f("ck_survey_answer_value_or_text"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "response_id"],
            ["survey_response.school_id", "survey_response.id"],
            name=op.f("fk_survey_answer_school_id_response_id_survey_response"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_survey_answer_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answer")),
        sa.UniqueConstraint("response_id", "code", name=op.f("uq_survey_answer_response_id_code")),
    )
    op.create_index(
        op.f("ix_survey_answer_response_id"), "survey_answer", ["response_id"], unique=False
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("not_after", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("queue_item") as batch:
        batch.add_column(sa.Column("survey_response_id", sa.Integer(), nullable=True))
        batch.create_index(
            op.f("ix_queue_item_survey_response_id"), ["survey_response_id"], unique=False
        )
        batch.create_foreign_key(
            op.f("fk_queue_item_survey_response_id_survey_response"),
            "survey_response",
            ["survey_response_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.drop_constraint(op.f("ck_queue_item_queue_kind"), type_="check")
        batch.create_check_constraint(
            op.f("ck_queue_item_queue_kind"), _kind_check(NEW_QUEUE_KINDS)
        )


def downgrade() -> None:
    """Drop the survey tables and the ``exit_survey`` queue items; outbox without deadlines."""
    op.execute("DELETE FROM queue_item WHERE kind = 'exit_survey'")
    with op.batch_alter_table("queue_item") as batch:
        batch.drop_constraint(op.f("ck_queue_item_queue_kind"), type_="check")
        batch.create_check_constraint(
            op.f("ck_queue_item_queue_kind"), _kind_check(OLD_QUEUE_KINDS)
        )
        batch.drop_constraint(
            op.f("fk_queue_item_survey_response_id_survey_response"), type_="foreignkey"
        )
        batch.drop_index(op.f("ix_queue_item_survey_response_id"))
        batch.drop_column("survey_response_id")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("not_after")
    op.drop_index(op.f("ix_survey_answer_response_id"), table_name="survey_answer")
    op.drop_table("survey_answer")
    op.drop_index(op.f("ix_survey_response_school_id_completed_at"), table_name="survey_response")
    op.drop_table("survey_response")
    op.drop_index(op.f("ix_survey_invitation_school_id_created_at"), table_name="survey_invitation")
    op.drop_index(op.f("ix_survey_invitation_respondent_id"), table_name="survey_invitation")
    op.drop_table("survey_invitation")
