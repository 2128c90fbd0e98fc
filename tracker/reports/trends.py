"""Trends over time, for one project or a whole portfolio (every function takes a list of project ids): risk
exposure by week, issue ageing by priority, each area's RAG from the published reports, and deliverables accepted
against planned over the contract. Each is one SQL query whatever the number of projects.

Risk exposure (the sum of the open risks' scores) is reconstructed from the record rather than read from the
published snapshots. A risk's score at a moment is its last row in risk_score_history before it (the register writes
one on creation and on every change of probability or impact), and whether it was open then is the status its last
audited status change before that moment left it in (or, before any, the status the first change moved it from).
Snapshots exist only for the weeks a manager published, a week without one would be a hole in the curve, and they
freeze the report's reading of the risks, not the register's; the score history and the audit trail cover every
week, and on the demo (replayed through the services at each step's own time) they draw the register as it moved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, DateTime, Integer, and_, case, literal, union_all
from sqlmodel import Session, col, func, or_, select

from tracker.audit import models as audit
from tracker.audit import versions
from tracker.audit.models import AuditEvent
from tracker.core import memo
from tracker.core.clock import as_utc
from tracker.deliverables.models import Decision, Deliverable
from tracker.deliverables.workflow import Status
from tracker.projects.calendar import project_today
from tracker.projects.models import Project
from tracker.register.issues.models import UNRESOLVED, Issue, Priority
from tracker.register.risks import scoring
from tracker.register.risks.models import ACTIVE_RISK, Risk, RiskScoreHistory
from tracker.reports import rag
from tracker.reports.models import ReportStatus, StatusReport
from tracker.reports.periods import Period, last_weeks
from tracker.reports.scorecard import ACCEPTING

EXPOSURE_WEEKS = 26  # the risk exposure and issue age charts
RAG_PERIODS = 13  # a quarter of weekly reports
TABLE_ROWS = 40  # a chart's data table beyond this many rows shows one per month
CHART_LINES = 6  # a chart of more lines is read by nobody: the largest are drawn, the rest summed into one
AGE_BUCKETS = (
    (0, 7, "0–7 days"),
    (8, 14, "8–14 days"),
    (15, 30, "15–30 days"),
    (31, 60, "31–60 days"),
    (61, 90, "61–90 days"),
    (91, None, "Over 90 days"),
)
PRIORITIES = [p.value for p in Priority]


@dataclass(frozen=True)
class Week:
    period: Period
    day: date  # the day the week is read on: its last, or today for the week under way
    end_at: datetime  # UTC: midnight after that day in the project's zone: the moment the week is read at

    @property
    def label(self) -> str:
        return f"{self.period.end:%-d %b}"


def weeks(zone: str, today: date, n: int) -> list[Week]:
    """The n weeks ending Friday up to the one containing `today`, oldest first. The week under way is read at the
    end of today, so its figures are today's."""
    tz = ZoneInfo(zone)
    out = []
    for p in last_weeks(today, n):
        day = min(p.end, today)
        out.append(Week(p, day, datetime.combine(day + timedelta(days=1), time.min, tz).astimezone(UTC)))
    return out


def _moments(ws: list[Week]) -> Any:
    """The weeks as a table the queries join: (n, at: the instant they end, day: their last day)."""
    return union_all(
        *(
            select(
                literal(n, Integer).label("n"),
                literal(w.end_at, DateTime).label("at"),
                literal(w.day, Date).label("day"),
            )
            for n, w in enumerate(ws)
        )
    ).subquery("weeks")


# --- risk exposure ---------------------------------------------------------------------------------------------


