"""The decision log: decisions taken on the project (what, why, the options, who and when), the issue, risk or
change request each came from, and the deliverables each concerns.

Revision ID: 3e9c51d7a2f4
Revises: 6d2f0b8e3a71
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "3e9c51d7a2f4"
down_revision: str | None = "6d2f0b8e3a71"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "logged_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("context", sqlmodel.sql.sqltypes.AutoString(length=8000), nullable=False),
        sa.Column("options", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=True),
        sa.Column("risk_id", sa.Integer(), nullable=True),
        sa.Column("change_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(["change_id"], ["change_request.id"]),
        sa.ForeignKeyConstraint(["decided_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["issue_id"], ["issue.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["risk_id"], ["risk.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "code"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("logged_decision", schema=None) as batch_op:
        batch_op.create_index("ix_logged_decision_project_decided_on", ["project_id", "decided_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_logged_decision_issue_id"), ["issue_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_logged_decision_risk_id"), ["risk_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_logged_decision_change_id"), ["change_id"], unique=False)

    op.create_table(
        "logged_decision_deliverable",
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("deliverable_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["logged_decision.id"]),
        sa.ForeignKeyConstraint(["deliverable_id"], ["deliverable.id"]),
        sa.PrimaryKeyConstraint("decision_id", "deliverable_id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("logged_decision_deliverable", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_logged_decision_deliverable_deliverable_id"), ["deliverable_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("logged_decision_deliverable", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logged_decision_deliverable_deliverable_id"))
    op.drop_table("logged_decision_deliverable")
    with op.batch_alter_table("logged_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logged_decision_change_id"))
        batch_op.drop_index(batch_op.f("ix_logged_decision_risk_id"))
        batch_op.drop_index(batch_op.f("ix_logged_decision_issue_id"))
        batch_op.drop_index("ix_logged_decision_project_decided_on")
    op.drop_table("logged_decision")
