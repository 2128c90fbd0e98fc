"""Change request rules: who sees and raises which requests, the workflow's moves, and what an approval does: the
affected deliverables' due dates move by the schedule impact in business days, and the cost impact is shared
among their payments (so the holdback follows). Both are audited on each deliverable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from pydantic import Field, field_validator
from sqlalchemy import and_, true
from sqlmodel import Session, col, func, or_, select

from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.clock import utcnow
from tracker.core.errors import Conflict, Forbidden, FormError, NotFound
from tracker.core.forms import Form, OptionalDate
from tracker.core.web import money, options, show_date
from tracker.deliverables.models import Deliverable
from tracker.deliverables.workflow import FINAL
from tracker.projects.calendar import project_today, shift_due
from tracker.projects.models import Membership, Project
from tracker.projects.permissions import Perm, roles_with
from tracker.projects.service import Access, load_record
from tracker.register import common
from tracker.register.changes.models import (
    OPEN_CHANGE,
    PENDING,
    ChangeDeliverable,
    ChangeRequest,
    ChangeStatus,
    Side,
)
from tracker.register.changes.workflow import TRANSITIONS, Move, Transition

CENT = Decimal("0.01")
MAX_MONEY = Decimal("999999999999.99")
MAX_SHIFT = 260  # business days: about a year either way


# --- who sees and acts -----------------------------------------------------------------------------------------


def side_of(access: Access) -> Side:
    """The side a member speaks for: the contractor's staff always ask as the contractor."""
    return Side.CONTRACTOR if access.can(Perm.DELIVER) else Side.STATE


def visible_clause(access: Access) -> Any:
    """The contractor sees its own requests, and the State's once submitted; the State sees every request."""
    if side_of(access) == Side.STATE:
        return true()
    return or_(ChangeRequest.requested_by == Side.CONTRACTOR, ChangeRequest.status != ChangeStatus.DRAFT)


def may_see(access: Access, change: ChangeRequest) -> bool:
    return side_of(access) == Side.STATE or change.requested_by == Side.CONTRACTOR or change.status != "draft"


ONLY_THE_STATE = "Only the State edits a change request the State raised."


def acts_for(access: Access, change: ChangeRequest) -> bool:
    """May act as the requester: the State acts for any request (it records the contractor's letters too), the
    contractor only for its own."""
    return side_of(access) == Side.STATE or change.requested_by == Side.CONTRACTOR


def require_acts_for(access: Access, change: ChangeRequest) -> None:
    if not acts_for(access, change):
        raise Forbidden(detail=ONLY_THE_STATE)


# --- the form ---------------------------------------------------------------------------------------------------


class ChangeForm(common.RecordForm):
    description: str = Field(default="", max_length=8000)
    reason: str = Field(default="", max_length=4000)
    requested_by: Side = Side.STATE
    cost_impact: Decimal = Field(default=Decimal("0.00"), ge=-MAX_MONEY, le=MAX_MONEY, decimal_places=2)
    schedule_impact: int = Field(default=0, ge=-MAX_SHIFT, le=MAX_SHIFT)
    scope_impact: str = Field(default="", max_length=4000)
    raised_on: OptionalDate = None

    @field_validator("cost_impact", mode="before")
    @classmethod
    def _money(cls, v: Any) -> Any:
        """Money as people type it: 12,500, $12,500.00, -3000; blank is no cost impact."""
        if isinstance(v, str):
            v = v.replace(",", "").replace("$", "").strip() or "0"
            try:
                return Decimal(v)
            except InvalidOperation:
                raise ValueError("Enter an amount such as 12500 or -3000.50") from None
        return v

    @field_validator("schedule_impact", mode="before")
    @classmethod
    def _days(cls, v: Any) -> Any:
        return 0 if v in ("", None) else v

    @field_validator("deliverable_ids", mode="before")
    @classmethod
    def _list(cls, v: Any) -> Any:
        return common.as_list(v)


class DecisionForm(Form):
    rationale: str = Field(default="", max_length=4000)
    version: int


