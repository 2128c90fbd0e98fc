"""The tracker command: demo data, create-user, backup."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, col, func, select

from tests.conftest import demo_copy
from tests.dbutil import IS_SQLITE, fresh_database
from tracker import cli
from tracker.accounts.models import User
from tracker.audit.models import AuditEvent
from tracker.core.db import make_engine
from tracker.deliverables.models import Deliverable
from tracker.projects.models import Membership, Project
from tracker.settings import get_settings


def _use(monkeypatch: pytest.MonkeyPatch, url: str, uploads: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TRACKER_UPLOAD_DIR", str(uploads))
    get_settings.cache_clear()


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    with fresh_database(tmp_path) as url:
        _use(monkeypatch, url, tmp_path / "uploads")
        yield url
        get_settings.cache_clear()


@pytest.fixture
def demo_cli_db(demo_template, tmp_path, monkeypatch):
    """A copy of the database `tracker demo` loaded the demo into (the session's demo_template)."""
    with demo_copy(demo_template, tmp_path) as (url, uploads):
        _use(monkeypatch, url, uploads)
        yield url
        get_settings.cache_clear()


def test_demo_loads_once_and_reset_reloads_it(demo_template, demo_cli_db):
    # The first load is the session's: `tracker demo` on an empty database (tests/conftest.py).
    assert demo_template.exit_code == 0, demo_template.output
    assert "Demo data loaded." in demo_template.output
    assert "mrivera" in demo_template.output and "demo-password" in demo_template.output
    runner = CliRunner()
    again = runner.invoke(cli.main, ["demo"])
    assert "already has data" in again.output
    engine = make_engine(demo_cli_db)
    with Session(engine) as db:
        assert db.exec(select(func.count()).select_from(User)).one() == 12
        assert db.exec(select(func.count()).select_from(Project)).one() == 3
        roles = set(db.exec(select(Membership.role)).all())
        assert roles == {"manager", "staff", "contractor", "viewer"}
        assert db.exec(select(func.count()).select_from(Deliverable)).one() == 48
        latest = db.exec(select(AuditEvent.entity_type).order_by(col(AuditEvent.at).desc()).limit(20)).all()
        assert "saved_report" not in latest  # the starter reports date from each project's start
    engine.dispose()
    # --reset reloads over a database full of referenced rows (the SQLite migrations rebuild tables)
    result = runner.invoke(cli.main, ["demo", "--reset"])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded." in result.output
    engine = make_engine(demo_cli_db)
    with Session(engine) as db:
        assert db.exec(select(func.count()).select_from(Deliverable)).one() == 48
    engine.dispose()


def test_create_user_from_the_command_line(cli_db):
    runner = CliRunner()
    runner.invoke(cli.main, ["migrate"])
    result = runner.invoke(
        cli.main,
        ["create-user", "boss", "--full-name", "The Boss", "--email", "b@example.gov", "--admin", "--password-stdin"],
        input="a-very-long-password\n",
    )
    assert result.exit_code == 0, result.output
    bad = runner.invoke(
        cli.main,
        ["create-user", "boss", "--full-name", "X", "--email", "b@example.gov", "--password-stdin"],
        input="a-very-long-password\n",
    )
    assert bad.exit_code != 0 and "taken" in bad.output


@pytest.mark.skipif(not IS_SQLITE, reason="SQLite online backup")
def test_backup_is_a_consistent_copy(cli_db, tmp_path):
    runner = CliRunner()
    runner.invoke(cli.main, ["migrate"])
    runner.invoke(
        cli.main,
        ["create-user", "boss", "--full-name", "The Boss", "--email", "b@example.gov", "--password-stdin"],
        input="a-very-long-password\n",
    )
    out = tmp_path / "copy.db"
    result = runner.invoke(cli.main, ["backup", str(out)])
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(out)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT username FROM app_user").fetchall() == [("boss",)]
    conn.close()


def test_clocks_command_applies_the_contract_clocks(cli_db):
    runner = CliRunner()
    runner.invoke(cli.main, ["migrate"])
    result = runner.invoke(cli.main, ["clocks"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Deemed accepted: none. Escalated: none."


def test_import_and_export_a_register_from_the_command_line(cli_db, tmp_path):
    from tracker.accounts import service as accounts
    from tracker.core.forms import parse
    from tracker.core.spreadsheet import read_table
    from tracker.projects import service as projects
    from tracker.register.risks.models import Risk

    runner = CliRunner()
    runner.invoke(cli.main, ["migrate"])
    engine = make_engine(cli_db)
    with Session(engine) as db:
        admin = accounts.create_user(
            db,
            None,
            parse(
                accounts.UserForm,
                {
                    "username": "boss",
                    "full_name": "The Boss",
                    "email": "b@example.gov",
                    "password": "long-enough-pw",
                    "is_admin": True,
                },
            ),
        )
        staff = accounts.create_user(
            db,
            None,
            parse(
                accounts.UserForm,
                {"username": "kim", "full_name": "Daniel Kim", "email": "k@example.gov", "password": "long-enough-pw"},
            ),
        )
        p = projects.create_project(
            db,
            accounts.principal(admin),
            parse(projects.ProjectForm, {"key": "CWS", "name": "Child Welfare", "holiday_calendar": "US"}),
        )
        access = projects.get_for(db, accounts.principal(admin), p.key, projects.Perm.MANAGE)
        projects.add_member(db, accounts.principal(admin), access, projects.MemberForm(user_id=staff.id, role="staff"))
        db.commit()
    sheet = tmp_path / "register.csv"
    sheet.write_text("Risk ID,Title,Likelihood,Impact,Owner\nR-1,Vendor late,Likely,Major,Daniel Kim\nR-2,,9,1,\n")
    result = runner.invoke(cli.main, ["import", "CWS", "risks", str(sheet), "--as", "kim", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "2 rows: 1 new, 0 to update, 0 unchanged, 1 with errors." in result.output
    assert "Row 3, Title: Title is required." in result.output
    result = runner.invoke(cli.main, ["import", "CWS", "risks", str(sheet), "--as", "kim"])
    assert result.exit_code == 1 and "1 row(s) have errors; nothing was imported." in result.output
    assert (
        runner.invoke(cli.main, ["import", "CWS", "risks", str(sheet), "--as", "boss"]).exit_code == 1
    )  # admins only read
    result = runner.invoke(cli.main, ["import", "CWS", "risks", str(sheet), "--as", "kim", "--only-valid"])
    assert result.exit_code == 0 and "Imported 1 risks into CWS." in result.output
    with Session(engine) as db:
        assert [(r.code, r.probability, r.impact) for r in db.exec(select(Risk))] == [("R-1", 4, 4)]
    engine.dispose()
    out = tmp_path / "out.xlsx"
    result = runner.invoke(cli.main, ["export", "CWS", "risks", str(out)])
    assert result.exit_code == 0, result.output
    rows = read_table(out.name, out.read_bytes())
    assert rows.headers[:3] == ["Risk ID", "Title", "Risk statement"] and rows.rows[0][1][:2] == ["R-1", "Vendor late"]
    assert runner.invoke(cli.main, ["export", "CWS", "risks", str(tmp_path / "out.pdf")]).exit_code == 1


@pytest.mark.skipif(not IS_SQLITE, reason="SQLite restore (PostgreSQL: bench/test_durability.py)")
def test_restore_writes_the_backup_into_an_empty_database_only(cli_db, tmp_path, monkeypatch):
    runner = CliRunner()
    runner.invoke(cli.main, ["migrate"])
    runner.invoke(
        cli.main,
        ["create-user", "boss", "--full-name", "The Boss", "--email", "b@example.gov", "--password-stdin"],
        input="a-very-long-password\n",
    )
    out = tmp_path / "copy.db"
    assert runner.invoke(cli.main, ["backup", str(out)]).exit_code == 0
    refused = runner.invoke(cli.main, ["restore", str(out)])  # the live database is not empty
    assert refused.exit_code != 0 and "--force" in refused.output
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fresh' / 'new.db'}")
    get_settings.cache_clear()
    result = runner.invoke(cli.main, ["restore", str(out)])
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(tmp_path / "fresh" / "new.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT username FROM app_user").fetchall() == [("boss",)]
    conn.close()
