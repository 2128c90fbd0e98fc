"""Decision log rules: codes, who decided (a name or a body, or a member), the day, not in the future, the issue,
risk or change request a decision settles (of the same project), and the filtered log of one project."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import Field
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.clock import utcnow
from tracker.core.errors import FormError
from tracker.core.forms import OptionalDate, OptionalInt
from tracker.projects.calendar import project_today
from tracker.projects.permissions import Perm
from tracker.projects.service import Access, load_record, record_in
from tracker.register import common
from tracker.register.changes.models import ChangeRequest
from tracker.register.decisions.models import LoggedDecision, LoggedDecisionDeliverable
from tracker.register.issues.models import Issue
from tracker.register.meetings.models import Meeting
from tracker.register.risks.models import Risk

# --- create and edit --------------------------------------------------------------------------------------


class DecisionForm(common.RecordForm):
    context: str = Field(default="", max_length=8000)
    options: str = Field(default="", max_length=4000)
    decided_by: str = Field(default="", max_length=200)
    decided_by_id: OptionalInt = None
    decided_on: OptionalDate = None
    issue_id: OptionalInt = None
    risk_id: OptionalInt = None
    change_id: OptionalInt = None
    meeting_id: OptionalInt = None


LABELS = {
    "code": "Code",
    "title": "Decision",
    "context": "Context",
    "options": "Options considered",
    "decided_by": "Decided by",
    "decided_by_id": "Decided by (member)",
    "decided_on": "Decided on",
    "issue_id": "Issue",
    "risk_id": "Risk",
    "change_id": "Change request",
    "meeting_id": "Meeting",
    "meeting": "Meeting",
    "issue": "Issue",
    "risk": "Risk",
    "change": "Change request",
    "deliverable_ids": "Deliverables",
    "deliverables": "Deliverables",
}
DecisionForm.labels = LABELS
WORDS: dict[str, dict[str, str]] = {}
history.register(nouns={"logged_decision": "decision"}, terms={"logged_decision": history.Terms(LABELS, WORDS)})

FIELDS = (
    "code",
    "title",
    "context",
    "options",
    "decided_by",
    "decided_by_id",
    "decided_on",
    "issue_id",
    "risk_id",
    "change_id",
    "meeting_id",
)
TEXT = (
    LoggedDecision.code,
    LoggedDecision.title,
    LoggedDecision.context,
    LoggedDecision.options,
    LoggedDecision.decided_by,
)
# The records a decision may come from: form field -> (model, its noun)
SOURCES = {
    "issue_id": (Issue, "issue"),
    "risk_id": (Risk, "risk"),
    "change_id": (ChangeRequest, "change request"),
    "meeting_id": (Meeting, "meeting"),
}
# The history names them by code, not id (an id there would read as a person's)
AUDITED = tuple(f for f in FIELDS if f not in SOURCES)


def check_rules(form: DecisionForm, today: date) -> None:
    """What a decision's form cannot check alone; imports check every row by it too."""
    errors = {}
    if not form.decided_by.strip() and form.decided_by_id is None:
        errors["decided_by"] = "Say who decided: a person or a body, such as the steering committee."
    if form.decided_on and form.decided_on > today:
        errors["decided_on"] = "The log records decisions already taken: choose today or an earlier day."
    if errors:
        raise FormError(errors)


def _check_sources(db: Session, project_id: int, form: DecisionForm) -> None:
    """The issue, risk and change request a decision came from are records of its own project."""
    errors = {}
    for name, (model, noun) in SOURCES.items():
        wanted = getattr(form, name)
        if wanted is not None and db.exec(select(model.project_id).where(model.id == wanted)).first() != project_id:
            errors[name] = f"Choose a {noun} of this project."
    if errors:
        raise FormError(errors)


def _codes(db: Session, record: Any) -> dict[str, str | None]:
    """The codes of the issue, risk and change request a decision (or its form) names: {"issue": "I-004", ...}."""
    out = {}
    for name, (model, _) in SOURCES.items():
        wanted = getattr(record, name)
        out[name.removesuffix("_id")] = (
            db.exec(select(model.code).where(model.id == wanted)).first() if wanted else None
        )
    return out


def _values(form: DecisionForm) -> dict[str, Any]:
    return form.model_dump(include=set(FIELDS) - {"code", "decided_on"}, mode="json") | {
        "decided_by": form.decided_by.strip()
    }


def form_values(db: Session, decision: LoggedDecision) -> dict[str, Any]:
    return common.form_values(db, decision, FIELDS, LoggedDecisionDeliverable)


def _checked(db: Session, access: Access, form: DecisionForm, decision: LoggedDecision | None = None) -> Any:
    code, links = common.check_form(db, LoggedDecision, access.project, form, "D", decision)
    common.check_owner(db, access.project.id, form.decided_by_id, "decided_by_id")
    _check_sources(db, access.project.id, form)
    return code, links


def create(db: Session, actor: Principal, access: Access, form: DecisionForm, imported: bool = False) -> LoggedDecision:
    """`imported`: brought in from a spreadsheet (a decision's rules are the same either way)."""
    access.require(Perm.EDIT_REGISTER)
    today = project_today(access.project)
    check_rules(form, today)
    code, links = _checked(db, access, form)
    decision = LoggedDecision(
        project_id=access.project.id,
        code=code,
        decided_on=form.decided_on or today,
        recorded_by_id=actor.id,
        **_values(form),
    )
    came_from = {k: [None, code] for k, code in _codes(db, decision).items() if code}
    common.created(db, actor, decision, AUDITED, LoggedDecisionDeliverable, links, came_from)
    return decision


