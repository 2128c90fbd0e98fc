"""Mail: every outgoing message (sent or kept), what each person (or a project, by default) wants to be told and
how, each person's daily digest hour, the people outside a project who receive its status reports, and who watches which record.

Revision ID: 617fd369688d
Revises: 0e17aac82c48
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "617fd369688d"
down_revision: str | None = "0e17aac82c48"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_preference",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "project_id", "kind"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("mail_preference", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_preference_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mail_preference_user_id"), ["user_id"], unique=False)

    op.create_table(
        "mail_settings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("digest_hour", sa.Integer(), nullable=False),
        sa.Column("last_digest_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("user_id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "outgoing_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=200000), nullable=False),
        sa.Column("html", sqlmodel.sql.sqltypes.AutoString(length=400000), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=250), nullable=False),
        sa.Column("thread", sqlmodel.sql.sqltypes.AutoString(length=250), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "to_address"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.create_index("ix_outgoing_mail_created", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outgoing_mail_user_id"), ["user_id"], unique=False)

    op.create_table(
        "report_recipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "address"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("report_recipient", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_recipient_project_id"), ["project_id"], unique=False)

    op.create_table(
        "watch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("record", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "record"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("watch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_watch_record"), ["record"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("watch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watch_record"))

    op.drop_table("watch")
    with op.batch_alter_table("report_recipient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_recipient_project_id"))

    op.drop_table("report_recipient")
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outgoing_mail_user_id"))
        batch_op.drop_index("ix_outgoing_mail_created")

    op.drop_table("outgoing_mail")
    op.drop_table("mail_settings")
    with op.batch_alter_table("mail_preference", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_preference_user_id"))
        batch_op.drop_index(batch_op.f("ix_mail_preference_project_id"))

    op.drop_table("mail_preference")
