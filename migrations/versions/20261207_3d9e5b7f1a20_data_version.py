"""Data versions: per project (and one for records of no project), how many committed transactions changed its
record, so figures computed from it can be kept until it changes (tracker/audit/versions.py).

Revision ID: 3d9e5b7f1a20
Revises: bf3cb2451f48
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3d9e5b7f1a20"
down_revision: str | None = "bf3cb2451f48"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("scope", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope"),
    )


def downgrade() -> None:
    op.drop_table("data_version")
