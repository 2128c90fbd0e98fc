"""Conditions of a conditional acceptance, tracked one by one: each has a due date and an owner, and is confirmed met
by a manager with the evidence. Services never commit; closing the acceptance when the last one is met is the
deliverable service's (it moves the workflow and writes the decision)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import Field
from sqlmodel import Session, col, select

from tracker import clocks
from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import service as audit
from tracker.core.clock import utcnow
from tracker.core.errors import Conflict, FormError, NotFound
from tracker.core.forms import Form, OptionalInt
from tracker.deliverables.criteria import parse as parse_lines
from tracker.deliverables.models import Condition, Decision, Deliverable
from tracker.deliverables.workflow import Status
from tracker.projects.models import Membership
from tracker.projects.permissions import Perm
from tracker.projects.service import Access

MAX_CONDITIONS = 50
MAX_EVIDENCE = 4000


def check_owner(db: Session, project_id: int, owner_id: int | None, field: str = "owner_id") -> None:
    """An owner is a member of the project (the contractor's staff included: they usually owe the fix)."""
    if owner_id is None:
        return
    member = db.exec(
        select(Membership.id).where(Membership.project_id == project_id, Membership.user_id == owner_id)
    ).first()
    if member is None:
        raise FormError({field: "The owner must be a member of this project."})


def lines_of(text: str) -> list[str]:
    """The conditions a decision lists, one per line."""
    lines = parse_lines(text)
    if len(lines) > MAX_CONDITIONS:
        raise FormError({"conditions": f"At most {MAX_CONDITIONS} conditions, one per line."})
    if any(len(line) > 2000 for line in lines):
        raise FormError({"conditions": "Each condition may be at most 2000 characters."})
    return lines


def create_for(db: Session, decision: Decision, lines: list[str], due: date, owner_id: int | None) -> list[Condition]:
    rows = [
        Condition(
            deliverable_id=decision.deliverable_id,
            decision_id=decision.id,
            position=n,
            text=text,
            due_date=due,
            owner_id=owner_id,
        )
        for n, text in enumerate(lines, start=1)
    ]
    db.add_all(rows)
    db.flush()
    return rows


@dataclass(frozen=True)
class ConditionRow:
    condition: Condition
    owner_name: str | None
    met_by_name: str | None

    def overdue_days(self, today: date) -> int:
        return clocks.CONDITION.days_overdue(self.condition, today)


def of_deliverable(db: Session, deliverable_id: int) -> list[ConditionRow]:
    """Every condition ever set on the deliverable, by decision then position, in one query."""
    owner, met_by = User.__table__.alias("owner"), User.__table__.alias("met_by")
    stmt = (
        select(Condition, owner.c.full_name, met_by.c.full_name)
        .outerjoin(owner, owner.c.id == Condition.owner_id)
        .outerjoin(met_by, met_by.c.id == Condition.met_by_id)
        .where(Condition.deliverable_id == deliverable_id)
        .order_by(Condition.decision_id, Condition.position)
    )
    return [ConditionRow(c, o, m) for c, o, m in db.exec(stmt)]


def open_of(db: Session, deliverable_id: int) -> list[Condition]:
    return list(
        db.exec(
            select(Condition)
            .where(Condition.deliverable_id == deliverable_id, col(Condition.met_at).is_(None))
            .order_by(Condition.position)
        )
    )


def _get(db: Session, deliverable: Deliverable, condition_id: int) -> Condition:
    condition = db.get(Condition, condition_id)
    if condition is None or condition.deliverable_id != deliverable.id:
        raise NotFound(detail="No such condition on this deliverable.")
    return condition


def _open(deliverable: Deliverable, condition: Condition) -> None:
    if deliverable.status != Status.CONDITIONALLY_ACCEPTED or condition.met_at is not None:
        raise Conflict(
            detail=f"Condition {condition.position} is {'met' if condition.met_at else 'closed'}: "
            "it is on the record as it was."
        )


class ConditionForm(Form):
    due_date: date
    owner_id: OptionalInt = None
    version: int | None = None


def update(
    db: Session, actor: Principal, access: Access, deliverable: Deliverable, condition_id: int, form: ConditionForm
) -> Condition:
    """A manager moves an open condition's due date or gives it another owner."""
    access.require(Perm.DECIDE)
    condition = _get(db, deliverable, condition_id)
    condition.check_seen(form.version, {"due_date": condition.due_date.isoformat(), "owner_id": condition.owner_id})
    _open(deliverable, condition)
    check_owner(db, deliverable.project_id, form.owner_id)
    before = audit.snapshot(condition, ("due_date", "owner_id"))
    condition.due_date, condition.owner_id = form.due_date, form.owner_id
    changes = audit.diff(before, audit.snapshot(condition, ("due_date", "owner_id")))
    if changes:
        audit.record(
            db,
            actor_id=actor.id,
            entity=deliverable,
            project_id=deliverable.project_id,
            label=deliverable.code,
            action="update_condition",
            changes={f"condition {condition.position} {k.removesuffix('_id')}": v for k, v in changes.items()},
        )
        db.flush()
    return condition


class MetForm(Form):
    evidence: str = Field(default="", max_length=MAX_EVIDENCE)
    version: int | None = None


def confirm(
    db: Session, actor: Principal, access: Access, deliverable: Deliverable, condition: Condition, evidence: str
) -> None:
    """Record one condition as met: who confirmed it, when, and the evidence."""
    access.require(Perm.DECIDE)
    _open(deliverable, condition)
    evidence = evidence.strip()
    if not evidence:
        raise FormError({"evidence": "Say how the condition was met: the evidence, e.g. the document and page."})
    if len(evidence) > MAX_EVIDENCE:
        raise FormError({"evidence": f"At most {MAX_EVIDENCE} characters."})
    condition.met_at, condition.met_by_id, condition.evidence = utcnow(), actor.id, evidence
    audit.record(
        db,
        actor_id=actor.id,
        entity=deliverable,
        project_id=deliverable.project_id,
        label=deliverable.code,
        action="condition_met",
        changes={f"condition {condition.position}": [condition.text, evidence]},
    )
    db.flush()


def get(db: Session, deliverable: Deliverable, condition_id: int, seen: int | None) -> Condition:
    condition = _get(db, deliverable, condition_id)
    condition.check_seen(seen, {"met": condition.met_at is not None, "due_date": condition.due_date.isoformat()})
    return condition
