"""The schema comes only from migrations: they build exactly the models' schema, and go down and up again."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata, produce_migrations, render_python_code
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from tests.dbutil import IS_SQLITE, fresh_database
from tracker.cli import alembic_config
from tracker.core.db import make_engine
from tracker.models import metadata, modelled


def _diff(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": modelled})
        diff = compare_metadata(ctx, metadata)
    engine.dispose()
    return diff


def _index_names(url: str) -> set[str]:
    """Every index the migrations built, by name. Alembic cannot compare expression indexes on SQLite, so this
    is how the registers' sort indexes are held to the models there."""
    engine = make_engine(url)
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        if engine.dialect.name == "sqlite"
        else "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    )
    with engine.connect() as conn:
        names = set(conn.execute(text(query)).scalars())
    engine.dispose()
    return names


def _without_autoincrement(url: str) -> set[str]:
    """SQLite: the tables keyed by an integer id but without AUTOINCREMENT, which give a deleted row's id again."""
    keyed = {t.name for t in metadata.tables.values() if [c.name for c in t.primary_key] == ["id"]}
    engine = make_engine(url)
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all()
    engine.dispose()
    return {name for name, sql in tables if name in keyed and "AUTOINCREMENT" not in sql}


def test_there_is_one_head():
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_migrations_match_the_models_and_round_trip(tmp_path):
    with fresh_database(tmp_path) as url:
        cfg = alembic_config(url)
        command.upgrade(cfg, "head")
        assert _diff(url) == []
        if IS_SQLITE:
            assert _without_autoincrement(url) == set()
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
        if IS_SQLITE:
            assert _without_autoincrement(url) == set()


def test_autogenerate_writes_every_new_table_with_autoincrement(tmp_path):
    """The models declare it once for every table (tracker/models.py), so a table added later gets it too."""
    with fresh_database(tmp_path) as url:
        engine = make_engine(url)
        with engine.connect() as conn:
            script = produce_migrations(MigrationContext.configure(conn), metadata)
        engine.dispose()
    code = render_python_code(script.upgrade_ops)
    assert code.count("op.create_table(") == len(metadata.tables) == code.count("sqlite_autoincrement=True")


def test_a_deleted_rows_id_is_never_given_to_another_row(conn, world):
    """The audit trail names records by id: a deleted record's events must never come to name a new one."""
    newest = conn.execute(
        text("SELECT id, project_id, user_id, role, created_at FROM membership ORDER BY id DESC LIMIT 1")
    ).one()
    conn.execute(text("DELETE FROM membership WHERE id = :id"), {"id": newest.id})
    again = conn.execute(
        text(
            "INSERT INTO membership (project_id, user_id, role, created_at) "
            "VALUES (:project_id, :user_id, :role, :created_at) RETURNING id"
        ),
        newest._asdict(),
    ).scalar_one()
    assert again > newest.id


REBUILT = "e1ba1cd62741"  # the revision that rebuilt every SQLite table with AUTOINCREMENT

# Rows written before that revision, with the ids it must keep; the trail names a deleted risk (12) above every
# risk left, so the next risk must come after it.
KEPT = {
    "app_user": {
        "id": 7,
        "username": "kept",
        "full_name": "Kept User",
        "email": "kept@example.gov",
        "title": "",
        "organization": "",
        "password_hash": "x",
        "is_admin": False,
        "is_active": True,
        "created_at": "2026-03-02 09:00:00",
    },
    "project": {
        "id": 5,
        "key": "KPT",
        "name": "Kept",
        "description": "",
        "sponsor": "",
        "contractor": "",
        "contract_number": "",
        "timezone": "UTC",
        "deemed_policy": "none",
        "holiday_calendar": "US",
        "extra_holidays": "[]",
        "archived": False,
        "created_at": "2026-03-02 09:00:00",
    },
    "risk": {
        "id": 9,
        "project_id": 5,
        "code": "R-009",
        "title": "Kept risk",
        "statement": "",
        "category": "schedule",
        "probability": 3,
        "impact": 4,
        "proximity": "near",
        "trigger": "",
        "owner_id": 7,
        "response": "mitigate",
        "mitigation_plan": "",
        "contingency_plan": "",
        "status": "open",
        "raised_on": "2026-03-02",
        "created_at": "2026-03-02 09:00:00",
        "updated_at": "2026-03-02 09:00:00",
    },
    "audit_event": {
        "id": 42,
        "at": "2026-03-03 10:00:00",
        "actor_id": 7,
        "project_id": 5,
        "entity_type": "risk",
        "entity_id": 12,
        "entity_label": "R-012",
        "action": "delete",
        "changes": "{}",
    },
}


