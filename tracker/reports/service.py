"""Status reports: the content computed from the record as it stood at the end of a period, drafts holding the
manager's narrative and RAG overrides, publishing a frozen snapshot (and corrections), the portfolio rollup, and
the reports managers still have to publish."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from sqlalchemy.orm import defer
from sqlmodel import Session, col, func, or_, select

from tracker import clocks
from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import history, versions
from tracker.audit import service as audit
from tracker.audit.models import AuditEvent
from tracker.core import memo
from tracker.core.clock import today_in, utcnow
from tracker.core.errors import FormError, NotFound, StaleEdit
from tracker.core.forms import Form, OptionalDate, OptionalInt
from tracker.core.web import as_document, options, show_date, show_datetime
from tracker.deliverables.decisions import Totals, holdback_totals
from tracker.deliverables.models import Condition, Decision, Deliverable, Outcome, Submission
from tracker.deliverables.workflow import STATUS_LABELS, Action, Status
from tracker.projects.calendar import project_today
from tracker.projects.models import Membership, Project
from tracker.projects.permissions import Perm, perms_for, roles_with
from tracker.projects.service import Access, visible_projects
from tracker.projects.service import get_for as get_project_for
from tracker.register.actions import service as action_items
from tracker.register.actions.models import ActionItem, Plan
from tracker.register.changes import service as change_requests
from tracker.register.common import settings_for
from tracker.register.custom import values as custom
from tracker.register.custom.models import CustomField
from tracker.register.decisions import log as decision_log
from tracker.register.issues import service as issues
from tracker.register.issues.models import UNRESOLVED, Issue, IssueStatus, Priority
from tracker.register.risks import scoring
from tracker.register.risks.models import ACTIVE_RISK, Risk, RiskStatus
from tracker.reports import credits, levels, rag, scorecard, trends
from tracker.reports.models import ReportStatus, StatusReport
from tracker.reports.periods import Period, last_weeks, week_ending
from tracker.reports.trends import AGE_BUCKETS

TOP_RISKS = 10
HISTORY_PERIODS = 12
RISK_ACTIONS = ["create", "update", "convert"]  # the audited changes a report reads back to a moment
ISSUE_ACTIONS = ["create", "update"]
# The report's list of each running clock of a deliverable, overdue. Every running clock counts as a deadline: the
# contractor's delivery and resubmission ("upcoming") as much as the state's own review ("reviews due").
OVERDUE_LISTS = {clocks.DELIVERY: "deliveries", clocks.REVIEW: "reviews", clocks.RESUBMISSION: "resubmissions"}
ACCEPTING = (Outcome.ACCEPTED, Outcome.CONDITIONALLY_ACCEPTED, Outcome.DEEMED_ACCEPTED)
OUTCOME_LABELS = {
    Outcome.ACCEPTED: "Accepted",
    Outcome.CONDITIONALLY_ACCEPTED: "Accepted with conditions",
    Outcome.DEEMED_ACCEPTED: "Deemed accepted",
}
_PRIORITY_RANK = {p.value: n for n, p in enumerate(Priority)}
MAX_PERIOD_DAYS = 366


# --- periods ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A period on the project's calendar and the moment the record is read at."""

    period: Period
    start_at: datetime  # UTC: midnight starting the period's first day, local time (inclusive)
    end_at: datetime  # UTC: midnight after its last day, local time (exclusive)
    as_of: datetime  # the earlier of now and end_at: the record is read as it stood then
    today: date  # the project's day at as_of: the period's last day once the period is over

    @property
    def closed(self) -> bool:
        return self.as_of >= self.end_at


def window(project: Project, period: Period, now: datetime | None = None) -> Window:
    zone = ZoneInfo(project.timezone)
    now = now or utcnow()
    start_at = datetime.combine(period.start, time.min, zone).astimezone(UTC)
    end_at = datetime.combine(period.end + timedelta(days=1), time.min, zone).astimezone(UTC)
    return Window(period, start_at, end_at, min(now, end_at), min(project_today(project, now), period.end))


class PeriodForm(Form):
    """Blank: the week ending Friday that contains today. Only an end: the week ending Friday that contains it.
    Both: any period of up to a year that has begun."""

    period_start: OptionalDate = None
    period_end: OptionalDate = None

    @model_validator(mode="after")
    def _order(self) -> PeriodForm:
        if self.period_start and self.period_end:
            if self.period_start > self.period_end:
                raise FormError({"period_start": "The period starts after it ends."})
            if (self.period_end - self.period_start).days >= MAX_PERIOD_DAYS:
                raise FormError({"period_end": "A reporting period is at most a year long."})
        elif self.period_start:
            raise FormError({"period_end": "Give the period's last day too."})
        return self


def period_params(period: Period) -> str:
    """The query string that names a period in links."""
    return urlencode({"period_start": period.start.isoformat(), "period_end": period.end.isoformat()})


def period_of(project: Project, form: PeriodForm) -> Period:
    today = project_today(project)
    if form.period_start and form.period_end:
        period = Period(form.period_start, form.period_end)
    else:
        period = week_ending(form.period_end or today)
    if period.start > today:
        raise FormError(
            {
                "period_end": f"That period has not begun yet on the project's calendar (today is {show_date(today, weekday=True)})."
            }
        )
    return period


# --- the record as of a moment -----------------------------------------------------------------------------


Trail = list[tuple[int, datetime, str, dict]]  # (entity id, at, action, changes), in time order


def _as_of(rows: Trail, moment: datetime) -> dict[int, dict[str, Any]]:
    """{entity id: {field: value at `moment`}} from the audit trail: the last change before the moment, or else
    what the first change after it changed from. Fields never audited keep their value now, and so does a record
    whose creation the trail dates after the moment (imported with an earlier date). The trail need only reach back
    to the period's start: a field last changed earlier stands now as it stood then, unless changed after the
    moment, and the first change after the moment says what it was."""
    before: dict[int, dict[str, Any]] = {}
    after: dict[int, dict[str, Any]] = {}
    for entity_id, at, action, changes in rows:
        for field, change in changes.items():
            if not isinstance(change, list) or len(change) != 2:
                continue
            if at < moment:
                before.setdefault(entity_id, {})[field] = change[1]
            elif action != "create":
                after.setdefault(entity_id, {}).setdefault(field, change[0])
    return {i: after.get(i, {}) | before.get(i, {}) for i in before.keys() | after.keys()}


