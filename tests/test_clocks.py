"""The clocks table: each clock's Python rule and SQL clause agree on the same records, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import cycle

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
