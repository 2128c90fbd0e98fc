"""Indexes for the trends page: the audit events that changed a record's status, and the issues open in a window.

The trends page rebuilds each risk's status at the end of every week from its status changes; found among all of a
risk's events by reading each one's changes, they cost seconds on the large data set (bench/profile.py "trends").
ix_audit_event_status holds only the events that changed a status, by record and time; its condition is written as
tracker.audit.models.changed("status", 1) renders, so each database matches it. ix_issue_project_open_span gives
the median age of open issues its issues without reading their rows.

Revision ID: 9a4c6e2b7d15
Revises: b2bb48908a51
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9a4c6e2b7d15"
down_revision: str | None = "b2bb48908a51"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_audit_event_status",
        "audit_event",
        ["entity_type", "entity_id", "at"],
        sqlite_where=sa.text("json_extract(changes, '$.\"status\"[1]') IS NOT NULL"),
        postgresql_where=sa.text("(changes #>> '{status,1}') IS NOT NULL"),
    )
    op.create_index(
        "ix_issue_project_open_span", "issue", ["project_id", "resolved_on", "raised_on", "priority"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_issue_project_open_span", table_name="issue")
    op.drop_index("ix_audit_event_status", table_name="audit_event")
