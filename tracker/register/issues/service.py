"""Issue rules: codes, resolution and escalation, age and the no-fault escalation flag, the decision log,
the filtered register, and converting a realized risk into an issue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pydantic import Field, field_validator
from sqlalchemy import literal_column
from sqlmodel import Session, and_, col, func, or_, select

from tracker import clocks
from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.errors import Conflict, FormError
from tracker.core.forms import Checkbox, Form, OptionalDate, OptionalInt
from tracker.core.web import options
from tracker.projects.calendar import project_today
from tracker.projects.models import Membership, Project
from tracker.projects.permissions import Perm, roles_with
from tracker.projects.service import Access, load_record, record_in
from tracker.register import common
from tracker.register.actions.models import ActionItem
from tracker.register.issues.models import (
    UNRESOLVED,
    EscalationLevel,
    Issue,
    IssueDecision,
    IssueDeliverable,
    IssueStatus,
    Priority,
    priority_rank_sql,
)
from tracker.register.risks import scoring
from tracker.register.risks import service as risks
from tracker.register.risks.models import ACTIVE_RISK, RegisterSettings, Risk, RiskDeliverable

CLOSED = (IssueStatus.RESOLVED, IssueStatus.CLOSED)
AWAITING_ESCALATION = (IssueStatus.OPEN, IssueStatus.IN_PROGRESS)  # an escalated issue is no longer flagged


# --- the rules that pages, API, exports and reports share ------------------------------------------------


def age_days(issue: Issue, today: date) -> int:
    """Calendar days from being raised to being resolved (or to today while unresolved)."""
    return age_of(issue.raised_on, issue.resolved_on, today)


def age_of(raised_on: date, resolved_on: date | None, today: date) -> int:
    return ((resolved_on or today) - raised_on).days


def is_overdue(issue: Issue, today: date) -> bool:
    """Unresolved past its need-by date: the issue clock's rule. `overdue_clause` is the same rule in SQL."""
    return clocks.ISSUE.overdue(issue, today)


def overdue_clause(today: date) -> Any:
    return clocks.ISSUE.overdue_clause(today)


def needs_escalation(issue: Issue, settings: RegisterSettings, today: date) -> bool:
    """The no-fault rule: an issue still open or in progress longer than its priority allows is flagged for
    escalation, whoever's it is. `escalation_clause` is the same rule in SQL."""
    return issue.status in AWAITING_ESCALATION and age_days(issue, today) > settings.escalate_days(issue.priority)


def escalation_clause(settings: RegisterSettings, today: date) -> Any:
    too_old = [
        and_(Issue.priority == p.value, Issue.raised_on < today - timedelta(days=settings.escalate_days(p.value)))
        for p in Priority
    ]
    return and_(col(Issue.status).in_(AWAITING_ESCALATION), or_(*too_old))


def open_actions_count() -> Any:
    return (
        select(func.count(ActionItem.id))
        .where(ActionItem.issue_id == Issue.id, col(ActionItem.done_at).is_(None))
        .correlate(Issue)
        .scalar_subquery()
    )


# --- create and edit --------------------------------------------------------------------------------------


class IssueForm(common.RecordForm):
    description: str = Field(default="", max_length=8000)
    impact: str = Field(default="", max_length=4000)
    priority: Priority = Priority.MEDIUM
    owner_id: OptionalInt = None
    need_by: OptionalDate = None
    status: IssueStatus = IssueStatus.OPEN
    escalation_level: EscalationLevel = EscalationLevel.PROJECT
    escalation_reason: str = Field(default="", max_length=2000)
    resolution: str = Field(default="", max_length=8000)
    raised_on: OptionalDate = None
    resolved_on: OptionalDate = None  # of a resolved or closed issue, when recorded later (an import); blank: today

    @field_validator("deliverable_ids", mode="before")
    @classmethod
    def _list(cls, v: Any) -> Any:
        return common.as_list(v)


