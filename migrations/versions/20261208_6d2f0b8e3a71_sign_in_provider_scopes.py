"""Each sign-in provider says what sign-in asks it for (its scopes: openid email profile unless its admins add more,
such as groups), instead of one set for every provider.

Revision ID: 6d2f0b8e3a71
Revises: 5c1e7a2d9b40
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "6d2f0b8e3a71"
down_revision: str | None = "5c1e7a2d9b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("oidc_provider", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(
            sa.Column(
                "scopes",
                sqlmodel.sql.sqltypes.AutoString(length=500),
                server_default="openid email profile",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("oidc_provider", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("scopes")
