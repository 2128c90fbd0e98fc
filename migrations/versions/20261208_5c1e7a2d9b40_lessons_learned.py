"""Lessons learned: what happened, its impact, the recommendation, its category and phase, and the deliverables each
concerns.

Revision ID: 5c1e7a2d9b40
Revises: a77ac4e5f1e0
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "5c1e7a2d9b40"
down_revision: str | None = "a77ac4e5f1e0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lesson",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=8000), nullable=False),
        sa.Column("impact", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("recommendation", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("phase", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "code"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("lesson", schema=None) as batch_op:
        batch_op.create_index("ix_lesson_project_category", ["project_id", "category"], unique=False)
        batch_op.create_index(batch_op.f("ix_lesson_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "lesson_deliverable",
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("deliverable_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["deliverable_id"], ["deliverable.id"]),
        sa.ForeignKeyConstraint(["lesson_id"], ["lesson.id"]),
        sa.PrimaryKeyConstraint("lesson_id", "deliverable_id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("lesson_deliverable", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lesson_deliverable_deliverable_id"), ["deliverable_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lesson_deliverable", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_deliverable_deliverable_id"))
    op.drop_table("lesson_deliverable")
    with op.batch_alter_table("lesson", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_owner_id"))
        batch_op.drop_index("ix_lesson_project_category")
    op.drop_table("lesson")
