"""The contractor scorecard against figures computed independently here from the raw rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from tracker.audit import versions
from tracker.core.calendar import business_days_between
from tracker.deliverables.models import Decision, Deliverable, Submission
from tracker.projects.models import Project
from tracker.reports import scorecard
from tracker.reports.periods import Period, last_weeks, week_ending

WEEK = Period(date(2026, 11, 14), date(2026, 11, 20))  # Saturday .. Friday


def at(day: date, hour: int = 18) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)  # 10:00 in Los Angeles


def test_weeks_end_on_friday():
    assert week_ending(date(2026, 11, 20)) == WEEK  # a Friday
    assert week_ending(date(2026, 11, 14)) == WEEK  # the Saturday before belongs to it
    assert week_ending(date(2026, 11, 21)).end == date(2026, 11, 27)
    weeks = last_weeks(date(2026, 11, 18), 12)
    assert len(weeks) == 12 and weeks[-1] == WEEK and weeks[0].end == date(2026, 9, 4)
    assert WEEK.label == "Week ending Fri 20 Nov 2026"


def _history(db, world):
    """Four deliverables with known submissions and decisions in WEEK and the week before."""
    project = db.exec(select(Project).where(Project.key == "TST")).one()
    manager = world.ids["manager"]
    rows = []

    def deliverable(code, subs, decisions):
        d = Deliverable(project_id=project.id, code=code, title=code, status="in_review", current_version=len(subs))
        db.add(d)
        db.flush()
        made = []
        for n, (submitted, due) in enumerate(subs, start=1):
            s = Submission(
                deliverable_id=d.id,
                number=n,
                submitted_by_id=manager,
                submitted_at=at(submitted),
                review_due=submitted + timedelta(days=14),
                due_on=due,
            )
            db.add(s)
            db.flush()
            made.append(s)
        for n, outcome, decided in decisions:
            db.add(
                Decision(
                    deliverable_id=d.id,
                    submission_id=made[n - 1].id,
                    outcome=outcome,
                    decided_at=at(decided),
                    decided_by_id=manager,
                    findings="x",
                )
            )
        rows.append((d, made))

    # on time, accepted first pass in WEEK after 4 business days
    deliverable("D-1", [(date(2026, 11, 12), date(2026, 11, 13))], [(1, "accepted", date(2026, 11, 18))])
    # late in WEEK, not decided
    deliverable("D-2", [(date(2026, 11, 16), date(2026, 11, 13))], [])
    # rejected on v1 (the week before), resubmitted on time in WEEK, accepted in WEEK on v2
    deliverable(
        "D-3",
        [(date(2026, 11, 2), date(2026, 11, 2)), (date(2026, 11, 16), date(2026, 11, 17))],
        [(1, "rejected", date(2026, 11, 10)), (2, "accepted", date(2026, 11, 19))],
    )
    # first decision in WEEK: rejected on v1, 11 business days after submission (late review)
    deliverable("D-4", [(date(2026, 11, 3), None)], [(1, "rejected", date(2026, 11, 19))])
    db.commit()
    return project


def test_each_metric_equals_an_independent_count(db, world):
    project = _history(db, world)
    holidays = {date(2026, 11, 11): "Veterans Day"}
    # Independent computation from the rows as listed above:
    subs_in_week = [(date(2026, 11, 16), date(2026, 11, 13)), (date(2026, 11, 16), date(2026, 11, 17))]
    on_time = sum(s <= due for s, due in subs_in_week) / len(subs_in_week)
    first_pass = 1 / 2  # decisions on version 1 in WEEK: D-1 accepted, D-4 rejected
    per_accepted = (1 + 2) / 2
    turnarounds = [
        business_days_between(date(2026, 11, 12), date(2026, 11, 18), holidays),
        business_days_between(date(2026, 11, 16), date(2026, 11, 19), holidays),
        business_days_between(date(2026, 11, 3), date(2026, 11, 19), holidays),
    ]
    assert turnarounds == [4, 3, 11]
    within = sum(t <= project.review_days for t in turnarounds) / len(turnarounds)

    card = {m.key: m for m in scorecard.scorecard(db, project, WEEK)}
    assert card["on_time_submission_rate"].value == on_time == 0.5
    assert card["on_time_submission_rate"].count == 2 and card["on_time_submission_rate"].met is False
    assert card["first_pass_acceptance_rate"].value == first_pass
    assert card["submissions_per_accepted"].value == per_accepted and card["submissions_per_accepted"].met is True
    assert card["review_turnaround_rate"].value == within == 2 / 3
    previous = card["first_pass_acceptance_rate"].trend[-2]  # the week before: D-3 rejected on v1
    assert previous == 0.0 and len(card["first_pass_acceptance_rate"].trend) == 13
    assert card["on_time_submission_rate"].trend[0] is None  # nothing happened 13 weeks ago


def test_targets_are_overridable_per_project(db, world):
    project = _history(db, world)
    project.slo_targets = {"on_time_submission_rate": 0.5, "unknown": 3}
    card = {m.key: m for m in scorecard.scorecard(db, project, WEEK)}
    assert card["on_time_submission_rate"].target == 0.5 and card["on_time_submission_rate"].met is True
    assert (
        scorecard.targets_for(project)["first_pass_acceptance_rate"]
        == scorecard.DEFAULT_TARGETS["first_pass_acceptance_rate"]
    )


def test_scorecard_query_count_is_fixed(db, world, count_queries):
    project = _history(db, world)
    versions.of(db, [project.id])  # read once per transaction: already read by the page's other parts
    with count_queries() as one:
        scorecard.scorecard(db, project, WEEK, trend_periods=1)
    with count_queries() as twelve:
        scorecard.scorecard(db, project, WEEK, trend_periods=12)
    assert one.count == twelve.count == 6  # five of events, where the contract began (TST has no start)
    project.start_date = date(2026, 1, 5)
    db.flush()
    with count_queries() as dated:
        scorecard.scorecard(db, project, WEEK)
    assert dated.count == 5


def test_issue_resolution_counts_issues_resolved_in_the_period_within_their_prioritys_target(db, world):
    from tracker.register.issues.models import Issue

    project = _history(db, world)
    rows = [
        ("critical", date(2026, 11, 12), date(2026, 11, 17)),  # 5 days: within 5
        ("critical", date(2026, 11, 10), date(2026, 11, 18)),  # 8 days: over 5
        ("high", date(2026, 11, 1), date(2026, 11, 20)),  # 19 days: over 15
        ("low", date(2026, 10, 1), date(2026, 11, 14)),  # 44 days: within 60
        ("medium", date(2026, 11, 1), date(2026, 11, 13)),
    ]  # resolved the week before: not counted
    for n, (priority, raised, resolved) in enumerate(rows):
        db.add(
            Issue(
                project_id=project.id,
                code=f"I-{n}",
                title="x",
                priority=priority,
                raised_on=raised,
                resolved_on=resolved,
                status="resolved",
                resolution="done",
            )
        )
    db.commit()
    in_week = [(p, (res - raised).days) for p, raised, res in rows if WEEK.start <= res <= WEEK.end]
    expected = sum(days <= scorecard.ISSUE_TARGET_DAYS[p] for p, days in in_week) / len(in_week)
    card = {m.key: m for m in scorecard.scorecard(db, project, WEEK)}
    metric = card["issue_resolution_rate"]
    assert (metric.value, metric.count, metric.met) == (expected, 4, False) and expected == 0.5
    assert metric.trend[-2] == 1.0  # the week before: the medium one, 12 days, within 30
    project.slo_targets = {"issue_days_high": 20}  # the project allows high issues 20 days
    assert {m.key: m for m in scorecard.scorecard(db, project, WEEK)}["issue_resolution_rate"].value == 0.75


def test_conditions_met_on_time_counts_those_due_in_the_period_once_met_or_past_their_day(db, world, clock):
    from tracker.deliverables.models import Condition

    clock.set(at(date(2026, 11, 19)))  # Thursday of WEEK, Los Angeles time
    project = _history(db, world)
    decision = db.exec(select(Decision)).first()
    rows = [
        (date(2026, 11, 16), date(2026, 11, 16)),  # met on its day: on time
        (date(2026, 11, 17), date(2026, 11, 18)),  # met a day late
        (date(2026, 11, 18), None),  # still open past its day: missed
        (date(2026, 11, 20), None),  # due tomorrow: not counted yet
        (date(2026, 11, 10), date(2026, 11, 9)),
    ]  # due the week before: in last week's figure
    for n, (due, met) in enumerate(rows, start=1):
        db.add(
            Condition(
                deliverable_id=decision.deliverable_id,
                decision_id=decision.id,
                position=n,
                text=f"c{n}",
                due_date=due,
                met_at=at(met) if met else None,
                evidence="done" if met else "",
            )
        )
    db.commit()
    metric = {m.key: m for m in scorecard.scorecard(db, project, WEEK)}["condition_on_time_rate"]
    assert (metric.value, metric.count, metric.met) == (1 / 3, 3, False)
    assert metric.trend[-2] == 1.0