LABELS = {
    "code": "Code",
    "title": "Title",
    "description": "Description",
    "reason": "Reason",
    "requested_by": "Requested by",
    "cost_impact": "Cost impact",
    "schedule_impact": "Schedule impact (business days)",
    "scope_impact": "Scope impact",
    "status": "Status",
    "rationale": "Decision rationale",
    "raised_on": "Raised on",
    "submitted_on": "Submitted on",
    "decided_on": "Decided on",
    "deliverable_ids": "Affected deliverables",
    "deliverables": "Affected deliverables",
    "change": "Change request",
    "due_date": "Due date",
    "payment_amount": "Payment amount",
}
ChangeForm.labels = DecisionForm.labels = LABELS
WORDS = {
    "status": dict(options(list(ChangeStatus))),
    "requested_by": {Side.STATE: "The State", Side.CONTRACTOR: "The contractor"},
}
history.register(
    nouns={"change_request": "change request"},
    verbs={
        "submit": "submitted",
        "start_review": "started the review of",
        "approve": "approved",
        "reject": "rejected",
        "withdraw": "withdrew",
        "apply_change": "applied a change request to",
    },
    terms={
        "change_request": history.Terms(LABELS, WORDS | {"cost_impact": lambda v, _: money(v)}),
        # what an approval did to a deliverable, on the deliverable's trail
        "apply_change": history.Terms(LABELS, {"payment_amount": lambda v, _: money(v)}),
    },
)

FIELDS = (
    "code",
    "title",
    "description",
    "reason",
    "requested_by",
    "cost_impact",
    "schedule_impact",
    "scope_impact",
    "status",
    "rationale",
    "raised_on",
    "submitted_on",
    "decided_on",
)
CONTENT = ("title", "description", "reason", "requested_by", "cost_impact", "schedule_impact", "scope_impact")


def check_rules(form: ChangeForm, today: date) -> None:
    if form.raised_on and form.raised_on > today:
        raise FormError({"raised_on": "A change request is raised on a day that has come: choose today or earlier."})


def _check_open_deliverables(db: Session, ids: list[int]) -> None:
    final = db.exec(
        select(Deliverable.code).where(col(Deliverable.id).in_(ids), col(Deliverable.status).in_(sorted(FINAL)))
    ).all()
    if final:
        raise FormError(
            {"deliverable_ids": f"{', '.join(sorted(final))} is accepted or withdrawn: a change cannot move it."}
        )


def form_values(db: Session, change: ChangeRequest) -> dict[str, Any]:
    return common.form_values(db, change, FIELDS, ChangeDeliverable)


def create(db: Session, actor: Principal, access: Access, form: ChangeForm, imported: bool = False) -> ChangeRequest:
    """A new draft. The contractor's staff always ask as the contractor."""
    access.require(Perm.RAISE_CHANGE)
    project = access.project
    today = project_today(project)
    check_rules(form, today)
    code, links = common.check_form(db, ChangeRequest, project, form, "CR")
    _check_open_deliverables(db, list(links))
    side = side_of(access)
    change = ChangeRequest(
        project_id=project.id,
        code=code,
        raised_on=form.raised_on or today,
        raised_by_id=actor.id,
        **form.model_dump(include=set(CONTENT)),
    )
    if side == Side.CONTRACTOR:
        change.requested_by = Side.CONTRACTOR
    common.created(db, actor, change, FIELDS, ChangeDeliverable, links)
    return change


def update(
    db: Session, actor: Principal, access: Access, change: ChangeRequest, form: ChangeForm, imported: bool = False
) -> ChangeRequest:
    """A draft's content, by its side. Once submitted, the request stands as asked: withdraw it and raise another."""
    access.require(Perm.RAISE_CHANGE)
    require_acts_for(access, change)
    change.check_seen(form.version, audit.snapshot(change, FIELDS))
    if change.status != ChangeStatus.DRAFT:
        raise Conflict(
            detail=f"{change.code} is {WORDS['status'][change.status].lower()}: a change request is edited only as a "
            "draft. Withdraw it and raise another to change what it asks."
        )
    project = access.project
    check_rules(form.model_copy(update={"raised_on": form.raised_on or change.raised_on}), project_today(project))
    code, links = common.check_form(db, ChangeRequest, project, form, "CR", change)
    _check_open_deliverables(db, list(links))

    def apply() -> None:
        for name, value in form.model_dump(include=set(CONTENT)).items():
            setattr(change, name, value)
        if side_of(access) == Side.CONTRACTOR:
            change.requested_by = Side.CONTRACTOR
        change.code = code
        change.raised_on = form.raised_on or change.raised_on

    if changes := common.edited(db, change, FIELDS, ChangeDeliverable, links, apply):
        common.record_event(db, actor, change, "update", changes)
    db.flush()
    return change


