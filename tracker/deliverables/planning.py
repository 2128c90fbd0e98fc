"""Planning a deliverable: its plan (code, title, dates, review lead, payment) and its acceptance criteria."""

from __future__ import annotations

import re
from decimal import Decimal

from pydantic import Field, field_validator
from sqlmodel import Session, col, select

from tracker.accounts.service import Principal
from tracker.audit import service as audit
from tracker.core.clock import utcnow
from tracker.core.errors import Conflict, Forbidden, FormError
from tracker.core.forms import Form, OptionalDate, OptionalInt
from tracker.deliverables import criteria, workflow
from tracker.deliverables.models import (
    Criterion,
    Deliverable,
    DeliverableType,
)
from tracker.deliverables.service import LABELS
from tracker.deliverables.workflow import Status
from tracker.projects.models import Membership
from tracker.projects.permissions import Perm, roles_with
from tracker.projects.service import Access

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")


class DeliverableForm(Form):
    labels = LABELS
    code: str = Field(min_length=1, max_length=20)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=8000)
    type: DeliverableType = DeliverableType.DOCUMENT
    due_date: OptionalDate = None
    owner_id: OptionalInt = None
    payment_amount: Decimal | None = Field(default=None, ge=0, le=Decimal("999999999999.99"), decimal_places=2)
    holdback_pct: Decimal | None = Field(default=None, ge=0, le=100, decimal_places=2)
    criteria: str = Field(default="", max_length=100_000)
    version: int | None = None

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not CODE_PATTERN.match(v):
            raise ValueError("Use letters, digits, dot, dash or underscore, e.g. D-07")
        return v.upper()

    @field_validator("payment_amount", "holdback_pct", mode="before")
    @classmethod
    def _blank_money(cls, v: object) -> object:
        if isinstance(v, str):
            v = v.replace(",", "").replace("$", "").replace("%", "").strip()
            return v or None
        return v

    @field_validator("criteria")
    @classmethod
    def _criteria(cls, v: str) -> str:
        if message := criteria.problem(criteria.parse(v)):
            raise ValueError(message)
        return v


FIELDS = ("code", "title", "description", "type", "due_date", "owner_id", "payment_amount", "holdback_pct")


def next_code(db: Session, project_id: int) -> str:
    """A suggestion for the next code: D-NN after the highest D-number in the project."""
    codes = db.exec(
        select(Deliverable.code).where(Deliverable.project_id == project_id, col(Deliverable.code).like("D-%"))
    ).all()
    numbers = [int(c[2:]) for c in codes if c[2:].isdigit()]
    return f"D-{max(numbers, default=0) + 1:02d}"


def _check_owner(db: Session, project_id: int, owner_id: int | None) -> None:
    if owner_id is None:
        return
    member = db.exec(
        select(Membership.role).where(Membership.project_id == project_id, Membership.user_id == owner_id)
    ).first()
    if member not in roles_with(Perm.REVIEW):
        raise FormError({"owner_id": "The review lead must be a manager or staff member of this project."})


def create(db: Session, actor: Principal, access: Access, form: DeliverableForm) -> Deliverable:
    access.require(Perm.PLAN_DELIVERABLES)
    project = access.project
    if db.exec(
        select(Deliverable.id).where(Deliverable.project_id == project.id, Deliverable.code == form.code)
    ).first():
        raise FormError({"code": f"{form.code} already exists in {project.key}."})
    _check_owner(db, project.id, form.owner_id)
    deliverable = Deliverable(project_id=project.id, **form.model_dump(include=set(FIELDS)))
    deliverable.type = form.type.value
    db.add(deliverable)
    db.flush()
    texts = criteria.parse(form.criteria)
    rows = [Criterion(deliverable_id=deliverable.id, position=n, text=text) for n, text in enumerate(texts, start=1)]
    db.add_all(rows)
    db.flush()
    criteria.start(db, deliverable, rows)
    changes = {f: [None, v] for f, v in audit.snapshot(deliverable, FIELDS).items() if v not in (None, "")}
    if texts:
        changes["criteria"] = [None, texts]
    audit.record(
        db,
        actor_id=actor.id,
        entity=deliverable,
        project_id=project.id,
        label=deliverable.code,
        action="create",
        changes=changes,
    )
    db.flush()
    return deliverable


