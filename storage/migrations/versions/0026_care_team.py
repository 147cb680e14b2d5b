"""The care team's meetings and agenda (issue 15), anonymous exit questionnaire responses.

Revision ID: 0026_care_team
Revises: 0025_indicator_events

``care_team_meeting`` (a school's care team meets on a date) and ``care_team_case`` (a
referral's queue item on a meeting's agenda: the question for the team, then its advice and
decision). ``survey_response.anonymous``: an anonymous response has no ``invitation_id``, so
nothing links its answers to a person.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_care_team"
down_revision: str | None = "0025_indicator_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DECISIONS = ("trajectory", "other_support", "external", "discuss_again")


def upgrade() -> None:
    """Create the care team tables; let a survey response be anonymous."""
    op.create_table(
        "care_team_meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id", "created_by_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_care_team_meeting_school_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_care_team_meeting_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_team_meeting")),
        sa.UniqueConstraint(
            "school_id", "held_on", name=op.f("uq_care_team_meeting_school_id_held_on")
        ),
        sa.UniqueConstraint("school_id", "id", name=op.f("uq_care_team_meeting_school_id_id")),
    )
    op.create_table(
        "care_team_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("queue_item_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("advice", sa.Text(), nullable=True),
        sa.Column(
            "decision",
            sa.Enum(
                *DECISIONS,
                name="care_team_decision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(decision IS NULL AND decided_at IS NULL AND decided_by_id IS NULL"
            " AND advice IS NULL)"
            " OR (decision IS NOT NULL AND decided_at IS NOT NULL AND decided_by_id IS NOT NULL"
            " AND advice IS NOT NULL)",
            name=op.f("ck_care_team_case_advice_complete"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "meeting_id"],
            ["care_team_meeting.school_id", "care_team_meeting.id"],
            name=op.f("fk_care_team_case_school_id_care_team_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "added_by_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_care_team_case_school_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "decided_by_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_care_team_case_school_id_person_1"),
        ),
        sa.ForeignKeyConstraint(
            ["queue_item_id"],
            ["queue_item.id"],
            name=op.f("fk_care_team_case_queue_item_id_queue_item"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_care_team_case_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_team_case")),
        sa.UniqueConstraint(
            "meeting_id", "queue_item_id", name=op.f("uq_care_team_case_meeting_id_queue_item_id")
        ),
    )
    op.create_index(
        op.f("ix_care_team_case_meeting_id"), "care_team_case", ["meeting_id"], unique=False
    )
    op.create_index(
        op.f("ix_care_team_case_queue_item_id"), "care_team_case", ["queue_item_id"], unique=False
    )
    with op.batch_alter_table("survey_response") as batch:
        batch.add_column(
            sa.Column("anonymous", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.alter_column("invitation_id", existing_type=sa.Integer(), nullable=True)
        batch.create_check_constraint(
            op.f("ck_survey_response_anonymous_unlinked"), "anonymous = (invitation_id IS NULL)"
        )


def downgrade() -> None:
    """Drop the care team tables and the anonymous responses (their invitations stay used)."""
    op.execute("DELETE FROM survey_response WHERE invitation_id IS NULL")
    with op.batch_alter_table("survey_response") as batch:
        batch.drop_constraint(op.f("ck_survey_response_anonymous_unlinked"), type_="check")
        batch.alter_column("invitation_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("anonymous")
    op.drop_index(op.f("ix_care_team_case_queue_item_id"), table_name="care_team_case")
    op.drop_index(op.f("ix_care_team_case_meeting_id"), table_name="care_team_case")
    op.drop_table("care_team_case")
    op.drop_table("care_team_meeting")
