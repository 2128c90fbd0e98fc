"""Saved reports mailed on a schedule: weekly or monthly, to chosen members.

Revision ID: 45baf7b7e661
Revises: d766b2eae787
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "45baf7b7e661"
down_revision: str | None = "d766b2eae787"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("every", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("recipient_ids", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("last_sent_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["saved_report.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report_id"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("report_schedule")
