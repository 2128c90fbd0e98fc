"""Index a record's timeline: audit events by project, record label and time.

The deliverable, risk and issue pages read their timeline by (project, label) newest first; without this index
the read walked the project's whole trail (measured with bench/load.py on the large data set).

Revision ID: c4f1a9d2e7b3
Revises: e311d99a863f
Create Date: 2026-11-24
"""

from alembic import op

revision = "c4f1a9d2e7b3"
down_revision = "e311d99a863f"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_event_project_label_at", "audit_event", ["project_id", "entity_label", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_event_project_label_at", table_name="audit_event")
