"""The registers' default orders come straight from their indexes: the database reads the first page in order
and stops, instead of sorting every risk or issue of the project (bench/profile.py shows the cost on the large data
set). Checked on SQLite's query plan; PostgreSQL's planner rightly sorts tables this small, so there the index is
proven by the migrations test and the benchmark."""

from __future__ import annotations

import pytest

from tests.register.conftest import acting, make_issue, make_risk
from tracker.register.issues import service as issues
from tracker.register.risks import service as risks


@pytest.mark.parametrize("sort", ["-score", "score"])
def test_the_risk_register_reads_its_score_order_from_an_index(db, world, plan_of_list_query, sort):
    for p in range(1, 4):
        make_risk(db, world, probability=str(p))
    _, access = acting(db, world, "staff")
    plan = plan_of_list_query(lambda: risks.search(db, access, risks.RiskQuery(sort=sort)))
    assert "ix_risk_project_score" in plan
    assert "TEMP B-TREE" not in plan


@pytest.mark.parametrize("sort", ["priority", "-priority"])
def test_the_issue_register_reads_its_priority_order_from_an_index(db, world, plan_of_list_query, sort):
    for priority in ("low", "critical", "medium"):
        make_issue(db, world, priority=priority)
    _, access = acting(db, world, "staff")
    plan = plan_of_list_query(lambda: issues.search(db, access, issues.IssueQuery(sort=sort)))
    assert "ix_issue_project_priority" in plan
    assert "TEMP B-TREE" not in plan


def test_the_indexed_orders_are_the_registers_orders(db, world):
    """The index serves the sort only because the sort is the one the users asked for: highest score first,
    most urgent priority first, then by code."""
    for p, i in ((1, 1), (5, 4), (3, 3), (5, 4)):
        make_risk(db, world, probability=str(p), impact=str(i))
    for priority in ("low", "critical", "medium", "critical"):
        make_issue(db, world, priority=priority)
    _, access = acting(db, world, "staff")
    rows, _ = risks.search(db, access, risks.RiskQuery(sort="-score"))
    assert [(r.score, r.risk.code) for r in rows] == [(20, "R-004"), (20, "R-002"), (9, "R-003"), (1, "R-001")]
    rows, _ = issues.search(db, access, issues.IssueQuery(sort="priority"))
    assert [(r.issue.priority, r.issue.code) for r in rows] == [
        ("critical", "I-002"),
        ("critical", "I-004"),
        ("medium", "I-003"),
        ("low", "I-001"),
    ]


def test_the_issue_register_filtered_by_status_and_priority_reads_one_index_in_order(db, world, plan_of_list_query):
    for priority in ("low", "critical", "high"):
        make_issue(db, world, priority=priority)
    _, access = acting(db, world, "staff")
    query = issues.IssueQuery(status="open", priority="high")
    plan = plan_of_list_query(lambda: issues.search(db, access, query))
    assert "ix_issue_project_status_priority" in plan
    assert "TEMP B-TREE" not in plan
