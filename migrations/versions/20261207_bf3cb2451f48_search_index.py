"""The search index: one row per findable record, kept by the app (tracker/search/index.py). SQLite: an FTS5 table
ranked by bm25; PostgreSQL: a table with a generated tsvector under a GIN index, ranked by ts_rank. Neither is a model
(tracker/models.py NOT_MODELLED keeps it out of the model-vs-migration comparison). The rows are filled by
`tracker reindex`, which a deployment runs once after this upgrade.

Revision ID: bf3cb2451f48
Revises: 5c7e2a91d0b4
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "bf3cb2451f48"
down_revision: str | None = "5c7e2a91d0b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # rowid is the record's kind and id (tracker/search/index.py), so one record's row is found without a scan.
        op.execute(
            "CREATE VIRTUAL TABLE search_index USING fts5("
            "kind UNINDEXED, record_id UNINDEXED, project_id UNINDEXED, code, title, body, path UNINDEXED, "
            "tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3')"
        )
        return
    # PostgreSQL's parser keeps some punctuation inside tokens (R-012 is "r" and the integer "-012", v2.1 a file
    # name): punctuation becomes spaces first, so the index splits words as the query does (tracker/search/service.py
    # words) and as SQLite's unicode61 tokenizer does.
    punctuation = "-./_:@+#&|!()'\"<>,;*?=\\[]{}^~`$%"
    quoted = punctuation.replace("'", "''")
    heading = "code || ' ' || title"

    def words(expr: str) -> str:
        return f"to_tsvector('english'::regconfig, translate({expr}, '{quoted}', '{' ' * len(punctuation)}'))"

    op.execute(
        "CREATE TABLE search_index ("
        "id BIGINT PRIMARY KEY, kind VARCHAR(16) NOT NULL, record_id INTEGER NOT NULL, project_id INTEGER NOT NULL, "
        "code TEXT NOT NULL DEFAULT '', title TEXT NOT NULL DEFAULT '', body TEXT NOT NULL DEFAULT '', "
        "path TEXT NOT NULL DEFAULT '', "
        "doc tsvector GENERATED ALWAYS AS ("
        + f"setweight({words(heading)}, 'A') || setweight({words('body')}, 'B')) STORED)"
    )
    op.execute("CREATE INDEX search_index_doc ON search_index USING gin (doc)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS search_index")