def update(
    db: Session,
    actor: Principal,
    access: Access,
    decision: LoggedDecision,
    form: DecisionForm,
    imported: bool = False,
) -> LoggedDecision:
    access.require(Perm.EDIT_REGISTER)
    decision.check_seen(form.version, audit.snapshot(decision, FIELDS))
    decided_on = form.decided_on or decision.decided_on
    check_rules(form.model_copy(update={"decided_on": decided_on}), project_today(access.project))
    code, links = _checked(db, access, form, decision)
    before, after = _codes(db, decision), _codes(db, form)  # read before the edit: a query would flush it

    def apply() -> None:
        for name, value in (_values(form) | {"code": code, "decided_on": decided_on}).items():
            setattr(decision, name, value)

    changes = common.edited(db, decision, AUDITED, LoggedDecisionDeliverable, links, apply)
    changes |= {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        decision.updated_at = utcnow()
        common.record_event(db, actor, decision, "update", changes)
    db.flush()
    return decision


def source_choices(db: Session, project_id: int) -> dict[str, list[tuple[int, str]]]:
    """The issues, risks and change requests of the project a decision may come from, for the form."""
    out = {}
    for name, (model, _) in SOURCES.items():
        stmt = select(model.id, model.code, model.title).where(model.project_id == project_id)
        out[name] = [(i, f"{code} · {title}") for i, code, title in db.exec(stmt.order_by(model.code))]
    return out


# --- loading -------------------------------------------------------------------------------------------------


def get_for(db: Session, access: Access, decision_id: int) -> LoggedDecision:
    return record_in(db, access, LoggedDecision, decision_id, "decision")


def load_for(
    db: Session, user: Principal, decision_id: int, perm: Perm = Perm.VIEW_REGISTER
) -> tuple[Access, LoggedDecision]:
    """A decision by id for `user`: 404 unless they may see its project, 403 when they lack `perm`."""
    return load_record(db, user, LoggedDecision, decision_id, perm, "decision")


# --- the register list ---------------------------------------------------------------------------------------

# Every sort ends in the code, unique in a project, so the order is total without an id tie-break.
SORTS = {
    "decided": (LoggedDecision.decided_on, LoggedDecision.code),
    "code": (LoggedDecision.code,),
}
Recorder = aliased(User, name="decision_recorder")
FromIssue = aliased(Issue, name="decision_issue")
FromRisk = aliased(Risk, name="decision_risk")
FromChange = aliased(ChangeRequest, name="decision_change")


class DecisionQuery(common.ListQuery):
    sorts = SORTS

    since: OptionalDate = None
    until: OptionalDate = None
    deliverable: OptionalInt = None
    sort: str = "-decided"


def decider(named: str, member: str | None) -> str:
    """Who decided, in words: the name or body given, and the member when one is named besides."""
    if named and member and member != named:
        return f"{named} ({member})"
    return named or member or ""


@dataclass(frozen=True)
class DecisionRow:
    decision: LoggedDecision
    decided_by_name: str | None  # the member who decided, if one is named
    recorded_by_name: str | None
    issue_code: str | None
    risk_code: str | None
    change_code: str | None

    @property
    def record(self) -> LoggedDecision:
        return self.decision

    @property
    def decider(self) -> str:
        return decider(self.decision.decided_by, self.decided_by_name)

    def extras(self) -> dict[str, Any]:
        """What the row works out beyond the decision's own fields (the API answers them too)."""
        return {
            "decided_by_name": self.decided_by_name,
            "recorded_by_name": self.recorded_by_name,
            "issue_code": self.issue_code,
            "risk_code": self.risk_code,
            "change_code": self.change_code,
        }


def _filters(query: DecisionQuery) -> list[Any]:
    """The filters a decision list has beyond every register's (words, owner): the days and a deliverable."""
    where: list[Any] = []
    if query.since:
        where.append(col(LoggedDecision.decided_on) >= query.since)
    if query.until:
        where.append(col(LoggedDecision.decided_on) <= query.until)
    if query.deliverable:
        linked = select(LoggedDecisionDeliverable.decision_id).where(
            LoggedDecisionDeliverable.deliverable_id == query.deliverable
        )
        where.append(col(LoggedDecision.id).in_(linked))
    if query.owner:
        where.append(LoggedDecision.decided_by_id == query.owner)
    return where


def search(
    db: Session, access: Access, query: DecisionQuery, part: common.Part = common.Part()
) -> tuple[list[DecisionRow], int]:
    """The filtered, sorted decisions of one project in two queries whatever their number (page, API, exports)."""
    where = common.list_where(LoggedDecision, access, query, part, (), TEXT) + _filters(query)
    stmt = (
        select(LoggedDecision, User.full_name, Recorder.full_name, FromIssue.code, FromRisk.code, FromChange.code)
        .outerjoin(User, col(User.id) == LoggedDecision.decided_by_id)
        .outerjoin(Recorder, col(Recorder.id) == LoggedDecision.recorded_by_id)
        .outerjoin(FromIssue, col(FromIssue.id) == LoggedDecision.issue_id)
        .outerjoin(FromRisk, col(FromRisk.id) == LoggedDecision.risk_id)
        .outerjoin(FromChange, col(FromChange.id) == LoggedDecision.change_id)
    )
    found, total = common.page_of(db, LoggedDecision, stmt, where, query, part)
    return [DecisionRow(*row) for row in found], total
