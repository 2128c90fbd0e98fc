"""Decisions and the records generated from them are immutable: the database itself refuses UPDATE and DELETE.

A contract dispute is settled from these rows (the acceptance, conditional acceptance or rejection, and the letters
and sign-offs stored with their sha256), so not even a careless script may change them, as with audit_event
(b7c1d2e3f4a5) and published status reports (e311d99a863f). On PostgreSQL every one of these refusals, the earlier
ones too, is now an integrity error as it is on SQLite, so a request that hit one by mistake answers 409, not 500.

Revision ID: d8c143d53c2f
Revises: e1ba1cd62741
Create Date: 2026-12-06
"""

from alembic import op

revision = "d8c143d53c2f"
down_revision = "e1ba1cd62741"
branch_labels = None
depends_on = None

IMMUTABLE = ["decision", "generated_record"]
INTEGRITY_ERROR = " USING ERRCODE = 'integrity_constraint_violation'"


def _earlier_refusals(using: str) -> None:
    """PostgreSQL: the functions of b7c1d2e3f4a5 and e311d99a863f, raising with `using`."""
    op.execute(
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION 'audit_event is append-only'{using}; END $$"
    )
    op.execute(
        "CREATE OR REPLACE FUNCTION status_report_published_frozen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF OLD.status = 'published' THEN RAISE EXCEPTION 'a published status report is never changed'{using}; "
        "END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in IMMUTABLE:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is immutable'); END"
                )
        return
    op.execute(
        "CREATE FUNCTION immutable_row() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '% is immutable', TG_TABLE_NAME{INTEGRITY_ERROR}; END $$"
    )
    for table in IMMUTABLE:
        op.execute(
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION immutable_row()"
        )
    _earlier_refusals(INTEGRITY_ERROR)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in IMMUTABLE:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        return
    for table in IMMUTABLE:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
    op.execute("DROP FUNCTION IF EXISTS immutable_row()")
    _earlier_refusals("")