# --- the workflow -----------------------------------------------------------------------------------------------


def moves_for(access: Access, change: ChangeRequest) -> list[tuple[Move, Transition]]:
    """The moves this member may make on the request now: the buttons its page shows."""
    return [
        (move, t) for (move, status), t in TRANSITIONS.items() if status == change.status and _may(access, change, t)
    ]


def _may(access: Access, change: ChangeRequest, t: Transition) -> bool:
    """The move's permission, and for the requester's moves, acting for the side that asked."""
    return access.can(t.perm) and (not t.requester or acts_for(access, change))


def move(
    db: Session, actor: Principal, access: Access, change: ChangeRequest, action: Move, form: DecisionForm
) -> ChangeRequest:
    """Submit, start the review, approve, reject or withdraw: 409 from the wrong status or a stale page, 403 for
    the wrong person, 422 without the rationale a decision needs."""
    t = TRANSITIONS.get((action, ChangeStatus(change.status)))
    change.check_seen(form.version, audit.snapshot(change, FIELDS))
    if t is None:
        raise Conflict(
            detail=f"{change.code} is {WORDS['status'][change.status].lower()}: that is not a step it can take now."
        )
    if not _may(access, change, t):  # the contractor withdraws or submits only its own requests
        raise Forbidden(detail="Your role in this project does not allow that.")
    if t.rationale and not form.rationale.strip():
        raise FormError({"rationale": "Give the reasons for the decision: they go on the record and to the requester."})
    today = project_today(access.project)
    before = audit.snapshot(change, FIELDS)
    change.status = t.to
    if t.to == ChangeStatus.SUBMITTED:
        change.submitted_on = today
    if t.rationale:
        change.rationale, change.decided_on, change.decided_by_id = form.rationale.strip(), today, actor.id
    if t.to == ChangeStatus.APPROVED:
        _apply(db, actor, access, change)
    change.updated_at = utcnow()
    db.flush()
    common.record_event(db, actor, change, action.value, audit.diff(before, audit.snapshot(change, FIELDS)))
    db.flush()
    return change