def risk_exposure(db: Session, project_ids: list[int], ws: list[Week]) -> dict[int, list[int]]:
    """{project id: [sum of the open risks' scores at the end of each week]}, in one query.

    Each candidate risk is read as a timeline: a first row with its status and score as the window opens (looked
    up by index: its last status change and score row before then), then its status changes and score rows inside
    the window, in order. Window functions carry each row's status and score on to the rows that change only the
    other, and each row holds from its time until the next one's, so each week's end falls in one row per risk:
    the last before it. The work grows with the risks and changes of the weeks shown, not with their history."""
    out = {i: [0] * len(ws) for i in project_ids}
    if not project_ids or not ws:
        return out
    opens = ws[0].end_at
    active = [s.value for s in ACTIVE_RISK]
    h = RiskScoreHistory
    status_changes = (AuditEvent.entity_type == "risk", audit.changed("status", 1).is_not(None))  # its own index
    of_risk = (*status_changes, AuditEvent.entity_id == Risk.id)
    # Only risks active now or whose status moved in the window can have been open in it.
    moved = select(AuditEvent.id).where(*of_risk, col(AuditEvent.at) >= opens - timedelta(days=7)).exists()
    candidates = select(
        select(Risk.id)
        .where(col(Risk.project_id).in_(project_ids), or_(col(Risk.status).in_(active), moved))
        .cte("candidates")
        .c.id
    )

    # As the window opens: the last status change before it, else the status the first change moved it from,
    # else its status now; the last score row before it, else its score now.
    status_before = select(audit.changed("status", 1)).where(*of_risk, col(AuditEvent.at) < opens)
    first_from = select(audit.changed("status", 0)).where(*of_risk)
    score_before = select(scoring.score_expr(h)).where(h.risk_id == Risk.id, col(h.at) < opens)
    latest = (col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    timeline = union_all(
        select(
            Risk.id.label("risk_id"),
            literal(0).label("step"),
            literal(None, AuditEvent.__table__.c.at.type).label("at"),
            literal(0).label("seq"),
            func.coalesce(
                status_before.order_by(*latest).limit(1).scalar_subquery(),
                first_from.order_by(AuditEvent.at, AuditEvent.id).limit(1).scalar_subquery(),
                Risk.status,
            ).label("status"),
            func.coalesce(
                score_before.order_by(col(h.at).desc(), col(h.id).desc()).limit(1).scalar_subquery(),
                scoring.score_expr(Risk),
            ).label("score"),
        ).where(col(Risk.id).in_(candidates)),
        select(
            AuditEvent.entity_id, literal(1), AuditEvent.at, AuditEvent.id, audit.changed("status", 1), literal(None)
        ).where(*status_changes, col(AuditEvent.entity_id).in_(candidates), col(AuditEvent.at) >= opens),
        select(h.risk_id, literal(2), h.at, h.id, literal(None), scoring.score_expr(h)).where(
            col(h.risk_id).in_(candidates), col(h.at) >= opens
        ),
    ).subquery("timeline")
    t = timeline.c
    in_turn = {"partition_by": t.risk_id, "order_by": (t.step > 0, t.at, t.step, t.seq)}
    so_far = {**in_turn, "rows": (None, 0)}
    counted = select(
        t.risk_id,
        t.at,
        t.status,
        t.score,
        func.lead(t.at).over(**in_turn).label("until"),
        func.count(t.status).over(**so_far).label("nth_status"),
        func.count(t.score).over(**so_far).label("nth_score"),
    ).subquery("counted")
    c = counted.c
    filled = select(
        c.risk_id,
        c.at,
        c.until,
        func.max(c.status).over(partition_by=(c.risk_id, c.nth_status)).label("status"),
        func.max(c.score).over(partition_by=(c.risk_id, c.nth_score)).label("score"),
    ).subquery("filled")
    f = filled.c
    # The weeks a row holds, numbered: from the first whose end is after it (and not before the risk was raised)
    # to the first whose end is after the next row; it adds its value to the first and takes it off the last.
    ends, days = [w.end_at for w in ws], [w.day for w in ws]
    first = _greatest(
        case((f.at.is_(None), 0), else_=_first_week(lambda n: f.at < ends[n], 0, len(ws))),
        _first_week(lambda n: col(Risk.raised_on) <= days[n], 0, len(ws)),
    )
    last = _first_week(lambda n: f.until < ends[n], 0, len(ws))  # past the end when no row follows
    spans = (
        select(
            Risk.project_id,
            case((f.status.in_(active), f.score), else_=0).label("value"),
            first.label("first"),
            last.label("last"),
        )
        .join(Risk, col(Risk.id) == f.risk_id)
        .cte("spans")
    )
    s = spans.c
    held = s.first < s.last
    stmt = union_all(
        select(s.project_id, s.first, func.sum(s.value)).where(held).group_by(s.project_id, s.first),
        select(s.project_id, s.last, -func.sum(s.value)).where(held, s.last < len(ws)).group_by(s.project_id, s.last),
    )
    for project_id, n, change in db.exec(stmt):
        out[project_id][n] += int(change or 0)
    for series in out.values():
        for n in range(1, len(series)):
            series[n] += series[n - 1]
    return out


def _first_week(reached: Callable[[int], Any], lo: int, hi: int) -> Any:
    """The number of the first week in lo..hi-1 whose condition holds, or hi when none does: the conditions hold
    from some week on, so a binary search of CASEs tells it in a few comparisons."""
    if lo == hi:
        return literal(hi)
    mid = (lo + hi) // 2
    return case((reached(mid), _first_week(reached, lo, mid)), else_=_first_week(reached, mid + 1, hi))


def _greatest(a: Any, b: Any) -> Any:
    return case((a > b, a), else_=b)


# --- issue ageing ------------------------------------------------------------------------------------------------


def largest_lines(named: list[tuple[str, list[int]]], n: int = CHART_LINES) -> list[dict[str, Any]]:
    """The chart's series: the n whose last value is largest, then the others summed as one line ("3 other
    projects"), so a portfolio of any size draws at most n + 1 lines. `named`: (name, values by week)."""
    ranked = sorted(named, key=lambda s: -(s[1][-1] if s[1] else 0))
    shown = [{"name": name, "values": values} for name, values in ranked[:n]]
    rest = ranked[n:]
    if rest:
        summed = [sum(values[i] for _, values in rest) for i in range(len(rest[0][1]))]
        shown.append({"name": f"{len(rest)} other project{'s' if len(rest) != 1 else ''}", "values": summed})
    return shown


def issue_ages(db: Session, project_ids: list[int], today: date) -> dict[str, list[int]]:
    """{priority: [open issues in each of AGE_BUCKETS]} now: days since raised, counted in SQL by bucket."""
    out = {p: [0] * len(AGE_BUCKETS) for p in PRIORITIES}
    if not project_ids:
        return out
    bucket = case(
        *((col(Issue.raised_on) >= today - timedelta(days=hi), n) for n, (_, hi, _) in enumerate(AGE_BUCKETS) if hi),
        else_=len(AGE_BUCKETS) - 1,
    )
    stmt = (
        select(Issue.priority, bucket.label("bucket"), func.count(Issue.id))
        .where(col(Issue.project_id).in_(project_ids), col(Issue.status).in_([s.value for s in UNRESOLVED]))
        .group_by(Issue.priority, bucket)
    )
    for priority, n, count in db.exec(stmt):
        if priority in out:
            out[priority][n] += count
    return out


def median_open_age(db: Session, project_ids: list[int], ws: list[Week]) -> dict[str, list[float | None]]:
    """{priority, and "all": [median age in days of the issues open on each week's last day]}. An issue is open
    on a day from the day it was raised until the day it was resolved. Median is no portable SQL aggregate, so
    window functions number each week's open issues by age, among all and among their priority, and only the
    middle one or two rows of either come back: one query, reading only the issues open in some week shown
    (ix_issue_project_open_span)."""
    out: dict[str, list[float | None]] = {p: [None] * len(ws) for p in [*PRIORITIES, "all"]}
    if not project_ids or not ws:
        return out
    m = _moments(ws)
    shown = (
        select(Issue.priority, Issue.raised_on, Issue.resolved_on)
        .where(
            col(Issue.project_id).in_(project_ids),
            or_(col(Issue.resolved_on).is_(None), col(Issue.resolved_on) > ws[0].day),
            col(Issue.raised_on) <= ws[-1].day,
        )
        .cte("shown")
        .prefix_with("MATERIALIZED")  # read once, then set against each week
    )
    i = shown.c
    by_age = i.raised_on.desc()
    ranked = (
        select(
            m.c.n,
            m.c.day,
            i.priority,
            i.raised_on,
            func.row_number().over(partition_by=m.c.n, order_by=by_age).label("k"),
            func.count().over(partition_by=m.c.n).label("total"),
            func.row_number().over(partition_by=(m.c.n, i.priority), order_by=by_age).label("k_priority"),
            func.count().over(partition_by=(m.c.n, i.priority)).label("total_priority"),
        )
        .select_from(shown)
        .join(m, and_(i.raised_on <= m.c.day, or_(i.resolved_on.is_(None), i.resolved_on > m.c.day)))
        .subquery("ranked")
    )
    r = ranked.c

    def middle(k: Any, total: Any) -> Any:
        return or_(k == (total + 1) // 2, k == total // 2 + 1)

    found: dict[tuple[str, int], list[int]] = defaultdict(list)
    rows = select(r.n, r.day, r.priority, r.raised_on, middle(r.k, r.total), middle(r.k_priority, r.total_priority))
    for n, day, priority, raised_on, of_all, of_priority in db.exec(
        rows.where(or_(middle(r.k, r.total), middle(r.k_priority, r.total_priority)))
    ):
        age = (_day(day) - _day(raised_on)).days
        for series, counts in (("all", of_all), (priority, of_priority)):
            if counts:
                found[(series, n)].append(age)
    for (series, n), ages in found.items():
        if series in out:
            out[series][n] = sum(ages) / len(ages)
    return out


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# --- RAG over time ------------------------------------------------------------------------------------------------


def rag_history(db: Session, project_ids: list[int], ws: list[Week]) -> dict[int, list[dict[str, str | None]]]:
    """{project id: [{area: RAG} for each week]} from the latest version of the report published for each week
    (areas: overall and rag.AREAS); an area is None where no report was published for the week."""
    empty = dict.fromkeys(["overall", *rag.AREAS])
    out = {i: [dict(empty) for _ in ws] for i in project_ids}
    if not project_ids or not ws:
        return out
    stmt = (
        select(
            StatusReport.project_id,
            StatusReport.period_end,
            StatusReport.rag,
            StatusReport.content[("rag", "areas")],
        )
        .where(
            col(StatusReport.project_id).in_(project_ids),
            StatusReport.status == ReportStatus.PUBLISHED,
            col(StatusReport.period_end) >= ws[0].period.start,
            col(StatusReport.period_end) <= ws[-1].period.end,
        )
        .order_by(StatusReport.period_end, StatusReport.number)  # a correction comes after, so it wins
    )
    index = {w.period.end: n for n, w in enumerate(ws)}
    for project_id, end, overall, areas in db.exec(stmt):
        n = index.get(end + timedelta(days=(4 - end.weekday()) % 7))  # the week ending Friday that holds its end
        if n is None:
            continue
        cell = {a["area"]: a["rag"] for a in areas or [] if isinstance(a, dict)}
        out[project_id][n] = {"overall": overall or cell.get("overall")} | {a: cell.get(a) for a in rag.AREAS}
    return out


# --- deliverables accepted against planned ------------------------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    days: list[date]  # every day a count changed, in order
    planned: list[int]  # cumulative deliverables due by each day
    accepted: list[int]  # cumulative deliverables accepted by each day
    today: date
    total: int

    @property
    def table(self) -> list[tuple[date, int, int | None]]:
        """The chart's data table: (day, planned, accepted, None after today) for every day a count changed, or
        for a long contract the last such day of each month, so the table stays a page long."""
        rows = [
            (d, p, a if d <= self.today else None)
            for d, p, a in zip(self.days, self.planned, self.accepted, strict=True)
        ]
        if len(rows) <= TABLE_ROWS:
            return rows
        last_of_month = {(d.year, d.month): (d, p, a) for d, p, a in rows}
        return list(last_of_month.values())


def acceptance_curve(db: Session, project_ids: list[int], today: date) -> Curve:
    """Deliverables planned (by contractual due date) against accepted (by the day of their first accepting
    decision), cumulative, withdrawn ones left out: two grouped queries."""
    planned: dict[date, int] = {}
    accepted: dict[date, int] = {}
    if project_ids:
        live = (col(Deliverable.project_id).in_(project_ids), Deliverable.status != Status.WITHDRAWN)
        planned = {
            _day(d): n
            for d, n in db.exec(
                select(Deliverable.due_date, func.count(Deliverable.id))
                .where(*live, col(Deliverable.due_date).is_not(None))
                .group_by(Deliverable.due_date)
            )
        }
        first = (
            select(func.min(Decision.decided_at).label("at"), Project.timezone)
            .join(Deliverable, col(Deliverable.id) == Decision.deliverable_id)
            .join(Project, col(Project.id) == Deliverable.project_id)
            .where(*live, col(Decision.outcome).in_([o.value for o in ACCEPTING]))
            .group_by(Decision.deliverable_id, Project.timezone)
        )
        # The day of each acceptance on its project's calendar (late evening in Los Angeles is tomorrow in UTC).
        for at, zone in db.exec(first):
            d = as_utc(at).astimezone(ZoneInfo(zone)).date()
            accepted[d] = accepted.get(d, 0) + 1
    days = sorted(planned.keys() | accepted.keys())
    p = a = 0
    cum_p, cum_a = [], []
    for d in days:
        p += planned.get(d, 0)
        a += accepted.get(d, 0)
        cum_p.append(p)
        cum_a.append(a)
    return Curve(days, cum_p, cum_a, today, p)


# --- a project's trends page ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectTrends:
    today: date
    weeks: list[Week]  # risk exposure and median issue age
    exposure: list[int]
    ages: dict[str, list[int]]  # open issues now by priority and AGE_BUCKETS
    median_age: dict[str, list[float | None]]
    rag_weeks: list[Week]
    rags: list[dict[str, str | None]]  # each week's RAG per area (overall and rag.AREAS)
    kept: tuple = ()  # the figures' memo key: the page's drawing of them is kept under it too ({% kept %})


def project_trends(db: Session, project: Project) -> ProjectTrends:
    """The page's figures, kept while the project's record stands (tracker.core.memo): the weeks gone by are read
    from history that does not change, so the key needs only the project's day and its data's version."""
    today = project_today(project)
    key = ("trends", project.id, project.version, today) + versions.of(db, [project.id])
    return memo.kept(key, lambda: _project_trends(db, project, today, key))


def _project_trends(db: Session, project: Project, today: date, key: tuple = ()) -> ProjectTrends:
    ws = weeks(project.timezone, today, EXPOSURE_WEEKS)
    rag_ws = ws[-RAG_PERIODS:]
    return ProjectTrends(
        today,
        ws,
        risk_exposure(db, [project.id], ws)[project.id],
        issue_ages(db, [project.id], today),
        median_open_age(db, [project.id], ws),
        rag_ws,
        rag_history(db, [project.id], rag_ws)[project.id],
        key,
    )
