"""The contractor scorecard: service levels computed from the deliverable record, per project and period,
each against its target (DEFAULT_TARGETS, overridable per project in project.slo_targets)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from tracker import clocks
from tracker.audit import versions
from tracker.core import memo
from tracker.core.calendar import business_days_between
from tracker.deliverables.models import Condition, Decision, Deliverable, Outcome, Submission
from tracker.projects.calendar import project_holidays, project_today
from tracker.projects.models import Project
from tracker.register.issues import service as issues
from tracker.register.issues.models import Issue
from tracker.reports.periods import Period, last_weeks, week_ending

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
TREND_PERIODS = 13  # the periods each metric's chart shows
ROLLING_WEEKS = 13


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
    higher: bool = True  # higher is better: the target is a floor, else a ceiling
    to_date: Figure | None = None  # from the contract's start to the period's end
    rolling: Figure | None = None  # the 13 weeks ending with the period


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


def local_day(project: Project) -> Callable[[datetime], date]:
    zone = ZoneInfo(project.timezone)
    return lambda moment: moment.astimezone(zone).date()


def _facts(db: Session, project: Project, start: date, end: date) -> _Facts:
    """Every event of the window in five queries (a day of slack each side for time zones)."""
    day = local_day(project)
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


Tally = dict[date, dict[str, list[float]]]  # day → metric → [hits, events]


def _tally(project: Project, facts: _Facts, holidays: dict[date, str], issue_days: dict[str, int]) -> Tally:
    """Each event counted once, on the day it falls in: every metric as (hits, events) per day. A span's figures
    are then sums over its days (_counts), so a week, the rolling 13 weeks and the contract to date cost no more
    than the events themselves."""
    days: Tally = {}

    def add(day: date, key: str, hit: float) -> None:
        counted = days.setdefault(day, {}).setdefault(key, [0.0, 0])
        counted[0] += hit
        counted[1] += 1

    for on, due in facts.submissions:
        if due is not None:
            add(on, "on_time_submission_rate", clocks.on_time(on, due))
    for on, n, outcome, sub_on in facts.decisions:
        if n == 1:
            add(on, "first_pass_acceptance_rate", outcome in ACCEPTING)
        add(on, "review_turnaround_rate", business_days_between(sub_on, on, holidays) <= project.review_days)
    for on, n in facts.finals:
        add(on, "submissions_per_accepted", n)
    for on, priority, days_taken in facts.resolved:
        add(on, "issue_resolution_rate", days_taken <= issue_days[priority])
    # A condition counts once it is met or its day has passed unmet.
    for due, met in facts.conditions:
        if met or clocks.past(due, facts.today):
            add(due, "condition_on_time_rate", met is not None and clocks.on_time(met, due))
    return days


def _counts(tally: Tally, period: Period) -> dict[str, tuple[float, int]]:
    """Each metric of `period` as (numerator, denominator): a rate is hits over events, an average a sum over a count.
    The same function measures a week, a rolling 13 weeks or the contract to date."""
    out = {key: [0.0, 0] for key in METRICS}
    for day, counted in tally.items():
        if period.start <= day <= period.end:
            for key, (hits, events) in counted.items():
                out[key][0] += hits
                out[key][1] += events
    return {key: (hits, int(events)) for key, (hits, events) in out.items()}


@dataclass(frozen=True)
class Figure:
    """A metric over some span: its value (None: nothing to measure), how many events, and met or missed."""

    value: float | None
    count: int
    met: bool | None


def _figure(counted: tuple[float, int], target: float, higher: bool) -> Figure:
    hits, total = counted
    value = hits / total if total else None
    return Figure(value, total, None if value is None else (value >= target if higher else value <= target))


def last_complete(project: Project) -> Period:
    """The week ending Friday before the one the project's today is in: the last week whose figures are final."""
    return week_ending(project_today(project)).previous()


def periods_to(period: Period, n: int) -> list[Period]:
    """The n periods of `period`'s length ending with it, oldest first."""
    out = [period]
    for _ in range(n - 1):
        out.append(out[-1].previous())
    return out[::-1]


def contract_start(db: Session, project: Project) -> date:
    """Where contract-to-date figures begin: the project's start date, else the day its first deliverable was planned."""
    if project.start_date:
        return project.start_date
    first = db.exec(select(func.min(Deliverable.created_at)).where(Deliverable.project_id == project.id)).one()
    return local_day(project)(first) if first else project_today(project)


@dataclass(frozen=True)
class Card:
    period: Period
    metrics: list[Metric]
    periods: list[Period]  # of each metric's trend, oldest first; the last is `period`
    start: date  # of the contract-to-date figures
    rolling: Period  # the 13 weeks ending with the period
    kept: tuple = ()  # the key it is kept under (tracker.core.memo): the page keeps its charts' drawing under it too


def card(db: Session, project: Project, period: Period, trend_periods: int = TREND_PERIODS) -> Card:
    """Each metric for `period`, contract to date and over the rolling 13 weeks, with met/missed against its target,
    and its value over the last `trend_periods` periods. A fixed number of queries whatever the number of periods:
    the events since the contract began are read once and counted per span. Kept while the project's record stands
    (tracker.core.memo)."""
    key = ("scorecard", project.id, project.version, period, trend_periods, project_today(project))
    key += versions.of(db, [project.id])
    return replace(memo.kept(key, lambda: _card(db, project, period, trend_periods)), kept=key)


def _card(db: Session, project: Project, period: Period, trend_periods: int) -> Card:
    periods = periods_to(period, trend_periods)
    began = contract_start(db, project)
    rolling = Period(last_weeks(period.end, ROLLING_WEEKS)[0].start, period.end)
    start = min(periods[0].start, rolling.start, began)
    facts = _facts(db, project, start, period.end)
    holidays = project_holidays(project, start - timedelta(days=60), days=(period.end - start).days + 120)
    issue_days = issue_days_for(project)
    tally = _tally(project, facts, holidays, issue_days)

    def count(span: Period) -> dict[str, tuple[float, int]]:
        return _counts(tally, span)

    current, to_date, recent = count(period), count(Period(min(began, period.start), period.end)), count(rolling)
    history = [current if p == period else count(p) for p in periods]
    targets = targets_for(project)
    out = []
    for key, (label, unit, higher, explanation) in METRICS.items():
        target = targets[key]
        now = _figure(current[key], target, higher)
        if key == "issue_resolution_rate":
            explanation += " (" + ", ".join(f"{p} {d} days" for p, d in issue_days.items()) + ")."
        trend = tuple(_figure(h[key], target, higher).value for h in history)
        out.append(
            Metric(
                key,
                label,
                unit,
                now.value,
                now.count,
                target,
                now.met,
                explanation,
                trend,
                higher,
                _figure(to_date[key], target, higher),
                _figure(recent[key], target, higher),
            )
        )
    return Card(period, out, periods, min(began, period.start), rolling)


def scorecard(db: Session, project: Project, period: Period, trend_periods: int = TREND_PERIODS) -> list[Metric]:
    return card(db, project, period, trend_periods).metrics