def _trail_where(project_id: int, entity_type: str, actions: list[str], since: datetime) -> list[Any]:
    return [
        AuditEvent.project_id == project_id,
        AuditEvent.entity_type == entity_type,
        col(AuditEvent.action).in_(actions),
        col(AuditEvent.at) >= since,
    ]


def _trail(db: Session, project_id: int, entity_type: str, actions: list[str], since: datetime) -> Trail:
    """The changes from `since` on (the period's start): what `_as_of` and the period's own events need, so the cost
    follows the activity since the period began, not the whole history."""
    stmt = (
        select(AuditEvent.entity_id, AuditEvent.at, AuditEvent.action, AuditEvent.changes)
        .where(*_trail_where(project_id, entity_type, actions, since))
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return [(i, at, action, changes or {}) for i, at, action, changes in db.exec(stmt)]


def _changed_since(project_id: int, entity_type: str, actions: list[str], since: datetime) -> Any:
    """The ids of the records the trail from `since` touches: the only ones whose state at any moment since then
    may differ from their state now. A record outside this set stands now as it stood then."""
    return select(AuditEvent.entity_id).where(*_trail_where(project_id, entity_type, actions, since))


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


class _Then:
    """One record's fields as they stood at the moment: audited values first, the row's own otherwise."""

    def __init__(self, row: Any, then: dict[str, Any]) -> None:
        self.row, self.then = row, then

    def __getattr__(self, field: str) -> Any:
        return self.then[field] if field in self.then else getattr(self.row, field)


def _as_it_stood(row: Any, then: dict[int, dict[str, Any]]) -> Any:
    """The row as it stood at the moment: itself when the trail changed none of its fields since."""
    changed = then.get(row.id)
    return _Then(row, changed) if changed else row


@dataclass(frozen=True)
class _IssueThen:
    """An issue's fields the register's rules read (age, overdue, escalation), as they stood at the moment."""

    status: str
    priority: str
    raised_on: date
    resolved_on: date | None
    need_by: date | None


# --- gathering the content ------------------------------------------------------------------------------------


def _deliverables(db: Session, project: Project, w: Window) -> dict[str, Any]:
    rows = db.exec(
        select(
            Deliverable.id,
            Deliverable.code,
            Deliverable.title,
            Deliverable.status,
            Deliverable.resubmit_due,
            Deliverable.due_date,
            User.full_name,
        )
        .outerjoin(User, col(User.id) == Deliverable.owner_id)
        .where(Deliverable.project_id == project.id, col(Deliverable.created_at) < w.as_of)
        .order_by(Deliverable.code)
    ).all()
    trail = _trail(db, project.id, "deliverable", ["create", "update", *(a.value for a in Action)], w.start_at)
    then = _as_of(trail, w.as_of)
    latest = (
        select(Submission.deliverable_id, func.max(Submission.number).label("n"))
        .join(Deliverable, col(Deliverable.id) == Submission.deliverable_id)
        .where(Deliverable.project_id == project.id, col(Submission.submitted_at) < w.as_of)
        .group_by(Submission.deliverable_id)
        .subquery()
    )
    review_due = dict(
        db.exec(
            select(Submission.deliverable_id, Submission.review_due).join(
                latest, (latest.c.deliverable_id == Submission.deliverable_id) & (latest.c.n == Submission.number)
            )
        ).all()
    )
    accepted = db.exec(
        select(Decision, Deliverable.id, Deliverable.code, Deliverable.title, Submission.number)
        .join(Deliverable, col(Deliverable.id) == Decision.deliverable_id)
        .join(Submission, col(Submission.id) == Decision.submission_id)
        .where(
            Deliverable.project_id == project.id,
            col(Decision.outcome).in_(ACCEPTING),
            col(Decision.decided_at) >= w.start_at,
            col(Decision.decided_at) < w.as_of,
        )
        .order_by(Decision.decided_at, Decision.id)
    ).all()
    zone = ZoneInfo(project.timezone)
    counts: Counter[str] = Counter()
    out: dict[str, list] = {"reviews": [], "resubmissions": [], "deliveries": [], "upcoming": [], "reviews_due": []}
    for d in rows:
        x, owner = _as_it_stood(d, then), d.full_name
        status = x.status
        counts[status] += 1
        clock = clocks.running_for(status)
        if clock is None:
            continue
        # The review's due date as it stood is its submission's (the trail does not carry the deliverable's copy).
        due = review_due.get(d.id) if clock is clocks.REVIEW else _date(getattr(x, clock.due_column.key))
        item = {"id": d.id, "code": d.code, "title": d.title, "owner": owner}
        state = clock.state(due, w.today)
        if state == "overdue":
            out[OVERDUE_LISTS[clock]].append(item | {"due": _iso(due), "days": clocks.days_past(due, w.today)})
        elif state == "upcoming":
            upcoming = "reviews_due" if clock is clocks.REVIEW else "upcoming"
            out[upcoming].append(item | {"due": _iso(due), "what": clock.label})
    # Conditions of conditional acceptances still open at the moment: overdue, or due in the next two weeks.
    out["conditions"] = []
    for c, code, owner in db.exec(
        select(Condition, Deliverable.code, User.full_name)
        .join(Deliverable, col(Deliverable.id) == Condition.deliverable_id)
        .outerjoin(User, col(User.id) == Condition.owner_id)
        .where(
            Deliverable.project_id == project.id,
            col(Condition.created_at) < w.as_of,
            or_(col(Condition.met_at).is_(None), col(Condition.met_at) >= w.as_of),
        )
    ):
        item = {
            "id": c.deliverable_id,
            "code": code,
            "title": f"condition {c.position}: {c.text}",
            "owner": owner,
            "due": _iso(c.due_date),
        }
        state = clocks.CONDITION.state(c.due_date, w.today)
        if state == "overdue":
            out["conditions"].append(item | {"days": clocks.days_past(c.due_date, w.today)})
        elif state == "upcoming":
            out["upcoming"].append(item | {"what": clocks.CONDITION.label})
    for key in ("reviews", "resubmissions", "deliveries", "conditions"):
        out[key].sort(key=lambda i: (-i["days"], i["code"]))
    for key in ("upcoming", "reviews_due"):
        out[key].sort(key=lambda i: (i["due"], i["code"]))
    out["pipeline"] = [{"status": s.value, "label": STATUS_LABELS[s], "count": counts.get(s.value, 0)} for s in Status]
    out["accepted"] = [
        {
            "id": d_id,
            "code": code,
            "title": title,
            "version": n,
            "outcome": OUTCOME_LABELS[Outcome(x.outcome)] if not x.closes_id else "Accepted: conditions met",
            "on": x.decided_at.astimezone(zone).date().isoformat(),
        }
        for x, d_id, code, title, n in accepted
    ]
    return out


def deliverable_figures(db: Session, project: Project, period: Period) -> dict[str, Any]:
    """The report's deliverable figures alone (pipeline, late and upcoming clocks), for readers of no register."""
    return _deliverables(db, project, window(project, period))


def _custom_fields(db: Session, project_id: int) -> dict[str, list[CustomField]]:
    """The project's risk and issue custom fields, in one query."""
    out: dict[str, list[CustomField]] = {Risk.__tablename__: [], Issue.__tablename__: []}
    for f in custom.definitions(db, project_id):
        out.setdefault(f.entity, []).append(f)
    return out


def _custom_columns(fields: list[CustomField]) -> list[dict[str, str]]:
    """The custom fields a register's list shows as columns, as the report's tables head them."""
    return [{"label": f.label, "type": f.type} for f in fields]


def _custom_cells(db: Session, fields: list[CustomField], ids: list[int], then: dict[int, dict[str, Any]]) -> Any:
    """{record id: {label: value}}: each record's custom values as they stood at the moment. The trail keeps a
    value's changes under its field's label (shown as the history shows it); a value unchanged since stands as now.
    One query, none when the register has no custom columns."""
    values = custom.read(db, fields, ids) if fields else custom.Values()

    def cell(i: int, f: CustomField) -> Any:
        stood = then.get(i, {})
        v = stood[f.label] if f.label in stood else values.shown(i, f)
        return ", ".join(v) if isinstance(v, list) else v

    return {i: {f.label: cell(i, f) for f in fields} for i in ids}


def _risks(
    db: Session, project: Project, w: Window, previous: dict[str, int] | None, fields: list[CustomField]
) -> dict[str, Any]:
    rows = db.exec(
        select(
            Risk.id, Risk.code, Risk.title, Risk.probability, Risk.impact, Risk.status, Risk.raised_on, User.full_name
        )
        .outerjoin(User, col(User.id) == Risk.owner_id)
        .where(
            Risk.project_id == project.id,
            col(Risk.created_at) < w.as_of,
            # Closed long ago and untouched since: on no list of the report, so not read at all.
            col(Risk.status).in_(ACTIVE_RISK)
            | (col(Risk.raised_on) >= w.period.start)
            | col(Risk.id).in_(_changed_since(project.id, "risk", RISK_ACTIONS, w.start_at)),
        )
    ).all()
    trail = _trail(db, project.id, "risk", RISK_ACTIONS, w.start_at)
    then = _as_of(trail, w.as_of)
    cells_of = _custom_cells(db, fields, [r.id for r in rows], then)
    changed_at = {i: at for i, at, _, changes in trail if at < w.as_of and "status" in changes}  # last status change
    mitigations = dict(
        db.exec(
            select(ActionItem.risk_id, func.count(ActionItem.id))
            .where(
                ActionItem.project_id == project.id,
                ActionItem.plan == Plan.MITIGATION,
                col(ActionItem.created_at) < w.as_of,
                (col(ActionItem.done_at).is_(None)) | (col(ActionItem.done_at) >= w.as_of),
            )
            .group_by(ActionItem.risk_id)
        ).all()
    )
    active, new, closed, cells = [], [], [], Counter()
    for r in rows:
        x, owner = _as_it_stood(r, then), r.full_name
        p, i = int(x.probability), int(x.impact)
        score, level = scoring.score(p, i), scoring.level(p, i).value
        item = {
            "id": r.id,
            "code": r.code,
            "title": r.title,
            "score": score,
            "level": level,
            "status": x.status,
            "owner": owner,
            "probability": p,
            "impact": i,
            "custom": cells_of[r.id],
        }
        raised = _date(x.raised_on)
        if w.period.start <= raised <= w.period.end:
            new.append(item | {"raised_on": raised.isoformat()})
        if x.status == RiskStatus.CLOSED and r.id in changed_at and changed_at[r.id] >= w.start_at:
            closed.append(item)
        if x.status in ACTIVE_RISK:
            cells[(p, i)] += 1
            before = (previous or {}).get(str(r.id))
            trend = "new" if before is None else "up" if score > before else "down" if score < before else "same"
            active.append(item | {"previous": before, "trend": trend, "mitigations": mitigations.get(r.id, 0)})
    active.sort(key=lambda i: (-i["score"], i["code"]))
    new.sort(key=lambda i: i["code"])
    closed.sort(key=lambda i: i["code"])
    return {
        "active": active,
        "new": new,
        "closed": closed,
        "heat_map": [[p, i, n] for (p, i), n in sorted(cells.items())],
    }


def _issues(db: Session, project: Project, w: Window, fields: list[CustomField]) -> dict[str, Any]:
    rows = db.exec(
        select(
            Issue.id,
            Issue.code,
            Issue.title,
            Issue.raised_on,
            Issue.resolved_on,
            Issue.need_by,
            Issue.priority,
            Issue.status,
            Issue.escalation_level,
            User.full_name,
        )
        .outerjoin(User, col(User.id) == Issue.owner_id)
        .where(
            Issue.project_id == project.id,
            col(Issue.created_at) < w.as_of,
            # Resolved before the period and untouched since: on no list of the report, so not read at all.
            col(Issue.status).in_(UNRESOLVED)
            | (col(Issue.raised_on) >= w.period.start)
            | (col(Issue.resolved_on) >= w.period.start)
            | col(Issue.id).in_(_changed_since(project.id, "issue", ISSUE_ACTIONS, w.start_at)),
        )
    ).all()
    then = _as_of(_trail(db, project.id, "issue", ISSUE_ACTIONS, w.start_at), w.as_of)
    cells_of = _custom_cells(db, fields, [issue.id for issue in rows], then)
    settings = settings_for(db, project.id)
    unresolved, new, resolved, escalations = [], [], [], []
    for issue in rows:
        x, owner = _as_it_stood(issue, then), issue.full_name
        raised, resolved_on, need_by = _date(x.raised_on), _date(x.resolved_on), _date(x.need_by)
        item = {
            "id": issue.id,
            "code": issue.code,
            "title": issue.title,
            "priority": x.priority,
            "status": x.status,
            "owner": owner,
            "raised_on": raised.isoformat(),
            "need_by": _iso(need_by),
            "custom": cells_of[issue.id],
        }
        if w.period.start <= raised <= w.period.end:
            new.append(item)
        stood = _IssueThen(x.status, x.priority, raised, resolved_on, need_by)
        if x.status in issues.CLOSED and resolved_on and w.period.start <= resolved_on <= w.period.end:
            resolved.append(item | {"resolved_on": resolved_on.isoformat(), "age": issues.age_days(stood, w.today)})
        if x.status not in UNRESOLVED:
            continue
        age = issues.age_days(stood, w.today)
        unresolved.append(item | {"age": age, "late": issues.is_overdue(stood, w.today)})
        if x.status == IssueStatus.ESCALATED:
            escalations.append(item | {"age": age, "why": f"Escalated to {x.escalation_level}"})
        elif issues.needs_escalation(stood, settings, w.today):
            allowed = settings.escalate_days(x.priority)
            escalations.append(
                item | {"age": age, "why": f"Unresolved {age} days; {x.priority} issues may age {allowed}"}
            )
    for items in (new, resolved):
        items.sort(key=lambda i: i["code"])
    escalations.sort(key=lambda i: (_PRIORITY_RANK.get(i["priority"], 9), -i["age"], i["code"]))
    ages = [
        {"label": label, "count": sum(lo <= i["age"] and (hi is None or i["age"] <= hi) for i in unresolved)}
        for lo, hi, label in AGE_BUCKETS
    ]
    return {"unresolved": unresolved, "new": new, "resolved": resolved, "escalations": escalations, "ages": ages}


def _overdue_actions(db: Session, project: Project, w: Window) -> list[dict[str, Any]]:
    stmt = (
        action_items.with_parents(select(ActionItem, action_items.PARENT_CODE, User.full_name))
        .outerjoin(User, col(User.id) == ActionItem.owner_id)
        .where(
            ActionItem.project_id == project.id,
            col(ActionItem.created_at) < w.as_of,
            (col(ActionItem.done_at).is_(None)) | (col(ActionItem.done_at) >= w.as_of),  # open at the moment
            clocks.ACTION.past_due_clause(w.today),
        )
        .order_by(ActionItem.due_date, ActionItem.id)
    )
    return [
        {
            "id": a.id,
            "parent": parent,
            "parent_kind": action_items.parent_of(a)[0],
            "parent_id": action_items.parent_of(a)[1],
            "description": a.description,
            "owner": owner,
            "due": a.due_date.isoformat(),
            "days": clocks.days_past(a.due_date, w.today),
        }
        for a, parent, owner in db.exec(stmt)
    ]


def _scorecard(db: Session, project: Project, period: Period) -> dict[str, Any]:
    """The scorecard, the contractor-reported levels and the service credits of the period, as the report keeps them."""
    metrics = scorecard.scorecard(db, project, period, HISTORY_PERIODS)
    measures = levels.measures(db, project.id)
    rows = levels.figures(db, project.id, since=period.start - timedelta(days=62), until=period.end) if measures else []
    table = credits.table_of(project)
    due = credits.for_period(db, project, period, metrics, rows, credits.choices(measures)) if table.rules else None
    return {
        "scorecard": [
            {
                "key": m.key,
                "label": m.label,
                "unit": m.unit,
                "value": m.value,
                "count": m.count,
                "target": m.target,
                "met": m.met,
                "explanation": m.explanation,
                "trend": list(m.trend),
            }
            for m in metrics
        ],
        "reported": [
            {
                "measure": r.measure.name,
                "unit": r.measure.unit,
                "target": f"{r.measure.target.normalize():f}",
                "higher": r.measure.higher_is_better,
                "month": r.row.figure.month.isoformat() if r.row else None,
                "value": f"{r.row.figure.value.normalize():f}" if r.row else None,
                "status": r.row.figure.status if r.row else None,
                "status_label": r.row.status_label if r.row else "Not reported",
                "met": r.row.met if r.row else None,
            }
            for r in levels.latest(measures, rows, period)
        ],
        "credits": credits.as_content(due) if due else None,
    }


def _published(db: Session, project_id: int, before: date) -> list[tuple[int, date, date, int, str]]:
    """(id, start, end, number, rag) of the published reports ending before `before`, latest first."""
    stmt = (
        select(
            StatusReport.id, StatusReport.period_start, StatusReport.period_end, StatusReport.number, StatusReport.rag
        )
        .where(
            StatusReport.project_id == project_id,
            StatusReport.status == ReportStatus.PUBLISHED,
            col(StatusReport.period_end) < before,
        )
        .order_by(col(StatusReport.period_end).desc(), col(StatusReport.number).desc())
    )
    return list(db.exec(stmt).all())


def build(db: Session, project: Project, period: Period, draft: StatusReport, now: datetime | None = None) -> dict:
    """The whole report as shown: every figure and list, JSON-ready, so the draft page renders it live and
    publishing stores exactly it. A fixed number of queries whatever the size of the record. Its words are one
    document for every reader: the project's zone, the default date format."""
    return kept_build(db, project, period, draft, now)[0]


def kept_build(
    db: Session, project: Project, period: Period, draft: StatusReport, now: datetime | None = None
) -> tuple[dict, tuple]:
    """`build`, and the memo key it is kept under (the draft page keeps its drawing of it there too)."""
    w = window(project, period, now)
    key = (
        "report",
        project.id,
        project.version,
        period,
        draft.id,
        draft.version,
        json.dumps(draft.overrides or {}, sort_keys=True),
        w.today,
        w.closed,
        versions.of(db, [project.id]),
    )

    def compute() -> dict:
        with as_document():
            return _build(db, project, period, draft, now)

    return memo.kept(key, compute), key


def _build(db: Session, project: Project, period: Period, draft: StatusReport, now: datetime | None) -> dict:
    w = window(project, period, now)
    earlier = _published(db, project.id, period.end)
    previous = db.get(StatusReport, earlier[0][0]) if earlier else None
    d = _deliverables(db, project, w)
    columns = {k: [f for f in fs if f.in_list] for k, fs in _custom_fields(db, project.id).items()}
    scores = (previous.content or {}).get("risk_scores") if previous else None
    r = _risks(db, project, w, scores, columns[Risk.__tablename__])
    i = _issues(db, project, w, columns[Issue.__tablename__])
    actions = _overdue_actions(db, project, w)
    changes = change_requests.for_report(db, project.id, period.start, period.end)
    decided = decision_log.for_report(db, project, w.period.start, w.period.end)  # one query per source
    critical = [x for x in r["active"] if x["level"] == scoring.Level.CRITICAL]
    facts = rag.Facts(
        reviews_overdue=[(x["code"], x["days"]) for x in d["reviews"]],
        deliveries_overdue=[(x["code"], x["days"]) for x in d["deliveries"] + d["resubmissions"]],
        critical_risks=[(x["code"], x["mitigations"]) for x in critical],
        high_risks=[x["code"] for x in r["active"] if x["level"] == scoring.Level.HIGH],
        critical_issues_late=[x["code"] for x in i["unresolved"] if x["priority"] == Priority.CRITICAL and x["late"]],
        escalations=[x["code"] for x in i["escalations"]],
        issues_late=[x["code"] for x in i["unresolved"] if x["late"]],
        overdue_actions=len(actions),
    )
    rags = rag.evaluate(facts, rag.thresholds_for(project.rag_thresholds), draft.overrides or {})
    overall = rags["areas"][0]["rag"]
    by_end: dict[date, str] = {}  # the latest version's RAG of each period end
    for _, _, end, _, was in earlier:
        by_end.setdefault(end, was)
    history = [
        {
            "period_end": week.end.isoformat(),
            "label": show_date(week.end, short=True),
            "rag": overall
            if week.end == period.end
            else next((v for e, v in by_end.items() if week.start <= e <= week.end), None),
        }
        for week in last_weeks(period.end, HISTORY_PERIODS)
    ]
    content = {
        "schema": 1,
        "project": {
            "key": project.key,
            "name": project.name,
            "contractor": project.contractor,
            "sponsor": project.sponsor,
            "contract_number": project.contract_number,
            "timezone": project.timezone,
        },
        "period": {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "label": period.label,
            "starts": show_datetime(w.start_at, project.timezone),
            "ends": show_datetime(w.end_at, project.timezone),
            "as_of": w.today.isoformat(),
            "closed": w.closed,
            "upcoming_until": (w.today + timedelta(days=clocks.DELIVERY.soon_days)).isoformat(),  # its "next two weeks"
        },
        "rag": rags,
        "narrative": {"summary": draft.summary, "decisions": draft.decisions, "next_steps": draft.next_steps},
        "accomplishments": {"accepted": d["accepted"], "issues_resolved": i["resolved"], "risks_closed": r["closed"]},
        "upcoming": {"deliverables": d["upcoming"], "reviews": d["reviews_due"]},
        "pipeline": d["pipeline"],
        "overdue": {
            "reviews": d["reviews"],
            "resubmissions": d["resubmissions"],
            "deliveries": d["deliveries"],
            "conditions": d["conditions"],
        },
        "top_risks": r["active"][:TOP_RISKS],
        "risk_scores": {str(x["id"]): x["score"] for x in r["active"]},
        "compared_with": {
            "id": previous.id,
            "number": previous.number,
            "label": Period(previous.period_start, previous.period_end).label,
        }
        if previous
        else None,
        "heat_map": r["heat_map"],
        "new_risks": r["new"],
        "new_issues": i["new"],
        "escalations": i["escalations"],
        "issue_ages": i["ages"],
        "custom": {
            "risks": _custom_columns(columns[Risk.__tablename__]),
            "issues": _custom_columns(columns[Issue.__tablename__]),
        },
        "overdue_actions": actions,
        "changes": changes,
        "decisions_taken": decided,
        **_scorecard(db, project, period),
        "rag_history": history,
        "counts": {
            "risks_open": len(r["active"]),
            "critical_risks": len(critical),
            "issues_open": len(i["unresolved"]),
            "escalations": len(i["escalations"]),
            "deliverables_overdue": len(d["reviews"]) + len(d["resubmissions"]) + len(d["deliveries"]),
            "overdue_actions": len(actions),
            "conditions_overdue": len(d["conditions"]),
            "changes_awaiting": len(changes["awaiting"]),
        },
    }
    return json.loads(json.dumps(content))  # exactly what the JSON column stores and gives back


# --- drafts and publishing -------------------------------------------------------------------------------------


def _reports_of(db: Session, project_id: int, period: Period) -> list[StatusReport]:
    stmt = select(StatusReport).where(
        StatusReport.project_id == project_id,
        StatusReport.period_start == period.start,
        StatusReport.period_end == period.end,
    )
    return list(db.exec(stmt.order_by(col(StatusReport.number).desc())))


def draft_for(db: Session, project: Project, period: Period) -> StatusReport:
    """The period's draft: the saved one, or a new one (id None) that starts from the latest published version,
    so a correction begins from what was published."""
    reports = _reports_of(db, project.id, period)
    if reports and reports[0].status == ReportStatus.DRAFT:
        return reports[0]
    last = reports[0] if reports else None
    return StatusReport(
        project_id=project.id,
        period_start=period.start,
        period_end=period.end,
        number=last.number + 1 if last else 1,
        summary=last.summary if last else "",
        decisions=last.decisions if last else "",
        next_steps=last.next_steps if last else "",
        overrides=dict(last.overrides) if last else {},
    )


def seen_version(report: StatusReport) -> int | None:
    """What a form carries to detect a stale edit: the draft's version, or nothing for a draft never saved."""
    return report.version if report.id else None


NARRATIVE = ("summary", "decisions", "next_steps")
# The draft form's labels and the RAG words; the history (audit/history.py) reads a report's changes with them.
_AREAS = {"overall": "Overall", **rag.AREAS}
LABELS = {
    "summary": "Summary",
    "decisions": "Key decisions needed",
    "next_steps": "Next steps",
    "status": "Status",
    "rag": "Overall RAG",
    **{f"rag_{a}": f"{label} RAG" for a, label in _AREAS.items()},
    **{f"why_{a}": f"{label} rationale" for a, label in _AREAS.items()},
}
_RAG = {r.value: word for r, word in rag.RAG_LABELS.items()}
WORDS = {"status": dict(options(list(ReportStatus))), "rag": _RAG, **{f"rag_{a}": _RAG for a in _AREAS}}
history.register(
    nouns={"status_report": "status report"},
    verbs={"update_report": "saved the draft of", "publish": "published"},
    terms={"status_report": history.Terms(LABELS, WORDS)},
)


class DraftForm(Form):
    labels = LABELS
    number: int = Field(ge=1)
    version: OptionalInt = None
    summary: str = Field(default="", max_length=8000)
    decisions: str = Field(default="", max_length=8000)
    next_steps: str = Field(default="", max_length=8000)
    rag_overall: rag.Rag | None = None
    why_overall: str = Field(default="", max_length=2000)
    rag_deliverables: rag.Rag | None = None
    why_deliverables: str = Field(default="", max_length=2000)
    rag_risks: rag.Rag | None = None
    why_risks: str = Field(default="", max_length=2000)
    rag_issues: rag.Rag | None = None
    why_issues: str = Field(default="", max_length=2000)

    @field_validator("rag_overall", "rag_deliverables", "rag_risks", "rag_issues", mode="before")
    @classmethod
    def _blank(cls, v: Any) -> Any:
        return v or None

    @model_validator(mode="after")
    def _rationale(self) -> DraftForm:
        missing = {
            f"why_{area}": "Write why you override the computed RAG; leadership reads it beside the RAG."
            for area in rag.OVERRIDABLE
            if getattr(self, f"rag_{area}") and not getattr(self, f"why_{area}")
        }
        if missing:
            raise FormError(missing)
        return self

    def overrides(self) -> dict[str, dict[str, str]]:
        return {
            area: {"rag": getattr(self, f"rag_{area}").value, "rationale": getattr(self, f"why_{area}")}
            for area in rag.OVERRIDABLE
            if getattr(self, f"rag_{area}")
        }


def form_values(report: StatusReport) -> dict[str, Any]:
    values: dict[str, Any] = {f: getattr(report, f) for f in NARRATIVE}
    values |= {"number": report.number, "version": seen_version(report)}
    for area in rag.OVERRIDABLE:
        chosen = (report.overrides or {}).get(area) or {}
        values |= {f"rag_{area}": chosen.get("rag", ""), f"why_{area}": chosen.get("rationale", "")}
    return values


def _check_seen(report: StatusReport, number: int | None, version: int | None) -> None:
    if number != report.number or version != seen_version(report):
        current = form_values(report)
        raise StaleEdit({k: v for k, v in current.items() if k not in ("number", "version")})


def save_draft(db: Session, actor: Principal, access: Access, period: Period, form: DraftForm) -> StatusReport:
    """The manager's narrative and RAG overrides, saved on the period's draft (409 when someone saved since)."""
    access.require(Perm.PUBLISH)
    report = draft_for(db, access.project, period)
    _check_seen(report, form.number, form.version)
    before = form_values(report)
    for f in NARRATIVE:
        setattr(report, f, getattr(form, f))
    report.overrides = form.overrides()
    changes = audit.diff(
        {k: v for k, v in before.items() if k not in ("number", "version")},
        {k: v for k, v in form_values(report).items() if k not in ("number", "version")},
    )
    if report.id is None or changes:
        report.updated_at, report.updated_by_id = utcnow(), actor.id
        db.add(report)
        db.flush()
        audit.record(
            db,
            actor_id=actor.id,
            entity=report,
            project_id=access.project.id,
            action="update_report",
            label=_label(period, report.number),
            changes=changes,
        )
    return report


def _label(period: Period, number: int) -> str:
    label = period.label
    return f"Status report, {label[:1].lower()}{label[1:]}" + (f", version {number}" if number > 1 else "")


def publish(
    db: Session, actor: Principal, access: Access, period: Period, number: int | None, version: int | None
) -> StatusReport:
    """Freeze the draft as shown into the published snapshot. A second publication of the period is a correction:
    the next version, which supersedes the earlier one; both stay readable."""
    access.require(Perm.PUBLISH)
    report = draft_for(db, access.project, period)
    _check_seen(report, number, version)
    report.content = build(db, access.project, period, report)
    report.rag = report.content["rag"]["areas"][0]["rag"]
    report.status = ReportStatus.PUBLISHED.value
    report.published_at = report.updated_at = utcnow()
    report.published_by_id = report.updated_by_id = actor.id
    db.add(report)
    db.flush()  # a concurrent publication of the same version fails here on the unique key or the version: 409
    audit.record(
        db,
        actor_id=actor.id,
        entity=report,
        project_id=access.project.id,
        action="publish",
        label=_label(period, report.number),
        changes={"status": [ReportStatus.DRAFT.value, ReportStatus.PUBLISHED.value], "rag": [None, report.rag]},
    )
    return report


# --- reading published reports --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    report: StatusReport
    publisher: str | None
    superseded: bool

    @property
    def period(self) -> Period:
        return Period(self.report.period_start, self.report.period_end)


def published(db: Session, project_id: int, limit: int | None = None) -> list[ReportRow]:
    """The project's published reports, latest period and version first, in one query (content not loaded)."""
    stmt = (
        select(StatusReport, User.full_name)
        .options(defer(StatusReport.content))
        .outerjoin(User, col(User.id) == StatusReport.published_by_id)
        .where(StatusReport.project_id == project_id, StatusReport.status == ReportStatus.PUBLISHED)
        .order_by(
            col(StatusReport.period_end).desc(), col(StatusReport.period_start).desc(), col(StatusReport.number).desc()
        )
    )
    if limit:
        stmt = stmt.limit(limit)
    rows, seen = [], set()
    for report, name in db.exec(stmt):
        key = (report.period_start, report.period_end)
        rows.append(ReportRow(report, name, key in seen))
        seen.add(key)
    return rows


def get_for(db: Session, access: Access, report_id: int) -> StatusReport:
    report = db.get(StatusReport, report_id)
    if report is None or report.project_id != access.project.id:
        raise NotFound(detail="No such status report in this project.")
    return report


def load_for(
    db: Session, user: Principal, report_id: int, perm: Perm = Perm.VIEW_REGISTER
) -> tuple[Access, StatusReport]:
    row = db.exec(
        select(StatusReport, Project.key)
        .join(Project, col(Project.id) == StatusReport.project_id)
        .where(StatusReport.id == report_id)
    ).first()
    if row is None:
        raise NotFound(detail="No such status report.")
    report, key = row
    try:
        access = get_project_for(db, user, key, perm)
    except NotFound:
        raise NotFound(detail="No such status report.") from None
    return access, report


def row_of(db: Session, report: StatusReport) -> ReportRow:
    """One published report with its publisher and whether a later version superseded it."""
    publisher = db.get(User, report.published_by_id) if report.published_by_id else None
    later = db.exec(
        select(func.count(StatusReport.id)).where(
            StatusReport.project_id == report.project_id,
            StatusReport.period_start == report.period_start,
            StatusReport.period_end == report.period_end,
            StatusReport.status == ReportStatus.PUBLISHED,
            StatusReport.number > report.number,
        )
    ).one()
    return ReportRow(report, publisher.full_name if publisher else None, later > 0)


# --- portfolio ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortfolioRow:
    project: Project
    report_id: int | None
    period: str
    period_end: str
    rag: str | None
    areas: dict[str, str]
    trend: str  # better | worse | same | new | none
    counts: dict[str, int]
    slo_met: int
    slo_measured: int
    history: list[str | None]  # the overall RAG of each of the last trends.RAG_PERIODS weeks, oldest first
    money: Totals  # contract value (the deliverables' payments), holdback withheld and released
    credits: Decimal | None = None  # the service credits of the latest report's period; None: no credit table then

    @property
    def scorecard(self) -> str:
        return f"{self.slo_met} of {self.slo_measured} service levels met" if self.slo_measured else ""


TREND_RANK = {"worse": 3, "same": 2, "better": 1, "new": 0, "none": -1}
PORTFOLIO_SORTS = {
    "project": lambda r: r.project.key,
    "rag": lambda r: rag.RANK.get(r.rag, -1) if r.rag else -1,
    **{area: (lambda a: lambda r: rag.RANK.get(r.areas.get(a), -1))(area) for area in rag.AREAS},
    "trend": lambda r: TREND_RANK[r.trend],
    "critical": lambda r: r.counts.get("critical_risks", -1),
    "escalations": lambda r: r.counts.get("escalations", -1),
    "overdue": lambda r: r.counts.get("deliverables_overdue", -1),
    "contract": lambda r: r.money.payment,
    "withheld": lambda r: r.money.withheld,
    "released": lambda r: r.money.released,
    "credits": lambda r: -1 if r.credits is None else r.credits,
    "scorecard": lambda r: r.slo_met / r.slo_measured if r.slo_measured else -1,
    "period": lambda r: r.period_end,
}
PORTFOLIO_FILTERS = ("sponsor", "contractor")


PORTFOLIO = Perm.VIEW_REGISTER  # a project has a line in someone's portfolio when they may read its status reports


def _trend(now: str, before: str | None) -> str:
    if before is None:
        return "new"
    return "better" if rag.RANK[now] < rag.RANK[before] else "worse" if rag.RANK[now] > rag.RANK[before] else "same"


def readable_projects(db: Session, user: Principal) -> list[Project]:
    """The projects whose status reports the user may read: the portfolio's."""
    return [p.project for p in visible_projects(db, user) if PORTFOLIO in perms_for(p.role, user.is_admin)]


def portfolio_zone(projects: list[Project]) -> str:
    """The portfolio's weeks are read in the zone most of its projects keep (a PMO's projects share one, as a rule)."""
    return Counter(p.timezone for p in projects).most_common(1)[0][0] if projects else "UTC"


def portfolio(
    db: Session, user: Principal, sort: str = "-rag", sponsor: str = "", contractor: str = ""
) -> list[PortfolioRow]:
    """Every project whose reports the user may read (of a sponsor, of a contractor), with its latest published
    report's RAG per area, trend against the report before it, figures, RAG history and holdback totals. A fixed
    number of queries whatever the number of projects; the page's figures, so kept with them."""
    return portfolio_view(db, user, sort, sponsor, contractor).rows


def _chosen(projects: list[Project], sponsor: str, contractor: str) -> list[Project]:
    """The filter: the projects of that sponsor and that contractor (blank: any)."""
    return [
        p for p in projects if (not sponsor or p.sponsor == sponsor) and (not contractor or p.contractor == contractor)
    ]


def _rag_weeks(projects: list[Project]) -> list[trends.Week]:
    zone = portfolio_zone(projects)
    return trends.weeks(zone, today_in(zone), trends.RAG_PERIODS)


def portfolio_rows(db: Session, projects: list[Project], sort: str = "-rag") -> list[PortfolioRow]:
    ids = [p.id for p in projects]
    reports: dict[int, list[tuple[int, date, str]]] = {i: [] for i in ids}
    if ids:
        stmt = (
            select(StatusReport.project_id, StatusReport.id, StatusReport.period_end, StatusReport.rag)
            .where(col(StatusReport.project_id).in_(ids), StatusReport.status == ReportStatus.PUBLISHED)
            .order_by(StatusReport.project_id, col(StatusReport.period_end).desc(), col(StatusReport.number).desc())
        )
        for project_id, report_id, end, was in db.exec(stmt):
            reports[project_id].append((report_id, end, was))
    latest = [r[0][0] for r in reports.values() if r]
    contents = (
        dict(db.exec(select(StatusReport.id, StatusReport.content).where(col(StatusReport.id).in_(latest))).all())
        if latest
        else {}
    )
    money = holdback_totals(db, ids)
    ws = _rag_weeks(projects)
    rows = []
    for p in projects:
        mine = reports[p.id]
        by_week: dict[date, str] = {}
        for _, end, was in mine:  # latest version first: the first seen of a week is its latest
            by_week.setdefault(week_ending(end).end, was)
        history = [by_week.get(w.period.end) for w in ws]
        if not mine:
            rows.append(PortfolioRow(p, None, "", "", None, {}, "none", {}, 0, 0, history, money[p.id]))
            continue
        report_id, end, now = mine[0]
        before = next((was for _, e, was in mine if e < end), None)
        content = contents[report_id]
        measured = [m for m in content["scorecard"] if m["met"] is not None]
        rows.append(
            PortfolioRow(
                p,
                report_id,
                content["period"]["label"],
                content["period"]["end"],
                now,
                {a["area"]: a["rag"] for a in content["rag"]["areas"]},
                _trend(now, before),
                content["counts"],
                sum(m["met"] for m in measured),
                len(measured),
                history,
                money[p.id],
                Decimal(content["credits"]["total"]) if content.get("credits") else None,
            )
        )
    key = sort.lstrip("-") if sort.lstrip("-") in PORTFOLIO_SORTS else "rag"
    rows.sort(key=lambda r: r.project.key)
    rows.sort(key=PORTFOLIO_SORTS[key], reverse=sort.startswith("-"))
    return rows


@dataclass(frozen=True)
class Portfolio:
    rows: list[PortfolioRow]
    sponsors: list[str]  # every sponsor and contractor of the readable projects: the filter's choices
    contractors: list[str]
    rag_weeks: list[trends.Week]  # the RAG history strip's weeks
    weeks: list[trends.Week]  # the risk exposure chart's
    exposure: dict[int, list[int]]
    curve: trends.Curve
    kept: tuple  # the figures' memo key: the page's drawing of them is kept under it too ({% kept %})

    @property
    def exposure_lines(self) -> list[dict[str, Any]]:
        """The risk exposure chart's lines: the largest projects', the rest summed."""
        return trends.largest_lines([(r.project.key, self.exposure[r.project.id]) for r in self.rows])


def portfolio_view(
    db: Session, user: Principal, sort: str = "-rag", sponsor: str = "", contractor: str = ""
) -> Portfolio:
    """The portfolio page: its rows, the filter's choices, risk exposure by week of the projects shown and their
    deliverables accepted against planned."""
    readable = readable_projects(db, user)
    shown = _chosen(readable, sponsor, contractor)
    zone = portfolio_zone(shown)
    today = today_in(zone)
    ids = [p.id for p in shown]
    weeks = trends.weeks(zone, today, trends.EXPOSURE_WEEKS)

    def compute() -> tuple[list[PortfolioRow], dict[int, list[int]], trends.Curve]:
        return (
            portfolio_rows(db, shown, sort),
            trends.risk_exposure(db, ids, weeks),
            trends.acceptance_curve(db, ids, today),
        )

    # Kept while every project shown stands (tracker.core.memo); the rows then carry this request's projects.
    key = ("portfolio", tuple((p.id, p.version, project_today(p)) for p in shown), sort, zone, today)
    key += versions.of(db, ids)
    rows, exposure, curve = memo.kept(key, compute)
    by_id = {p.id: p for p in shown}
    return Portfolio(
        [replace(r, project=by_id[r.project.id]) for r in rows],
        sorted({p.sponsor for p in readable if p.sponsor}),
        sorted({p.contractor for p in readable if p.contractor}),
        _rag_weeks(shown),
        weeks,
        exposure,
        curve,
        key,
    )


# --- my work -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToPublish:
    project_key: str
    period: Period
    today: date


def to_publish(db: Session, user: Principal) -> list[ToPublish]:
    """For managers: this week's report and last week's, in each project they manage, while not yet published."""
    managed = db.exec(
        select(Project)
        .join(Membership, (Membership.project_id == Project.id) & (Membership.user_id == user.id))
        .where(col(Membership.role).in_(sorted(roles_with(Perm.PUBLISH))), Project.archived == False)  # noqa: E712
        .order_by(Project.key)
    ).all()
    if not managed:
        return []
    done = set(
        db.exec(
            select(StatusReport.project_id, StatusReport.period_start, StatusReport.period_end).where(
                col(StatusReport.project_id).in_([p.id for p in managed]),
                StatusReport.status == ReportStatus.PUBLISHED,
                col(StatusReport.period_end) >= utcnow().date() - timedelta(days=10),
            )
        ).all()
    )
    out = []
    for p in managed:
        today = project_today(p)
        current = week_ending(today)
        for period in (current.previous(), current):
            if (p.id, period.start, period.end) not in done:
                out.append(ToPublish(p.key, period, today))
    return out
