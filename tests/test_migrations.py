"""The schema comes only from migrations: they build exactly the models' schema, and go down and up again."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from tests.dbutil import fresh_database
from tracker.cli import alembic_config
from tracker.core.db import make_engine
from tracker.models import metadata


def _diff(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    engine.dispose()
    return diff


def _index_names(url: str) -> set[str]:
    """Every index the migrations built, by name. Alembic cannot compare expression indexes on SQLite, so this
    is how the registers' sort indexes are held to the models there."""
    engine = make_engine(url)
    query = ("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL" if engine.dialect.name == "sqlite"
             else "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")  # fmt: skip
    with engine.connect() as conn:
        names = set(conn.execute(text(query)).scalars())
    engine.dispose()
    return names


def test_there_is_one_head():
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_migrations_match_the_models_and_round_trip(tmp_path):
    with fresh_database(tmp_path) as url:
        cfg = alembic_config(url)
        command.upgrade(cfg, "head")
        assert _diff(url) == []
        declared = {index.name for table in metadata.tables.values() for index in table.indexes}
        built = {name for name in _index_names(url) if name.startswith("ix_")}
        assert built == declared
        command.downgrade(cfg, "base")
        engine = make_engine(url)
        with engine.connect() as conn:
            tables = {t for t in metadata.tables if conn.dialect.has_table(conn, t)}
        engine.dispose()
        assert tables == set()
        command.upgrade(cfg, "head")
        assert _diff(url) == []


def test_audit_events_cannot_be_changed_or_deleted(conn, world):
    from sqlalchemy.exc import DBAPIError

    for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        savepoint = conn.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement))
        savepoint.rollback()
