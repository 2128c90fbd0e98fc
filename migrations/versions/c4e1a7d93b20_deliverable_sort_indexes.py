"""The deliverable list's orders read from indexes: each of (status, due, review due) followed by the code that
breaks ties, so a page (page 50 too) is read in order from the index instead of the project's rows being sorted.

Revision ID: c4e1a7d93b20
Revises: b87c15fa837e
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c4e1a7d93b20"
down_revision: str | None = "b87c15fa837e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = {
    "ix_deliverable_project_status": ["project_id", "status"],
    "ix_deliverable_project_due": ["project_id", "due_date"],
}
AFTER = {
    "ix_deliverable_project_status": ["project_id", "status", "code"],
    "ix_deliverable_project_due": ["project_id", "due_date", "code"],
    "ix_deliverable_project_review": ["project_id", "review_due", "code"],
}


def _set(old: dict[str, list[str]], new: dict[str, list[str]]) -> None:
    for name in old:
        op.drop_index(name, table_name="deliverable")
    for name, columns in new.items():
        op.create_index(name, "deliverable", columns)


def upgrade() -> None:
    _set(BEFORE, AFTER)


def downgrade() -> None:
    _set(AFTER, BEFORE)
