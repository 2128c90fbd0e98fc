"""The tracker command: demo data, create-user, backup."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner
from sqlmodel import Session, func, select

from tests.dbutil import IS_SQLITE, fresh_database
from tracker import cli
from tracker.accounts.models import User
from tracker.core.db import make_engine
from tracker.projects.models import Membership, Project
from tracker.settings import get_settings


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    with fresh_database(tmp_path) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        yield url
        get_settings.cache_clear()


def test_demo_loads_a_realistic_portfolio_once(cli_db):
    runner = CliRunner()
    result = runner.invoke(cli.main, ["demo"])
    assert result.exit_code == 0, result.output
    assert "mrivera" in result.output and "demo-password" in result.output
    again = runner.invoke(cli.main, ["demo"])
    assert "already has data" in again.output
    engine = make_engine(cli_db)
    with Session(engine) as db:
        assert db.exec(select(func.count()).select_from(User)).one() == 12
        assert db.exec(select(func.count()).select_from(Project)).one() == 3
        roles = set(db.exec(select(Membership.role)).all())
        assert roles == {"manager", "staff", "contractor", "viewer"}
    engine.dispose()


def test_create_user_from_the_command_line(cli_db):
    runner = CliRunner()
    runner.invoke(cli.main, ["migrate"])
    result = runner.invoke(cli.main, ["create-user", "boss", "--full-name", "The Boss", "--email", "b@example.gov",
                                      "--admin", "--password-stdin"], input="a-very-long-password\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    bad = runner.invoke(cli.main, ["create-user", "boss", "--full-name", "X", "--email", "b@example.gov",
                                   "--password-stdin"], input="a-very-long-password\n")  # fmt: skip
    assert bad.exit_code != 0 and "taken" in bad.output


@pytest.mark.skipif(not IS_SQLITE, reason="SQLite online backup")
def test_backup_is_a_consistent_copy(cli_db, tmp_path):
    runner = CliRunner()
    runner.invoke(cli.main, ["demo"])
    out = tmp_path / "copy.db"
    result = runner.invoke(cli.main, ["backup", str(out)])
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(out)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM app_user").fetchone()[0] == 12
    conn.close()
