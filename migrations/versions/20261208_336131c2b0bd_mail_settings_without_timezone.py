"""The mail settings lose their own time zone: the digest's hour reads in the profile's (mail.service.digest_zone).

Going down, each row gets its person's profile zone back, or the old default.

Revision ID: 336131c2b0bd
Revises: 7918438e4d5e
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "336131c2b0bd"
down_revision: str | None = "7918438e4d5e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mail_settings", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("timezone")


def downgrade() -> None:
    with op.batch_alter_table("mail_settings", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(
            sa.Column(
                "timezone",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                server_default="America/New_York",
                nullable=False,
            )
        )
    op.execute(
        "UPDATE mail_settings SET timezone = (SELECT timezone FROM app_user WHERE app_user.id = mail_settings.user_id) "
        "WHERE EXISTS (SELECT 1 FROM app_user WHERE app_user.id = mail_settings.user_id AND app_user.timezone <> '')"
    )
