"""Issue 15: the referral's optional asks, the student's own words, consent per person and
purpose, the district coach role and the district coach asked in on a trajectory.

Revision ID: 0028_referral_consent
Revises: 0027_versions

``referral`` gains nullable columns with plain ``ADD COLUMN`` (no table copy: referral is
referenced by others). The role checks of ``person_role`` and ``invite`` allow
``district_coach`` (batch mode, as 0008 did).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_referral_consent"
down_revision: str | None = "0027_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = (
    "student",
    "parent",
    "mentor",
    "teacher",
    "coach",
    "care_coordinator",
    "admin",
    "partnership_viewer",
)
NEW_ROLES = (*OLD_ROLES, "district_coach")
PURPOSES = ("trajectory", "district_coach", "external_care")
GIVERS = ("parent", "student")


def _referral_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("external_care", sa.String(length=16), nullable=True),
        sa.Column("external_care_which", sa.Text(), nullable=True),
        sa.Column("has_opp", sa.String(length=16), nullable=True),
        sa.Column("absence", sa.String(length=16), nullable=True),
        sa.Column("absence_days", sa.Integer(), nullable=True),
        sa.Column("observation_focus", sa.JSON(), nullable=True),
        sa.Column("parents_language", sa.String(length=16), nullable=True),
        sa.Column("interpreter_needed", sa.Boolean(), nullable=True),
        sa.Column("student_voice", sa.Text(), nullable=True),
        sa.Column("student_voice_language", sa.String(length=8), nullable=True),
        sa.Column("student_voice_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("student_voice_asked_at", sa.DateTime(timezone=True), nullable=True),
    ]


def _in(column: str, values: Sequence[str]) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{value}'" for value in values))


def _set_roles(values: Sequence[str]) -> None:
    for table in ("person_role", "invite"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_role"), type_="check")
            batch.create_check_constraint(op.f(f"ck_{table}_role"), _in("role", values))


def upgrade() -> None:
    """Add the referral's columns, the consent and district coach tables, the role."""
    for column in _referral_columns():
        op.add_column("referral", column)
    _set_roles(NEW_ROLES)
    # A district coach of another school of the partnership writes in the logbook.
    with op.batch_alter_table("logbook_entry") as batch:
        batch.drop_constraint(
            op.f("fk_logbook_entry_school_id_author_id_person"), type_="foreignkey"
        )
        batch.create_foreign_key(
            op.f("fk_logbook_entry_author_id_person"), "person", ["author_id"], ["id"]
        )
    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("giver_id", sa.Integer(), nullable=False),
        sa.Column("giver", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.CheckConstraint(_in("giver", GIVERS), name=op.f("ck_consent_consent_giver")),
        sa.CheckConstraint(_in("purpose", PURPOSES), name=op.f("ck_consent_consent_purpose")),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_consent_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["person.id"], name=op.f("fk_consent_recorded_by_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "giver_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_consent_school_id_giver_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id", "student_id"],
            ["person.school_id", "person.id"],
            name=op.f("fk_consent_school_id_student_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_consent_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_id"], ["person.id"], name=op.f("fk_consent_withdrawn_by_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    op.create_index("ix_consent_referral_purpose", "consent", ["referral_id", "purpose"])
    op.create_table(
        "district_coach_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("trajectory_id", sa.Integer(), nullable=False),
        sa.Column("district_coach_id", sa.Integer(), nullable=False),
        sa.Column("asked_by_id", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["asked_by_id"],
            ["person.id"],
            name=op.f("fk_district_coach_request_asked_by_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["district_coach_id"],
            ["person.id"],
            name=op.f("fk_district_coach_request_district_coach_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_district_coach_request_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["trajectory_id"],
            ["trajectory.id"],
            name=op.f("fk_district_coach_request_trajectory_id_trajectory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district_coach_request")),
    )
    op.create_index(
        "ix_district_coach_request_coach", "district_coach_request", ["district_coach_id"]
    )
    op.create_index(
        op.f("ix_district_coach_request_trajectory_id"),
        "district_coach_request",
        ["trajectory_id"],
    )


def downgrade() -> None:
    """Drop the tables, the district coaches' roles and invites, and the referral's columns."""
    op.drop_table("district_coach_request")
    op.drop_table("consent")
    op.execute("DELETE FROM person_role WHERE role = 'district_coach'")
    op.execute("DELETE FROM invite WHERE role = 'district_coach'")
    _set_roles(OLD_ROLES)
    # Entries by authors of another school go with the district coaches.
    op.execute(
        "DELETE FROM logbook_entry WHERE author_id NOT IN "
        "(SELECT id FROM person WHERE person.school_id = logbook_entry.school_id)"
    )
    with op.batch_alter_table("logbook_entry") as batch:
        batch.drop_constraint(op.f("fk_logbook_entry_author_id_person"), type_="foreignkey")
        batch.create_foreign_key(
            op.f("fk_logbook_entry_school_id_author_id_person"),
            "person",
            ["school_id", "author_id"],
            ["school_id", "id"],
        )
    # Plain DROP COLUMN (SQLite 3.35+): no copy of a table others reference.
    for column in reversed(_referral_columns()):
        op.drop_column("referral", column.name)