# The issue form's labels and the words of its coded values; the history (audit/history.py) reads an issue's changes,
# its decision log's included, with them too.
LABELS = {
    "code": "Code",
    "title": "Title",
    "description": "Description",
    "impact": "Impact",
    "priority": "Priority",
    "owner_id": "Owner",
    "need_by": "Need by",
    "status": "Status",
    "escalation_level": "Escalation level",
    "escalation_reason": "Escalation reason",
    "resolution": "Resolution",
    "raised_on": "Raised on",
    "resolved_on": "Resolved on",
    "deliverable_ids": "Deliverables",
    "deliverables": "Deliverables",
    "from_risk": "From risk",
    "decision": "Decision",
    "decided_by": "Decided by",
}
IssueForm.labels = LABELS
WORDS = {
    "status": dict(options(list(IssueStatus))),
    "priority": dict(options(list(Priority))),
    "escalation_level": dict(options(list(EscalationLevel))),
}
history.register(
    nouns={"issue": "issue"}, verbs={"decision": "logged a decision on"}, terms={"issue": history.Terms(LABELS, WORDS)}
)

FIELDS = (
    "code",
    "title",
    "description",
    "impact",
    "priority",
    "owner_id",
    "need_by",
    "status",
    "escalation_level",
    "escalation_reason",
    "resolution",
    "raised_on",
    "resolved_on",
)


def check_rules(form: IssueForm, today: date) -> None:
    """What an issue's form cannot check alone (it needs the project's today); imports check every row by it too."""
    errors = {}
    raised = form.raised_on or today
    if form.raised_on and form.raised_on > today:
        errors["raised_on"] = "An issue is raised on a day that has come: choose today or an earlier day."
    elif form.need_by and form.need_by < raised:
        errors["need_by"] = f"The need-by date cannot be before the day the issue was raised ({raised.isoformat()})."
    if form.status in CLOSED and not form.resolution:
        errors["resolution"] = "Describe the resolution before resolving or closing the issue."
    if form.status == IssueStatus.ESCALATED and form.escalation_level == EscalationLevel.PROJECT:
        errors["escalation_level"] = "Choose who the issue is escalated to: executive or sponsor."
    if form.escalation_level != EscalationLevel.PROJECT and not form.escalation_reason:
        errors["escalation_reason"] = "Say why the issue is escalated."
    if form.resolved_on and (form.resolved_on > today or (form.raised_on and form.resolved_on < form.raised_on)):
        errors["resolved_on"] = "An issue is resolved between the day it was raised and today."
    if errors:
        raise FormError(errors)


def _values(form: IssueForm) -> dict[str, Any]:
    values = form.model_dump(include=set(FIELDS) - {"code", "raised_on", "resolved_on", "need_by"}, mode="json")
    return values | {"need_by": form.need_by}


def form_values(db: Session, issue: Issue) -> dict[str, Any]:
    return common.form_values(db, issue, FIELDS, IssueDeliverable)


def create(
    db: Session, actor: Principal, access: Access, form: IssueForm, risk: Risk | None = None, imported: bool = False
) -> Issue:
    """`imported`: brought in from a spreadsheet (an issue's rules are the same either way)."""
    access.require(Perm.EDIT_REGISTER)
    project = access.project
    today = project_today(project)
    check_rules(form, today)
    code, links = common.check_form(db, Issue, project, form, "I")
    common.check_owner(db, project.id, form.owner_id)
    issue = Issue(
        project_id=project.id,
        code=code,
        raised_on=form.raised_on or today,
        risk_id=risk.id if risk else None,
        **_values(form),
    )
    if issue.status in CLOSED:
        issue.resolved_on = form.resolved_on or today
    common.created(db, actor, issue, FIELDS, IssueDeliverable, links, {"from_risk": [None, risk.code]} if risk else {})
    return issue


def update(
    db: Session, actor: Principal, access: Access, issue: Issue, form: IssueForm, imported: bool = False
) -> Issue:
    access.require(Perm.EDIT_REGISTER)
    project = access.project
    issue.check_seen(form.version, audit.snapshot(issue, FIELDS))
    today = project_today(project)
    check_rules(form.model_copy(update={"raised_on": form.raised_on or issue.raised_on}), today)
    code, links = common.check_form(db, Issue, project, form, "I", issue)
    common.check_owner(db, project.id, form.owner_id)

    def apply() -> None:
        for name, value in _values(form).items():
            setattr(issue, name, value)
        issue.code = code
        issue.raised_on = form.raised_on or issue.raised_on
        # resolved: since the day it was; reopened: it ages again
        issue.resolved_on = (form.resolved_on or issue.resolved_on or today) if issue.status in CLOSED else None

    if changes := common.edited(db, issue, FIELDS, IssueDeliverable, links, apply):
        common.record_event(db, actor, issue, "update", changes)
    db.flush()
    return issue