def active_criteria(db: Session, deliverable_id: int) -> list[Criterion]:
    stmt = (
        select(Criterion)
        .where(Criterion.deliverable_id == deliverable_id, col(Criterion.retired_at).is_(None))
        .order_by(Criterion.position)
    )
    return list(db.exec(stmt))


def set_criteria(
    db: Session, actor: Principal, access: Access, deliverable: Deliverable, texts: list[str], bump: bool = True
) -> None:
    """Replace the ordered criteria. Before the first submission anyone who plans may; afterwards only a
    manager, and the old wording is retired, never deleted, so results already recorded keep their text."""
    access.require(Perm.PLAN_DELIVERABLES)
    if deliverable.current_version > 0 and not access.can(Perm.DECIDE):
        raise Forbidden(detail="After the first submission only a project manager may change the criteria.")
    if deliverable.status == Status.ACCEPTED or deliverable.status == Status.WITHDRAWN:
        raise Conflict(detail="The criteria of a closed deliverable cannot change.")
    if message := criteria.problem(texts):
        raise FormError({"criteria": message})
    current = active_criteria(db, deliverable.id)
    before = [c.text for c in current]
    if before == texts:
        return
    now = utcnow()
    kept = {c.text: c for c in current}
    rows = []
    for c in current:
        if c.text not in texts:
            if deliverable.current_version > 0:
                c.retired_at = now
            else:
                db.delete(c)
    for position, text in enumerate(texts, start=1):
        if text in kept:
            kept[text].position = position
            rows.append(kept[text])
        else:
            rows.append(Criterion(deliverable_id=deliverable.id, position=position, text=text))
            db.add(rows[-1])
    db.flush()
    _, changes = criteria.record_change(db, deliverable, rows, bump)
    audit.record(
        db,
        actor_id=actor.id,
        entity=deliverable,
        project_id=deliverable.project_id,
        label=deliverable.code,
        action="criteria",
        changes={"criteria": [before, texts], **changes},
    )
    db.flush()


def update(db: Session, actor: Principal, access: Access, deliverable: Deliverable, form: DeliverableForm) -> None:
    """Edit the plan. Criteria follow `set_criteria`'s rules; a closed deliverable is on the record as it was."""
    access.require(Perm.PLAN_DELIVERABLES)
    deliverable.check_seen(form.version, audit.snapshot(deliverable, FIELDS))
    if deliverable.status in workflow.FINAL:
        raise Conflict(detail="An accepted or withdrawn deliverable cannot be edited.")
    if form.code != deliverable.code:  # the record, its letters and its history are filed under the code
        raise FormError({"code": f"The code is fixed once planned; it stays {deliverable.code}."})
    _check_owner(db, deliverable.project_id, form.owner_id)
    before = audit.snapshot(deliverable, FIELDS)
    for field in FIELDS:
        setattr(deliverable, field, getattr(form, field))
    deliverable.type = form.type.value
    changes = audit.diff(before, audit.snapshot(deliverable, FIELDS))
    if changes:
        deliverable.updated_at = utcnow()
        audit.record(
            db,
            actor_id=actor.id,
            entity=deliverable,
            project_id=deliverable.project_id,
            label=deliverable.code,
            action="update",
            changes=changes,
        )
    texts = criteria.parse(form.criteria)
    if texts != [c.text for c in active_criteria(db, deliverable.id)]:
        set_criteria(db, actor, access, deliverable, texts, bump=not changes)  # one save moves the version once
    db.flush()
