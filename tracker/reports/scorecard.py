"""The contractor scorecard: service levels computed from the deliverable record, per project and period,
each against its target (DEFAULT_TARGETS, overridable per project in project.slo_targets)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from tracker import clocks
from tracker.core.calendar import business_days_between
from tracker.deliverables.models import Condition, Decision, Deliverable, Outcome, Submission
from tracker.projects.calendar import project_holidays, project_today
from tracker.projects.models import Project
from tracker.register.issues import service as issues
from tracker.register.issues.models import Issue
from tracker.reports.periods import Period, last_weeks

# The one place the service-level targets live. Rates are fractions; "higher" says which way is good.
DEFAULT_TARGETS: dict[str, float] = {
    "on_time_submission_rate": 0.90,
    "first_pass_acceptance_rate": 0.70,
    "submissions_per_accepted": 1.5,
    "review_turnaround_rate": 0.90,  # share of state decisions within review_days business days
    "issue_resolution_rate": 0.80,  # share of issues resolved within their priority's target days
    "condition_on_time_rate": 0.90,  # share of conditions of acceptance met by their due date
}
# Days from raised to resolved that an issue of each priority may take; a project overrides one as
# slo_targets["issue_days_<priority>"].
ISSUE_TARGET_DAYS: dict[str, int] = {"critical": 5, "high": 15, "medium": 30, "low": 60}
METRICS = {  # key: (label, unit, higher is better, what it counts)
    "on_time_submission_rate": (
        "On-time submission rate",
        "rate",
        True,
        "Versions submitted on or before the date they were due (contractual date for "
        "version 1, resubmission date after a rejection).",
    ),
    "first_pass_acceptance_rate": (
        "First-pass acceptance rate",
        "rate",
        True,
        "Decisions on version 1 that accepted it (outright, with conditions or deemed).",
    ),
    "submissions_per_accepted": (
        "Submissions per accepted deliverable",
        "number",
        False,
        "Versions it took, on average, for the deliverables finally accepted.",
    ),
    "review_turnaround_rate": (
        "State review within review days",
        "rate",
        True,
        "Decisions recorded within the project's review days (business days) of the submission.",
    ),
    "issue_resolution_rate": (
        "Issues resolved within target",
        "rate",
        True,
        "Issues resolved in the period within their priority's target days from being raised",
    ),
    "condition_on_time_rate": (
        "Conditions met on time",
        "rate",
        True,
        "Conditions of acceptance due in the period that were confirmed met by their due date; "
        "one still open past its date counts as missed.",
    ),
}
ACCEPTING = (Outcome.ACCEPTED, Outcome.CONDITIONALLY_ACCEPTED, Outcome.DEEMED_ACCEPTED)


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    value: float | None  # None: nothing to measure in the period
    count: int  # how many events it is computed from
    target: float
    met: bool | None
    explanation: str
    trend: tuple[float | None, ...] = ()  # the same metric over the previous periods, oldest first


def targets_for(project: Project) -> dict[str, float]:
    overrides = {k: float(v) for k, v in (project.slo_targets or {}).items() if k in DEFAULT_TARGETS}
    return DEFAULT_TARGETS | overrides


def issue_days_for(project: Project) -> dict[str, int]:
    own = project.slo_targets or {}
    return {p: int(own.get(f"issue_days_{p}", days)) for p, days in ISSUE_TARGET_DAYS.items()}


@dataclass(frozen=True)
class _Facts:
    submissions: list[tuple[date, date | None]]  # (submitted on, due on)
    decisions: list[tuple[date, int, str, date]]  # (decided on, version, outcome, submitted on)
    finals: list[tuple[date, int]]  # (accepted on, version that was accepted)
    resolved: list[tuple[date, str, int]]  # (resolved on, priority, days from raised to resolved)
    conditions: list[tuple[date, date | None]]  # (due on, met on)
    today: date


def _local(project: Project) -> Callable[[datetime], date]:
    zone = ZoneInfo(project.timezone)
    return lambda moment: moment.astimezone(zone).date()


def _facts(db: Session, project: Project, start: date, end: date) -> _Facts:
    """Every event of the window in five queries (a day of slack each side for time zones)."""
    day = _local(project)
    lo = datetime.combine(start - timedelta(days=1), time.min, tzinfo=UTC)
    hi = datetime.combine(end + timedelta(days=2), time.min, tzinfo=UTC)
    subs = db.exec(
        select(Submission.submitted_at, Submission.due_on)
        .join(Deliverable, col(Deliverable.id) == Submission.deliverable_id)
        .where(
            Deliverable.project_id == project.id, col(Submission.submitted_at) >= lo, col(Submission.submitted_at) < hi
        )
    ).all()
    decisions = db.exec(
        select(Decision.decided_at, Submission.number, Decision.outcome, Submission.submitted_at)
        .join(Submission, col(Submission.id) == Decision.submission_id)
        .join(Deliverable, col(Deliverable.id) == Decision.deliverable_id)
        .where(
            Deliverable.project_id == project.id,
            Decision.closes_id == 0,
            col(Decision.decided_at) >= lo,
            col(Decision.decided_at) < hi,
        )
    ).all()
    finals = db.exec(
        select(Decision.decided_at, Submission.number)
        .join(Submission, col(Submission.id) == Decision.submission_id)
        .join(Deliverable, col(Deliverable.id) == Decision.deliverable_id)
        .where(
            Deliverable.project_id == project.id,
            col(Decision.outcome).in_([Outcome.ACCEPTED, Outcome.DEEMED_ACCEPTED]),
            col(Decision.decided_at) >= lo,
            col(Decision.decided_at) < hi,
        )
    ).all()
    resolved = db.exec(
        select(Issue.resolved_on, Issue.priority, Issue.raised_on).where(
            Issue.project_id == project.id, col(Issue.resolved_on) >= start, col(Issue.resolved_on) <= end
        )
    ).all()
    conditions = db.exec(
        select(Condition.due_date, Condition.met_at)
        .join(Deliverable, col(Deliverable.id) == Condition.deliverable_id)
        .where(Deliverable.project_id == project.id, col(Condition.due_date) >= start, col(Condition.due_date) <= end)
    ).all()
    return _Facts(
        conditions=[(due, day(met) if met else None) for due, met in conditions],
        today=project_today(project),
        resolved=[(on, priority, issues.age_of(raised, resolved_on=on, today=on)) for on, priority, raised in resolved],
        submissions=[(day(at), due) for at, due in subs],
        decisions=[(day(at), n, outcome, day(sub_at)) for at, n, outcome, sub_at in decisions],
        finals=[(day(at), n) for at, n in finals],
    )


def _values(
    project: Project, facts: _Facts, period: Period, holidays: dict[date, str], issue_days: dict[str, int]
) -> dict[str, tuple[float | None, int]]:
    def inside(day: date) -> bool:
        return period.start <= day <= period.end

    subs = [(on, due) for on, due in facts.submissions if inside(on) and due is not None]
    first = [outcome for on, n, outcome, _ in facts.decisions if inside(on) and n == 1]
    decided = [(on, sub_on) for on, _, _, sub_on in facts.decisions if inside(on)]
    finals = [n for on, n in facts.finals if inside(on)]
    resolved = [(priority, days) for on, priority, days in facts.resolved if inside(on)]
    # A condition counts once it is met or its day has passed unmet.
    conditions = [(due, met) for due, met in facts.conditions if inside(due) and (met or clocks.past(due, facts.today))]

    def rate(hits: int, total: int) -> tuple[float | None, int]:
        return (hits / total if total else None, total)

    return {
        "on_time_submission_rate": rate(sum(clocks.on_time(on, due) for on, due in subs), len(subs)),
        "first_pass_acceptance_rate": rate(sum(o in ACCEPTING for o in first), len(first)),
        "submissions_per_accepted": (sum(finals) / len(finals) if finals else None, len(finals)),
        "review_turnaround_rate": rate(
            sum(business_days_between(sub_on, on, holidays) <= project.review_days for on, sub_on in decided),
            len(decided),
        ),
        "issue_resolution_rate": rate(sum(days <= issue_days[p] for p, days in resolved), len(resolved)),
        "condition_on_time_rate": rate(
            sum(met is not None and clocks.on_time(met, due) for due, met in conditions), len(conditions)
        ),
    }


def scorecard(db: Session, project: Project, period: Period, trend_periods: int = 12) -> list[Metric]:
    """Each metric for `period` with met/missed against its target and its value over the last
    `trend_periods` weeks ending with this one. A fixed number of queries whatever the period count."""
    weeks = last_weeks(period.end, trend_periods)
    start = min(period.start, weeks[0].start)
    facts = _facts(db, project, start, period.end)
    holidays = project_holidays(project, start - timedelta(days=60), days=(period.end - start).days + 120)
    issue_days = issue_days_for(project)
    current = _values(project, facts, period, holidays, issue_days)
    history = [_values(project, facts, w, holidays, issue_days) for w in weeks]
    targets = targets_for(project)
    out = []
    for key, (label, unit, higher, explanation) in METRICS.items():
        value, count = current[key]
        target = targets[key]
        met = None if value is None else (value >= target if higher else value <= target)
        if key == "issue_resolution_rate":
            explanation += " (" + ", ".join(f"{p} {d} days" for p, d in issue_days.items()) + ")."
        out.append(Metric(key, label, unit, value, count, target, met, explanation, tuple(h[key][0] for h in history)))
    return out
