"""Each person's time zone and date format preference.

Revision ID: 5e7a1c0d9b21
Revises: 45baf7b7e661
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "5e7a1c0d9b21"
down_revision: str | None = "45baf7b7e661"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_user", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(
            sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), server_default="", nullable=False)
        )
        batch.add_column(
            sa.Column(
                "date_format", sqlmodel.sql.sqltypes.AutoString(length=16), server_default="d_mon_y", nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("app_user", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("date_format")
        batch.drop_column("timezone")
