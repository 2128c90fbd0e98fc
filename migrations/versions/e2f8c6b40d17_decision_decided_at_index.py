"""A period's decisions are read from an index on their moment: decisions carry no project, so the status report's
week, the overview and the timeline scanned every decision in the database (17 ms at the huge bench scale, 0.04 ms
with the index).

Revision ID: e2f8c6b40d17
Revises: d7b3e5a19c42
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e2f8c6b40d17"
down_revision: str | None = "d7b3e5a19c42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_decision_decided_at", "decision", ["decided_at"])


def downgrade() -> None:
    op.drop_index("ix_decision_decided_at", table_name="decision")