PRIORITY_FOR_LEVEL = {
    scoring.Level.CRITICAL: Priority.CRITICAL,
    scoring.Level.HIGH: Priority.HIGH,
    scoring.Level.MEDIUM: Priority.MEDIUM,
    scoring.Level.LOW: Priority.LOW,
}


def convert(db: Session, actor: Principal, access: Access, risk: Risk, version: int | None = None) -> Issue:
    """The risk has happened: one action opens an issue prefilled from it and linked back, and the risk
    becomes realized. Both audit trails record it."""
    access.require(Perm.EDIT_REGISTER)
    risk.check_seen(version, {"status": risk.status})
    if risk.status not in ACTIVE_RISK:
        raise Conflict(detail=f"{risk.code} is {risk.status}; only an open risk can be converted into an issue.")
    level = scoring.level(risk.probability, risk.impact)
    description = "\n\n".join(
        part
        for part in (
            risk.statement,
            f"Trigger: {risk.trigger}" if risk.trigger else "",
            f"Contingency plan: {risk.contingency_plan}" if risk.contingency_plan else "",
        )
        if part
    )
    links = common.linked_deliverables(db, RiskDeliverable, "risk_id", [risk.id])[risk.id]
    form = IssueForm(
        title=risk.title,
        description=description[:8000],
        priority=PRIORITY_FOR_LEVEL[level],
        impact=f"Realized risk {risk.code}: {scoring.IMPACT_WORDS[risk.impact].lower()} impact "
        f"(score {scoring.score(risk.probability, risk.impact)}, {level.value}).",
        owner_id=risk.owner_id,
        deliverable_ids=[d for d, _ in links],
    )
    issue = create(db, actor, access, form, risk=risk)
    risks.mark_realized(db, actor, risk, issue.code)
    db.flush()
    return issue


# --- decision log -------------------------------------------------------------------------------------------


class DecisionForm(Form):
    decided_on: OptionalDate = None  # blank: today
    decision: str = Field(min_length=1, max_length=4000)
    decided_by: str = Field(min_length=1, max_length=200)
    rationale: str = Field(default="", max_length=4000)


def add_decision(db: Session, actor: Principal, access: Access, issue: Issue, form: DecisionForm) -> IssueDecision:
    access.require(Perm.EDIT_REGISTER)
    today = project_today(access.project)
    if form.decided_on and form.decided_on > today:
        raise FormError({"decided_on": "A decision log records decisions already taken; the date is in the future."})
    entry = IssueDecision(
        issue_id=issue.id,
        decided_on=form.decided_on or today,
        decision=form.decision,
        decided_by=form.decided_by,
        rationale=form.rationale,
        recorded_by_id=actor.id,
    )
    db.add(entry)
    db.flush()
    audit.record(
        db,
        actor_id=actor.id,
        entity=issue,
        project_id=access.project.id,
        label=issue.code,
        action="decision",
        changes={"decision": [None, form.decision], "decided_by": [None, form.decided_by]},
    )
    return entry


def decision_logs(db: Session, project_id: int) -> dict[int, list[IssueDecision]]:
    """Every issue's decision log in the project, oldest first, in one query."""
    stmt = (
        select(IssueDecision)
        .join(Issue, col(Issue.id) == IssueDecision.issue_id)
        .where(Issue.project_id == project_id)
        .order_by(IssueDecision.decided_on, IssueDecision.id)
    )
    logs: dict[int, list[IssueDecision]] = {}
    for d in db.exec(stmt):
        logs.setdefault(d.issue_id, []).append(d)
    return logs


def decisions_of(db: Session, issue_id: int) -> list[IssueDecision]:
    stmt = select(IssueDecision).where(IssueDecision.issue_id == issue_id)
    return list(db.exec(stmt.order_by(col(IssueDecision.decided_on).desc(), col(IssueDecision.id).desc())))


# --- loading -------------------------------------------------------------------------------------------------


def get_for(db: Session, access: Access, issue_id: int) -> Issue:
    return record_in(db, access, Issue, issue_id, "issue")


def load_for(db: Session, user: Principal, issue_id: int, perm: Perm = Perm.VIEW_REGISTER) -> tuple[Access, Issue]:
    """A issue by id for `user`: 404 unless they may see its project, 403 when they lack `perm`."""
    return load_record(db, user, Issue, issue_id, perm, "issue")


