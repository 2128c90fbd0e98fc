"""SQLite: each search index row's project in a small table beside the FTS5 table (tracker/search/index.py).

FTS5 reads a whole content row, body and all, to give one column, so checking each match's project cost a search for a
common word most of its time (bench/profile.py "search, a common word"). Filled here from the index as it stands;
PostgreSQL's index is a plain table that holds the project itself. Not a model (tracker/models.py NOT_MODELLED).

Revision ID: c2e8f4a61b37
Revises: 9a4c6e2b7d15
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c2e8f4a61b37"
down_revision: str | None = "9a4c6e2b7d15"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TABLE search_index_scope (id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL)")
    op.execute("INSERT INTO search_index_scope (id, project_id) SELECT rowid, project_id FROM search_index")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_index_scope")
