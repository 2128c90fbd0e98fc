"""Change requests and the deliverables each affects (with what an approval did to their due dates and payments).

Revision ID: 0e17aac82c48
Revises: 83021e30b3aa
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0e17aac82c48"
down_revision: str | None = "83021e30b3aa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "change_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=8000), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("cost_impact", sa.Numeric(precision=14, scale=2), server_default="0", nullable=False),
        sa.Column("schedule_impact", sa.Integer(), server_default="0", nullable=False),
        sa.Column("scope_impact", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=14), nullable=False),
        sa.Column("rationale", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("raised_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
        ),
        sa.ForeignKeyConstraint(
            ["raised_by_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "code"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("change_request", schema=None) as batch_op:
        batch_op.create_index("ix_change_request_project_status", ["project_id", "status"], unique=False)

    op.create_table(
        "change_deliverable",
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("deliverable_id", sa.Integer(), nullable=False),
        sa.Column("due_before", sa.Date(), nullable=True),
        sa.Column("due_after", sa.Date(), nullable=True),
        sa.Column("amount_before", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("amount_after", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["change_request.id"],
        ),
        sa.ForeignKeyConstraint(
            ["deliverable_id"],
            ["deliverable.id"],
        ),
        sa.PrimaryKeyConstraint("change_id", "deliverable_id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("change_deliverable", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_deliverable_deliverable_id"), ["deliverable_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("change_deliverable", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_deliverable_deliverable_id"))

    op.drop_table("change_deliverable")
    with op.batch_alter_table("change_request", schema=None) as batch_op:
        batch_op.drop_index("ix_change_request_project_status")

    op.drop_table("change_request")
