"""The clocks table: each clock's Python rule and SQL clause agree on the same records (on both databases), every
clock is in the table, every caller reads it and no module restates it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from itertools import cycle
from pathlib import Path

import pytest
from sqlalchemy import case
from sqlmodel import select

from tracker import clocks
from tracker.deliverables.models import Condition, Decision, Deliverable, ReviewAssignment, Submission
from tracker.deliverables.workflow import Status
from tracker.projects.models import Project
from tracker.register.actions.models import ActionItem
from tracker.register.issues.models import Issue, IssueStatus
from tracker.register.risks.models import Risk, RiskStatus

TODAY = date(2026, 11, 20)
OFFSETS = (-30, -6, -5, -1, 0, 1, 4, 5, 6, 14, 15, 40, None)  # days from TODAY; None: no date
DONE = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _days(n: int | None) -> date | None:
    return None if n is None else TODAY + timedelta(days=n)


@pytest.fixture
def records(db, world):
    """Rows of every clock's model, in every status, on each side of every window's edges, stopped and not."""
    project = db.exec(select(Project).where(Project.key == world.project_key)).one()
    user = world.ids["staff"]
    days = cycle(OFFSETS)
    n = 0
    for status in Status:
        for _ in OFFSETS:
            n += 1
            db.add(
                Deliverable(
                    project_id=project.id,
                    code=f"K-{n}",
                    title="x",
                    status=status,
                    due_date=_days(next(days)),
                    review_due=_days(next(days)),
                    resubmit_due=_days(next(days)),
                    deemed_on=_days(next(days)),
                )
            )
    d = Deliverable(project_id=project.id, code="K-0", title="x", status=Status.CONDITIONALLY_ACCEPTED)
    db.add(d)
    db.flush()
    s = Submission(deliverable_id=d.id, number=1, submitted_by_id=user, review_due=TODAY)
    db.add(s)
    db.flush()
    decision = Decision(deliverable_id=d.id, submission_id=s.id, outcome="conditionally_accepted")
    db.add(decision)
    db.flush()
    for i, (offset, stopped) in enumerate((o, s) for o in OFFSETS if o is not None for s in (None, DONE)):
        version = Submission(deliverable_id=d.id, number=i + 2, submitted_by_id=user, review_due=TODAY)
        db.add(version)
        db.flush()
        db.add(
            ReviewAssignment(submission_id=version.id, reviewer_id=user, due_date=_days(offset), completed_at=stopped)
        )
        db.add(
            Condition(
                deliverable_id=d.id,
                decision_id=decision.id,
                position=i,
                text="x",
                due_date=_days(offset),
                met_at=stopped,
            )
        )
    risk = None
    for status in RiskStatus:
        for offset in OFFSETS:
            n += 1
            risk = Risk(
                project_id=project.id,
                code=f"R-{n}",
                title="x",
                probability=3,
                impact=3,
                status=status,
                next_review_date=_days(offset),
                raised_on=TODAY,
            )
            db.add(risk)
    for status in IssueStatus:
        for offset in OFFSETS:
            n += 1
            db.add(
                Issue(
                    project_id=project.id,
                    code=f"I-{n}",
                    title="x",
                    status=status,
                    need_by=_days(offset),
                    raised_on=TODAY,
                )
            )
    db.flush()
    for offset in OFFSETS:
        for stopped in (None, DONE):
            db.add(
                ActionItem(
                    project_id=project.id,
                    risk_id=risk.id,
                    plan="mitigation",
                    description="x",
                    due_date=_days(offset),
                    done_at=stopped,
                )
            )
    db.flush()
    return project


def _model(clock: clocks.Clock):
    return clock.due_column.class_


@pytest.mark.parametrize("clock", clocks.CLOCKS.values(), ids=list(clocks.CLOCKS))
def test_each_clock_reads_the_same_in_python_and_in_sql(db, records, clock):
    model = _model(clock)

    def flag(clause):
        return case((clause, 1), else_=0)

    rows = db.exec(
        select(
            model,
            clock.due_expr(),
            flag(clock.overdue_clause(TODAY)),
            flag(clock.due_clause(TODAY)),
            flag(clock.running_clause()),
        )
    ).all()
    assert len(rows) >= 20
    for record, due, overdue, is_due, running in rows:
        assert (due, bool(overdue), bool(is_due), bool(running)) == (
            clock.due(record),
            clock.overdue(record, TODAY),
            clock.is_due(record, TODAY),
            clock.running(record),
        ), record
    assert {bool(o) for _, _, o, _, _ in rows} == {True, False}  # the records reach both sides of the rule
    assert {bool(d) for _, _, _, d, _ in rows} == {True, False}


@pytest.mark.parametrize("clock", clocks.CLOCKS.values(), ids=list(clocks.CLOCKS))
def test_each_clock_counts_days_overdue_alike_in_python_and_in_sql(db, records, clock):
    model = _model(clock)
    everything = db.exec(select(model)).all()
    for low, high in ((1, None), (None, 0), (2, 6), (0, None), (None, -1), (6, 6)):
        expected = {
            r.id
            for r in everything
            if (low is None or clock.days_overdue(r, TODAY) >= low)
            and (high is None or clock.days_overdue(r, TODAY) <= high)
        }
        found = db.exec(select(model.id).where(clocks.days_past_clause(clock.due_expr(), TODAY, low, high))).all()
        assert set(found) == expected, (low, high)


def test_the_state_and_is_due_agree(db, records):
    for clock in clocks.CLOCKS.values():
        for record in db.exec(select(_model(clock))).all():
            due = clock.due(record)
            state = clock.state(due, TODAY)
            assert (state is not None) == clock.is_due(record, TODAY)
            assert (state == "overdue") == clock.overdue(record, TODAY)


def test_the_deliverables_running_clock_is_one_of_three_by_status(db, records):
    rows = db.exec(
        select(Deliverable, clocks.running_due_expr(), case((clocks.running_overdue_clause(TODAY), 1), else_=0)).where(
            Deliverable.project_id == records.id
        )
    ).all()
    for d, due, overdue in rows:
        assert due == clocks.running_due(d)
        assert bool(overdue) == clocks.past(clocks.running_due(d), TODAY)
        running = [c for c in clocks.RUNNING if c.running(d)]
        assert running == ([clocks.running_for(d.status)] if clocks.running_for(d.status) else [])


# --- the table is the only place: every clock is in it, every caller reads it, no module restates the rule ----------

ROOT = Path(__file__).resolve().parents[1]

# Who reads the table, and for what. A new caller of a clock is added here.
CALLERS = {
    "tracker/deliverables/service.py": "the running clock, the list's overdue filter and badges, deemed warning, escalation",
    "tracker/deliverables/work.py": "My work: every deliverable clock",
    "tracker/deliverables/conditions.py": "a condition's days overdue",
    "tracker/deliverables/reviews.py": "a reviewer's due date is not in the past",
    "tracker/deliverables/submissions.py": "a submission starts the review and deemed clocks",
    "tracker/deliverables/decisions.py": "a rejection starts the resubmission clock; conditions are not due in the past",
    "tracker/deliverables/records.py": "the rejection letter's resubmission date",
    "tracker/deliverables/views.py": "the record page's overdue badges",
    "tracker/deliverables/timeline.py": "the timeline's late due dates, review windows and conditions",
    "tracker/home/service.py": "My work: action items and risk reviews",
    "tracker/library/sources.py": "saved reports: days overdue, overdue and due-for-review flags",
    "tracker/reports/service.py": "the status report's overdue and upcoming lists",
    "tracker/reports/scorecard.py": "on-time submissions and conditions",
    "tracker/register/actions/service.py": "overdue action items",
    "tracker/register/issues/service.py": "issues past their need-by date",
    "tracker/register/risks/service.py": "risks due for review, risks with overdue actions",
}
# A due date compared with a day ("today", "project_today(...)", "w.today") outside the table.
RESTATED = re.compile(
    r"\b(\w*due\w*|need_by|next_review_date|deemed_on|clock)\b\)?\s*(<=?|>=?)\s*[\w.(]*today"
    r"|\btoday\w*\)?\s*(<=?|>=?)\s*[\w.(]*(due|need_by|next_review|deemed)"
    r"|-\s*[\w.(]*today\w*\)?\)\.days\s*(<=?|>=?)"  # days left held to a window
    r"|\b(UPCOMING_DAYS|DEEMED_WARNING_DAYS)\b"
)
THE_RULE = {"tracker/clocks.py", "tracker/core/clock.py"}  # the table, and the date arithmetic it states its rule with


def test_the_table_lists_every_clock():
    assert list(clocks.CLOCKS) == [
        "delivery",
        "review",
        "assignment",
        "resubmission",
        "deemed",
        "condition",
        "action",
        "issue",
        "risk_review",
    ]
    for clock in clocks.CLOCKS.values():
        assert clock.label and clock.starts and clock.stops, clock.key
        assert clock.status is not None or clock.stopped_by is not None, f"{clock.key} never stops"
        assert clock.due_column.type.python_type is date, clock.key


@pytest.mark.parametrize("path", sorted(CALLERS))
def test_each_caller_reads_the_table(path):
    assert "from tracker import clocks" in (ROOT / path).read_text(), f"{path} should read tracker/clocks.py"


def test_no_module_restates_when_a_clock_is_overdue_or_due():
    files = [p for p in (ROOT / "tracker").rglob("*.py") if "demo" not in p.parts] + list(
        (ROOT / "templates").rglob("*.html")
    )
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()[:100]}"
        for path in sorted(files)
        if str(path.relative_to(ROOT)) not in THE_RULE
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if RESTATED.search(line)
    ]
    assert not found, "read the rule from tracker/clocks.py:\n" + "\n".join(found)


def test_the_scan_sees_a_restated_rule():
    for line in (
        "if d.review_due and d.review_due < today:",
        "col(Condition.due_date) <= latest_today() + timedelta(days=UPCOMING_DAYS),",
        "{% elif a.due_date < today %}",
        "and (d.deemed_on - today).days <= DEEMED_WARNING_DAYS",
        "{% elif d.deemed_on and (d.deemed_on - today).days <= 5 %}",
        "if due is not None and due < project_today(access.project):",
        "col(ActionItem.due_date) < w.today,",
    ):
        assert RESTATED.search(line), line
