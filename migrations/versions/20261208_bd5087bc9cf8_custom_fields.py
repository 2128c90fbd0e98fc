"""Custom fields on register records: their definitions per project and kind, and one typed row per value, indexed
by field and each typed column so list filters stay indexed on both databases (see register/custom/models.py).

Revision ID: bd5087bc9cf8
Revises: 3e9c51d7a2f4
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "bd5087bc9cf8"
down_revision: str | None = "3e9c51d7a2f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "custom_field",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("help", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("in_list", sa.Boolean(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "entity", "key", name="uq_custom_field_key"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("custom_field", schema=None) as batch_op:
        batch_op.create_index("ix_custom_field_project_entity", ["project_id", "entity", "position"], unique=False)

    op.create_table(
        "custom_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("field_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("text_value", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("number_value", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("date_value", sa.Date(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["field_id"],
            ["custom_field.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("custom_value", schema=None) as batch_op:
        batch_op.create_index("ix_custom_value_date", ["field_id", "date_value"], unique=False)
        batch_op.create_index("ix_custom_value_number", ["field_id", "number_value"], unique=False)
        batch_op.create_index("ix_custom_value_record", ["field_id", "record_id"], unique=False)
        batch_op.create_index("ix_custom_value_text", ["field_id", "text_value"], unique=False)
        batch_op.create_index("ix_custom_value_user", ["field_id", "user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("custom_value", schema=None) as batch_op:
        batch_op.drop_index("ix_custom_value_user")
        batch_op.drop_index("ix_custom_value_text")
        batch_op.drop_index("ix_custom_value_record")
        batch_op.drop_index("ix_custom_value_number")
        batch_op.drop_index("ix_custom_value_date")

    op.drop_table("custom_value")
    with op.batch_alter_table("custom_field", schema=None) as batch_op:
        batch_op.drop_index("ix_custom_field_project_entity")

    op.drop_table("custom_field")
