"""calendar feeds: one secret address per person (My work) and per person and project

Revision ID: d766b2eae787
Revises: a8492d7da199
Create Date: 2026-12-06 21:10:55.255083
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "d766b2eae787"
down_revision: str | None = "a8492d7da199"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("salt", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reset_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "project_id"),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_calendar_feed_project_id"), "calendar_feed", ["project_id"], unique=False)
    op.create_index(op.f("ix_calendar_feed_token_hash"), "calendar_feed", ["token_hash"], unique=True)
    # one My work feed per person (NULL project ids differ in the unique constraint above)
    op.create_index(
        "ix_calendar_feed_one_personal",
        "calendar_feed",
        ["user_id"],
        unique=True,
        sqlite_where=sa.text("project_id IS NULL"),
        postgresql_where=sa.text("project_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("calendar_feed")
