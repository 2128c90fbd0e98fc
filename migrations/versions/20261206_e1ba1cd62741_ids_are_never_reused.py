"""Ids are never reused: every SQLite table keyed by an integer id becomes AUTOINCREMENT.

Without it SQLite gives the highest id to the next row again once that row is deleted, so an audit event naming a
deleted record could come to name a new one (PostgreSQL sequences never go back: nothing to do there). SQLite
cannot add AUTOINCREMENT to a table, so each is rebuilt (batch mode: create, copy every row with its id, drop,
rename; env.py turns foreign keys off for it, as dropping a referenced table would otherwise fail). A rebuild drops
the table's triggers and batch mode cannot reflect expression indexes, so those are read first and made again from
their own SQL. Then each table's sequence starts past any higher id the trail names (a record deleted before now).

Revision ID: e1ba1cd62741
Revises: 8c3f0d2b6a17
Create Date: 2026-12-06
"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "e1ba1cd62741"
down_revision = "8c3f0d2b6a17"
branch_labels = None
depends_on = None

# Every table keyed by an integer id at this revision (the others are keyed by what they link or name).
TABLES = [
    "app_user",
    "project",
    "api_token",
    "audit_event",
    "membership",
    "deliverable",
    "criterion",
    "submission",
    "comment",
    "criterion_result",
    "decision",
    "review_assignment",
    "submission_file",
    "generated_record",
    "risk",
    "issue",
    "risk_score_history",
    "action_item",
    "issue_decision",
    "saved_report",
    "status_report",
]


def _sql(statement: str, **params: object) -> sa.CursorResult:
    return op.get_bind().execute(sa.text(statement), params)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for t in TABLES:
        kept = _sql(
            "SELECT name, sql FROM sqlite_master WHERE tbl_name = :t AND type IN ('index', 'trigger') "
            "AND sql IS NOT NULL",
            t=t,
        ).all()
        with warnings.catch_warnings():  # batch mode skips expression indexes with a warning: made again below
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            with op.batch_alter_table(t, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
                pass
        rebuilt = set(_sql("SELECT name FROM sqlite_master WHERE tbl_name = :t", t=t).scalars())
        for name, sql in kept:
            if name not in rebuilt:
                _sql(sql)
        named = _sql("SELECT MAX(entity_id) FROM audit_event WHERE entity_type = :t", t=t).scalar()
        if named is not None:
            _sql("UPDATE sqlite_sequence SET seq = MAX(seq, :n) WHERE name = :t", t=t, n=named)
            _sql(
                "INSERT INTO sqlite_sequence (name, seq) SELECT :t, :n "
                "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = :t)",
                t=t,
                n=named,
            )


def downgrade() -> None:
    pass  # AUTOINCREMENT tables serve the earlier revisions as they are
