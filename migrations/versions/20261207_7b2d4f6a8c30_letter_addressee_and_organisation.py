"""Decision letters: the contractor's contact on each project, and the organisation's name and logo.

Revision ID: 7b2d4f6a8c30
Revises: 5e7a1c0d9b21
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "7b2d4f6a8c30"
down_revision: str | None = "5e7a1c0d9b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTACT = (("contact_name", 120), ("contact_title", 120), ("contact_address", 500), ("contact_email", 254))


def upgrade() -> None:
    with op.batch_alter_table("project", table_kwargs={"sqlite_autoincrement": True}) as batch:
        for name, length in CONTACT:
            batch.add_column(
                sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), server_default="", nullable=False)
            )
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("logo_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("logo_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("organisation")
    with op.batch_alter_table("project", table_kwargs={"sqlite_autoincrement": True}) as batch:
        for name, _ in reversed(CONTACT):
            batch.drop_column(name)
