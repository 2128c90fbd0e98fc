"""The organisation's logo keeps its file name and size as uploaded, for its page and the audit trail, which records
each change of the name and logo (the file's name, sha256 and size, never its bytes).

Revision ID: bb53084a1fb2
Revises: 336131c2b0bd
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "bb53084a1fb2"
down_revision: str | None = "336131c2b0bd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organisation", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(
            sa.Column("logo_name", sqlmodel.sql.sqltypes.AutoString(length=200), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("logo_size", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("organisation", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("logo_size")
        batch.drop_column("logo_name")
