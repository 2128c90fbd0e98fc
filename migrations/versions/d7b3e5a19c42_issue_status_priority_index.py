"""The issue register filtered by status reads its priority order from one index (project, status, priority rank,
code) instead of walking the whole register's priority order and skipping other statuses (a filter by status and
priority read thousands of rows for 25).

Revision ID: d7b3e5a19c42
Revises: c4e1a7d93b20
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d7b3e5a19c42"
down_revision: str | None = "c4e1a7d93b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As the model states it (tracker/register/issues/models.py), written out: a migration does not follow the model.
PRIORITY_RANK = """
CASE priority
    WHEN 'critical' THEN 0
    WHEN 'high' THEN 1
    WHEN 'medium' THEN 2
    WHEN 'low' THEN 3
    ELSE 4
END"""


def upgrade() -> None:
    op.drop_index("ix_issue_project_status", table_name="issue")
    op.create_index(
        "ix_issue_project_status_priority", "issue", ["project_id", "status", sa.text(f"({PRIORITY_RANK})"), "code"]
    )


def downgrade() -> None:
    op.drop_index("ix_issue_project_status_priority", table_name="issue")
    op.create_index("ix_issue_project_status", "issue", ["project_id", "status"])