def from_risk(db: Session, risk_id: int) -> Issue | None:
    return db.exec(select(Issue).where(Issue.risk_id == risk_id).order_by(Issue.id)).first()


# --- the register list ---------------------------------------------------------------------------------------

# The same expression as the ix_issue_project_priority index, so the default order is read from it.
_PRIORITY_RANK = literal_column(priority_rank_sql("issue.priority"))
# Every sort ends in the code, unique in a project, so the order is total without an id tie-break.
SORTS = {
    "priority": (_PRIORITY_RANK, Issue.code),
    "age": (Issue.raised_on, Issue.code),
    "due": (Issue.need_by, Issue.code),
    "code": (Issue.code,),
}


class IssueQuery(common.ListQuery):
    statuses = tuple(IssueStatus)
    group = "unresolved"
    sorts = SORTS

    priority: Priority | None = None
    escalation: Checkbox = False  # flagged for escalation
    sort: str = "priority"


@dataclass(frozen=True)
class IssueRow:
    issue: Issue
    owner_name: str | None
    open_actions: int
    risk_code: str | None
    age: int
    overdue: bool
    needs_escalation: bool

    @property
    def record(self) -> Issue:
        return self.issue

    def extras(self) -> dict[str, Any]:
        """What the row works out beyond the issue's own fields (the API answers them too)."""
        return {
            "owner_name": self.owner_name,
            "age_days": self.age,
            "overdue": self.overdue,
            "needs_escalation": self.needs_escalation,
            "open_actions": self.open_actions,
            "risk_code": self.risk_code,
        }


def search(
    db: Session, access: Access, query: IssueQuery, part: common.Part = common.Part()
) -> tuple[list[IssueRow], int]:
    """The filtered, sorted issue register in three queries whatever its size (page, API, exports)."""
    project = access.project
    today = project_today(project)
    settings = common.settings_for(db, project.id)
    where = common.list_where(Issue, access, query, part, UNRESOLVED, (Issue.code, Issue.title, Issue.description))
    if query.priority:
        where.append(Issue.priority == query.priority.value)
    if query.owner:
        where.append(Issue.owner_id == query.owner)
    if query.overdue:
        where.append(overdue_clause(today))
    if query.escalation:
        where.append(escalation_clause(settings, today))
    stmt = (
        select(Issue, User.full_name, open_actions_count(), Risk.code)
        .outerjoin(User, col(User.id) == Issue.owner_id)
        .outerjoin(Risk, col(Risk.id) == Issue.risk_id)
    )
    found, total = common.page_of(db, Issue, stmt, where, query, part)
    rows = [
        IssueRow(
            i, owner, n or 0, risk_code, age_days(i, today), is_overdue(i, today), needs_escalation(i, settings, today)
        )
        for i, owner, n, risk_code in found
    ]
    return rows, total


# --- my work --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flagged:
    project_key: str
    issue: Issue
    age: int
    allowed: int
    today: date  # the project's day the age is counted to


def flagged_for_manager(db: Session, user: Principal, limit: int = 50) -> list[Flagged]:
    """Issues flagged for escalation in the projects this user manages, oldest first, in two queries. The candidates
    stream oldest first and the reading stops at `limit` flagged, so a large register costs no more than a small one."""
    managed = select(Membership.project_id).where(
        Membership.user_id == user.id, col(Membership.role).in_(sorted(roles_with(Perm.RECEIVE_ESCALATIONS)))
    )
    stored = {
        s.project_id: s for s in db.exec(select(RegisterSettings).where(col(RegisterSettings.project_id).in_(managed)))
    }
    stmt = (
        select(Issue, Project)
        .join(Project, col(Project.id) == Issue.project_id)
        .where(col(Issue.project_id).in_(managed), col(Issue.status).in_(AWAITING_ESCALATION))
        .order_by(Issue.raised_on, Project.key, Issue.code)
        .execution_options(yield_per=limit)
    )
    out: list[Flagged] = []
    today: dict[int, date] = {}
    rows = db.exec(stmt)
    for issue, project in rows:
        settings = stored.get(project.id) or RegisterSettings(project_id=project.id)
        day = today.setdefault(project.id, project_today(project))
        if needs_escalation(issue, settings, day):
            out.append(Flagged(project.key, issue, age_days(issue, day), settings.escalate_days(issue.priority), day))
            if len(out) == limit:
                break
    rows.close()
    return out