def _insert(conn, table: str, row: dict) -> int:
    columns, values = ", ".join(row), ", ".join(":" + c for c in row)
    return conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING id"), row).scalar_one()


def _columns_of(table: str) -> str:
    return f"SELECT {', '.join(KEPT[table])} FROM {table}"


def test_the_autoincrement_rebuild_keeps_every_row_id_trigger_and_index(tmp_path):
    before = ScriptDirectory.from_config(alembic_config()).get_revision(REBUILT).down_revision
    with fresh_database(tmp_path) as url:
        cfg = alembic_config(url)
        command.upgrade(cfg, before)
        engine = make_engine(url)
        with engine.begin() as conn:
            for table, row in KEPT.items():
                _insert(conn, table, row)
        with engine.connect() as conn:
            written = {table: conn.execute(text(_columns_of(table))).all() for table in KEPT}
        engine.dispose()

        command.upgrade(cfg, "head")
        engine = make_engine(url)
        with engine.connect() as conn:
            # the columns written then: later revisions may add columns
            assert {table: conn.execute(text(_columns_of(table))).all() for table in KEPT} == written
            if IS_SQLITE:
                assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
                assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
                new_risk = {k: v for k, v in KEPT["risk"].items() if k != "id"} | {"code": "R-013"}
                assert _insert(conn, "risk", new_risk) == 13
            with pytest.raises(IntegrityError, match="append-only"), conn.begin_nested():
                conn.execute(text("UPDATE audit_event SET action = 'x'"))
        engine.dispose()
        assert {"ix_risk_project_score", "ix_issue_project_priority"} <= _index_names(url)
        if IS_SQLITE:
            assert _without_autoincrement(url) == set()


def test_audit_events_cannot_be_changed_or_deleted(conn, world):
    for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        savepoint = conn.begin_nested()
        with pytest.raises(IntegrityError, match="append-only"):  # a 409 for a user, not a 500
            conn.execute(text(statement))
        savepoint.rollback()


DIGEST_ZONE = "7918438e4d5e"  # the revision that copies the digest's zone to the profile


def test_a_zone_chosen_for_the_digest_becomes_the_profile_zone_of_whoever_chose_none(tmp_path):
    before = ScriptDirectory.from_config(alembic_config()).get_revision(DIGEST_ZONE).down_revision
    # username -> (profile zone, digest zone, the profile zone after)
    people = {
        "chose_digest": ("", "Pacific/Auckland", "Pacific/Auckland"),
        "chose_both": ("Asia/Tokyo", "Europe/Paris", "Asia/Tokyo"),  # the profile's choice stands
        "old_default": ("", "America/New_York", ""),  # every digest row had it: no one's choice
        "unknown": ("", "Mars/Base", ""),
    }
    with fresh_database(tmp_path) as url:
        cfg = alembic_config(url)
        command.upgrade(cfg, before)
        engine = make_engine(url)
        with engine.begin() as conn:
            for n, (name, (profile, digest, _)) in enumerate(people.items()):
                row = KEPT["app_user"] | {"id": 20 + n, "username": name, "timezone": profile}
                user_id = _insert(conn, "app_user", row)
                conn.execute(
                    text("INSERT INTO mail_settings (user_id, timezone, digest_hour) VALUES (:u, :z, 7)"),
                    {"u": user_id, "z": digest},
                )
        engine.dispose()
        command.upgrade(cfg, "head")
        engine = make_engine(url)
        with engine.connect() as conn:
            zones = dict(conn.execute(text("SELECT username, timezone FROM app_user")).all())
            columns = {c["name"] for c in inspect(conn).get_columns("mail_settings")}
        engine.dispose()
    assert zones == {name: after for name, (_, _, after) in people.items()}
    assert "timezone" not in columns and "digest_hour" in columns
