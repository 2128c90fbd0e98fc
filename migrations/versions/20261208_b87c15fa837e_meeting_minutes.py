"""Meeting minutes: meetings (M-001 per project), their member attendees and discussed deliverables; an action item
may now belong to a meeting instead of a risk or an issue (still exactly one parent); a logged decision may name the
meeting whose minutes recorded it.

Revision ID: b87c15fa837e
Revises: bd5087bc9cf8
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "b87c15fa837e"
down_revision: str | None = "bd5087bc9cf8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# As the model states it (tracker/register/actions/models.py), written out: a migration does not follow the model
ONE_PARENT = (
    "(CASE WHEN risk_id IS NULL THEN 0 ELSE 1 END + CASE WHEN issue_id IS NULL THEN 0 ELSE 1 END"
    " + CASE WHEN meeting_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def upgrade() -> None:
    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("meeting_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("external_attendees", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("agenda", sqlmodel.sql.sqltypes.AutoString(length=8000), nullable=False),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(length=20000), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "code"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index("ix_meeting_project_held_on", ["project_id", "held_on"], unique=False)

    op.create_table(
        "meeting_attendee",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("meeting_id", "user_id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("meeting_attendee", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_attendee_user_id"), ["user_id"], unique=False)

    op.create_table(
        "meeting_deliverable",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("deliverable_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deliverable_id"],
            ["deliverable.id"],
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
        ),
        sa.PrimaryKeyConstraint("meeting_id", "deliverable_id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("meeting_deliverable", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_deliverable_deliverable_id"), ["deliverable_id"], unique=False)

    with op.batch_alter_table("action_item", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(sa.Column("meeting_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_action_item_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_foreign_key("fk_action_item_meeting_id_meeting", "meeting", ["meeting_id"], ["id"])
        batch_op.drop_constraint("ck_action_item_one_parent", type_="check")
        batch_op.create_check_constraint("ck_action_item_one_parent", ONE_PARENT)

    with op.batch_alter_table("logged_decision", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(sa.Column("meeting_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_logged_decision_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_foreign_key("fk_logged_decision_meeting_id_meeting", "meeting", ["meeting_id"], ["id"])


def downgrade() -> None:
    # Action items of meetings have no parent without them, and the older check allows none
    op.execute("DELETE FROM action_item WHERE meeting_id IS NOT NULL")
    with op.batch_alter_table("logged_decision", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_constraint("fk_logged_decision_meeting_id_meeting", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_logged_decision_meeting_id"))
        batch_op.drop_column("meeting_id")
    with op.batch_alter_table("action_item", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_constraint("ck_action_item_one_parent", type_="check")
        batch_op.create_check_constraint("ck_action_item_one_parent", "(risk_id IS NULL) <> (issue_id IS NULL)")
        batch_op.drop_constraint("fk_action_item_meeting_id_meeting", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_action_item_meeting_id"))
        batch_op.drop_column("meeting_id")

    with op.batch_alter_table("meeting_deliverable", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_deliverable_deliverable_id"))

    op.drop_table("meeting_deliverable")
    with op.batch_alter_table("meeting_attendee", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_attendee_user_id"))

    op.drop_table("meeting_attendee")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_project_held_on")
        batch_op.drop_index(batch_op.f("ix_meeting_owner_id"))

    op.drop_table("meeting")
