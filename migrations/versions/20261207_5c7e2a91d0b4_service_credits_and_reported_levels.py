"""Service credits (a project's credit table, JSON like its SLO targets) and the service levels the contractor
reports itself (measures, and monthly figures with the State's verification).

Revision ID: 5c7e2a91d0b4
Revises: 7b2d4f6a8c30
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "5c7e2a91d0b4"
down_revision: str | None = "7b2d4f6a8c30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("project", sa.Column("service_credits", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "service_measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("target", sa.Numeric(14, 4), nullable=False),
        sa.Column("higher_is_better", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "name"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_service_measure_project_id", "service_measure", ["project_id"])
    op.create_table(
        "service_figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("measure_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("value", sa.Numeric(14, 4), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("revision", sa.Integer(), server_default="1", nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("decision_note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(["decided_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["entered_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["measure_id"], ["service_measure.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("measure_id", "month"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_service_figure_project_month", "service_figure", ["project_id", "month"])


def downgrade() -> None:
    op.drop_index("ix_service_figure_project_month", table_name="service_figure")
    op.drop_table("service_figure")
    op.drop_index("ix_service_measure_project_id", table_name="service_measure")
    op.drop_table("service_measure")
    with op.batch_alter_table("project", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("service_credits")