def split(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """`total` shared in proportion to the weights (evenly when they are all zero), in cents; the rounding
    remainder goes to the last share, so the shares always add up to the total."""
    if not weights:
        return []
    whole = sum(weights, Decimal(0))
    parts = weights if whole else [Decimal(1)] * len(weights)
    whole = whole or Decimal(len(weights))
    shares = [(total * w / whole).quantize(CENT, ROUND_HALF_EVEN) for w in parts[:-1]]
    return [*shares, total - sum(shares, Decimal(0))]


def _apply(db: Session, actor: Principal, access: Access, change: ChangeRequest) -> None:
    """The approval's consequences on each affected deliverable, kept on the link and audited on the deliverable."""
    rows = db.exec(
        select(ChangeDeliverable, Deliverable)
        .join(Deliverable, col(Deliverable.id) == ChangeDeliverable.deliverable_id)
        .where(ChangeDeliverable.change_id == change.id)
        .order_by(Deliverable.code)
    ).all()
    final = [d.code for _, d in rows if d.status in FINAL]
    if final:
        raise Conflict(detail=f"{', '.join(final)} is accepted or withdrawn since: take it off the request first.")
    shares = split(change.cost_impact, [d.payment_amount or Decimal(0) for _, d in rows])
    for (link, d), share in zip(rows, shares, strict=True):
        amount = d.payment_amount if not share else (d.payment_amount or Decimal(0)) + share
        if amount is not None and amount < 0:
            raise Conflict(
                detail=f"The cost impact would make {d.code}'s payment negative ({money(amount)}); correct the request."
            )
        due = shift_due(access.project, d.due_date, change.schedule_impact) if d.due_date else None
        link.due_before, link.due_after = d.due_date, due
        link.amount_before, link.amount_after = d.payment_amount, amount
        moved = {
            "due_date": [d.due_date.isoformat() if d.due_date else None, due.isoformat() if due else None],
            "payment_amount": [str(d.payment_amount) if d.payment_amount is not None else None, str(amount)],
        }
        moved = {k: v for k, v in moved.items() if v[0] != v[1]}
        d.due_date, d.payment_amount, d.updated_at = due, amount, utcnow()
        db.add(link)
        audit.record(
            db,
            actor_id=actor.id,
            entity=d,
            project_id=d.project_id,
            label=d.code,
            action="apply_change",
            changes={"change": [None, change.code], **moved},
        )


# --- loading ----------------------------------------------------------------------------------------------------


def get_for(db: Session, access: Access, change_id: int) -> ChangeRequest:
    change = db.get(ChangeRequest, change_id)
    if change is None or change.project_id != access.project.id or not may_see(access, change):
        raise NotFound(detail="No such change request in this project.")
    return change


def load_for(
    db: Session, user: Principal, change_id: int, perm: Perm = Perm.VIEW_CHANGES
) -> tuple[Access, ChangeRequest]:
    access, change = load_record(db, user, ChangeRequest, change_id, perm, "change request")
    if not may_see(access, change):
        raise NotFound(detail="No such change request.")
    return access, change


# --- the register list -------------------------------------------------------------------------------------------

SORTS = {
    "code": (ChangeRequest.code,),
    "raised": (ChangeRequest.raised_on, ChangeRequest.code),
    "cost": (ChangeRequest.cost_impact, ChangeRequest.code),
    "schedule": (ChangeRequest.schedule_impact, ChangeRequest.code),
}


class ChangeQuery(common.ListQuery):
    statuses = tuple(ChangeStatus)
    group = "open"
    sorts = SORTS

    requested_by: Side | None = None
    sort: str = "-raised"


@dataclass(frozen=True)
class ChangeRow:
    change: ChangeRequest
    raised_by: str | None
    decided_by: str | None
    deliverables: int

    @property
    def record(self) -> ChangeRequest:
        return self.change

    def extras(self) -> dict[str, Any]:
        return {"raised_by_name": self.raised_by, "decided_by_name": self.decided_by}


def search(
    db: Session, access: Access, query: ChangeQuery, part: common.Part = common.Part()
) -> tuple[list[ChangeRow], int]:
    """The filtered change register, as this member may see it, in two queries."""
    text = (ChangeRequest.code, ChangeRequest.title, ChangeRequest.description)
    where = [visible_clause(access), *common.list_where(ChangeRequest, access, query, part, OPEN_CHANGE, text)]
    if query.requested_by:
        where.append(ChangeRequest.requested_by == query.requested_by.value)
    if query.owner:
        where.append(ChangeRequest.raised_by_id == query.owner)
    if query.overdue:  # awaiting a decision
        where.append(col(ChangeRequest.status).in_(PENDING))
    raiser, decider = User.__table__.alias("raiser"), User.__table__.alias("decider")
    affected = (
        select(func.count())
        .where(ChangeDeliverable.change_id == ChangeRequest.id)
        .correlate(ChangeRequest)
        .scalar_subquery()
    )
    stmt = (
        select(ChangeRequest, raiser.c.full_name, decider.c.full_name, affected)
        .outerjoin(raiser, raiser.c.id == ChangeRequest.raised_by_id)
        .outerjoin(decider, decider.c.id == ChangeRequest.decided_by_id)
    )
    found, total = common.page_of(db, ChangeRequest, stmt, where, query, part)
    return [ChangeRow(c, r, d, n or 0) for c, r, d, n in found], total


# --- what other pages show ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Moved:
    """A deliverable's due date or payment as an approved change request changed it."""

    change_id: int
    code: str
    decided_on: date | None
    due_before: date | None
    due_after: date | None
    amount_before: Decimal | None
    amount_after: Decimal | None


def _moved(db: Session, *where: Any) -> list[tuple[int, Moved]]:
    stmt = (
        select(ChangeRequest.id, ChangeRequest.code, ChangeRequest.decided_on, ChangeDeliverable)
        .join(ChangeDeliverable, col(ChangeDeliverable.change_id) == ChangeRequest.id)
        .where(ChangeRequest.status == ChangeStatus.APPROVED, *where)
        .order_by(ChangeDeliverable.deliverable_id, ChangeRequest.decided_on, ChangeRequest.id)
    )
    return [
        (
            link.deliverable_id,
            Moved(i, code, on, link.due_before, link.due_after, link.amount_before, link.amount_after),
        )
        for i, code, on, link in db.exec(stmt)
    ]


def moved(db: Session, deliverable_id: int) -> list[Moved]:
    """What approved change requests did to a deliverable, oldest first (its page says "moved by CR-004")."""
    return [m for _, m in _moved(db, ChangeDeliverable.deliverable_id == deliverable_id)]


def moved_across(db: Session, accesses: list[Access], deliverable_ids: list[int]) -> dict[int, list[Moved]]:
    """`moved` for many deliverables, each project's as its reader may see change requests (nothing where they may
    not), by deliverable, in one query."""
    seen = [
        and_(ChangeRequest.project_id == a.project.id, visible_clause(a)) for a in accesses if a.can(Perm.VIEW_CHANGES)
    ]
    found: dict[int, list[Moved]] = {}
    if seen and deliverable_ids:
        for deliverable_id, m in _moved(db, col(ChangeDeliverable.deliverable_id).in_(deliverable_ids), or_(*seen)):
            found.setdefault(deliverable_id, []).append(m)
    return found


def outcome(db: Session, change_id: int) -> dict[int, ChangeDeliverable]:
    """{deliverable id: its link}, with what the approval did to it once approved."""
    stmt = select(ChangeDeliverable).where(ChangeDeliverable.change_id == change_id)
    return {link.deliverable_id: link for link in db.exec(stmt)}


@dataclass(frozen=True)
class Waiting:
    project_key: str
    change: ChangeRequest
    today: date


def _waiting(db: Session, user: Principal, perm: Perm, statuses: tuple[str, ...], mine: bool) -> list[Waiting]:
    projects = select(Membership.project_id).where(
        Membership.user_id == user.id, col(Membership.role).in_(sorted(roles_with(perm)))
    )
    where = [col(ChangeRequest.project_id).in_(projects), col(ChangeRequest.status).in_(statuses)]
    if mine:
        where.append(ChangeRequest.raised_by_id == user.id)
    stmt = (
        select(ChangeRequest, Project)
        .join(Project, col(Project.id) == ChangeRequest.project_id)
        .where(*where)
        .order_by(ChangeRequest.submitted_on, ChangeRequest.raised_on, Project.key, ChangeRequest.code)
        .limit(50)
    )
    today: dict[int, date] = {}
    return [Waiting(p.key, c, today.setdefault(p.id, project_today(p))) for c, p in db.exec(stmt)]


def summary(change: ChangeRequest) -> str:
    """One line of what the request asks: its status, cost and schedule impact."""
    days = change.schedule_impact
    parts = [
        WORDS["status"][change.status].lower(),
        f"cost {money(change.cost_impact)}" if change.cost_impact else "no cost impact",
        f"{days:+d} business day{'s' if abs(days) != 1 else ''}" if days else "no schedule impact",
    ]
    if change.submitted_on:
        parts.insert(1, f"submitted {show_date(change.submitted_on)}")
    return ", ".join(parts)


def awaiting_decision(db: Session, user: Principal) -> list[Waiting]:
    """Requests submitted or under review in the projects where this user decides changes."""
    return _waiting(db, user, Perm.DECIDE_CHANGE, PENDING, mine=False)


def my_drafts(db: Session, user: Principal) -> list[Waiting]:
    """The user's own drafts, not yet submitted."""
    return _waiting(db, user, Perm.RAISE_CHANGE, (ChangeStatus.DRAFT,), mine=True)


def for_report(db: Session, project_id: int, start: date, end: date) -> dict[str, list[dict[str, Any]]]:
    """The status report's changes: those approved in the period and those awaiting a decision at its end."""
    stmt = select(ChangeRequest).where(
        ChangeRequest.project_id == project_id,
        or_(
            (ChangeRequest.status == ChangeStatus.APPROVED)
            & (col(ChangeRequest.decided_on) >= start)
            & (col(ChangeRequest.decided_on) <= end),
            col(ChangeRequest.status).in_(PENDING),
        ),
    )
    found = list(db.exec(stmt.order_by(ChangeRequest.code)))
    links = common.linked_deliverables(db, ChangeDeliverable, "change_id", [c.id for c in found])

    def item(c: ChangeRequest) -> dict[str, Any]:
        return {
            "id": c.id,
            "code": c.code,
            "title": c.title,
            "requested_by": c.requested_by,
            "status": c.status,
            "cost_impact": str(c.cost_impact),
            "schedule_impact": c.schedule_impact,
            "submitted_on": c.submitted_on.isoformat() if c.submitted_on else None,
            "decided_on": c.decided_on.isoformat() if c.decided_on else None,
            "deliverables": [code for _, code in links[c.id]],
        }

    return {
        "approved": [item(c) for c in found if c.status == ChangeStatus.APPROVED],
        "awaiting": [item(c) for c in found if c.status in PENDING],
    }
