"""The dispatcher's tables: each handler's cursor in the audit trail (or each job's last run) with its lease, and each
effect recorded once under (event, handler, recipient).

Revision ID: 83021e30b3aa
Revises: d8c143d53c2f
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "83021e30b3aa"
down_revision: str | None = "d8c143d53c2f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dispatch_cursor",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("ran_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("held_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.PrimaryKeyConstraint("name"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "dispatch_effect",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("handler", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("done_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["audit_event.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "handler", "recipient"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_dispatch_effect_status_due", "dispatch_effect", ["status", "due_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_dispatch_effect_status_due", table_name="dispatch_effect")
    op.drop_table("dispatch_effect")
    op.drop_table("dispatch_cursor")
