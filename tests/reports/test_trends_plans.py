"""The trends' queries use the indexes made for them, on SQLite and PostgreSQL alike: the partial index of status
changes (its condition is matched only when the query writes the same expression) and the issues' covering index.
PostgreSQL is told not to scan whole tables, as a small test database would tempt it to: the question is whether the
index can be used at all."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Connection

from tests.dbutil import IS_SQLITE, statements
from tests.register.conftest import acting, make_issue, make_risk
from tracker.projects.calendar import project_today
from tracker.reports import trends


def plans(conn: Connection, run: Callable[[], object], hiding: tuple[str, ...] = ()) -> str:
    """The plans of every statement `run` makes, as one text. `hiding`: indexes PostgreSQL is not shown (dropped in
    the test's transaction, which rolls back): on a nearly empty table any index that starts with the project looks
    as cheap as the one the query was made for, and the question is whether that one can be used."""
    seen = statements(conn, run)
    if not IS_SQLITE:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        for name in hiding:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
    cursor = conn.connection.dbapi_connection.cursor()
    out = []
    for statement, parameters in seen:
        cursor.execute(("EXPLAIN QUERY PLAN " if IS_SQLITE else "EXPLAIN ") + statement, parameters)
        out += [str(row[-1] if IS_SQLITE else row[0]) for row in cursor.fetchall()]
    return "\n".join(out)


def test_risk_exposure_finds_status_changes_by_their_own_index(db, conn, world):
    risk = make_risk(db, world, title="Licence audit", probability="4", impact="4")
    db.flush()
    project = acting(db, world, "manager")[1].project
    ws = trends.weeks(project.timezone, project_today(project), trends.EXPOSURE_WEEKS)
    plan = plans(conn, lambda: trends.risk_exposure(db, [project.id], ws))
    assert "ix_audit_event_status" in plan, plan
    assert trends.risk_exposure(db, [project.id], ws)[project.id][-1] >= risk.probability * risk.impact


def test_the_median_issue_age_reads_the_issues_covering_index(db, conn, world):
    make_issue(db, world, title="Test environment down")
    db.flush()
    project = acting(db, world, "manager")[1].project
    ws = trends.weeks(project.timezone, project_today(project), trends.EXPOSURE_WEEKS)
    register_orders = ("ix_issue_project_priority", "ix_issue_project_status_priority")
    plan = plans(conn, lambda: trends.median_open_age(db, [project.id], ws), hiding=register_orders)
    assert "ix_issue_project_open_span" in plan, plan
