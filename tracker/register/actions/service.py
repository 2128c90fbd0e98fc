"""Action item rules: adding them under a risk's plan, an issue or a meeting's minutes, editing, completing, overdue,
and my items. Their changes are recorded in the audit trail of the risk, issue or meeting they belong to, so each
record's history tells the whole story."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field
from sqlmodel import Session, col, func, select

from tracker import clocks
from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.clock import utcnow
from tracker.core.errors import FormError
from tracker.core.forms import Checkbox, Form, OptionalDate, OptionalInt
from tracker.core.web import options
from tracker.projects.calendar import project_today
from tracker.projects.models import Membership, Project
from tracker.projects.permissions import Perm
from tracker.projects.service import Access, load_record, record_in
from tracker.register import common
from tracker.register.actions.models import ActionItem, Plan
from tracker.register.issues.models import Issue
from tracker.register.meetings.models import Meeting
from tracker.register.risks.models import Risk

Parent = Risk | Issue | Meeting
# The code of an item's parent, in a query that joined them (with_parents)
PARENT_CODE = func.coalesce(Risk.code, Issue.code, Meeting.code)


def is_overdue(item: ActionItem, today: date) -> bool:
    """Open and past its due date: the action clock's rule. `overdue_clause` (and the risk register's `overdue`
    filter) is the same rule in SQL."""
    return clocks.ACTION.overdue(item, today)


def overdue_clause(today: date) -> Any:
    return clocks.ACTION.overdue_clause(today)


class ActionForm(Form):
    description: str = Field(min_length=1, max_length=2000)
    owner_id: OptionalInt = None
    due_date: OptionalDate = None
    plan: Plan | None = None  # under a risk: mitigation or contingency
    done: Checkbox = False
    done_on: OptionalDate = None  # the day it was done, when recorded later (an import); blank: now
    version: int | None = None


FIELDS = ("description", "owner_id", "due_date", "plan")
# The action item form's labels; the history (audit/history.py) reads the item's changes on its risk's or issue's
# trail with them, and names the item by its description ("action": "12: Call the vendor" from update).
LABELS = {
    "description": "Action",
    "owner_id": "Owner",
    "due_date": "Due",
    "plan": "Plan",
    "done": "Done",
    "action": "Action item",
}
ActionForm.labels = LABELS
WORDS = {"plan": dict(options(list(Plan))), "action": lambda v, _: re.sub(r"^\d+: ", "", str(v))}
history.register(  # recorded on the risk's or issue's trail
    verbs={"add_action": "added an action item to", "update_action": "updated an action item of"},
    terms=dict.fromkeys(("add_action", "update_action"), history.Terms(LABELS, WORDS)),
)


def _done_at(project: Project, form: ActionForm) -> datetime:
    if form.done_on is None:
        return utcnow()
    if form.done_on > project_today(project):
        raise FormError({"done_on": "An action item cannot be done on a day still to come."})
    # Midday on the project's calendar, kept in UTC like every stored moment.
    return datetime.combine(form.done_on, time(12), ZoneInfo(project.timezone)).astimezone(UTC)


def parent_of(item: ActionItem) -> tuple[str, int]:
    """(the URL segment of the item's record, its id): a risk, an issue or a meeting."""
    if item.risk_id:
        return "risks", item.risk_id
    if item.issue_id:
        return "issues", item.issue_id
    return "meetings", item.meeting_id


def with_parents(stmt: Any) -> Any:
    """The query with each item's parent joined, whichever of the three it is, for PARENT_CODE."""
    return (
        stmt.outerjoin(Risk, col(Risk.id) == ActionItem.risk_id)
        .outerjoin(Issue, col(Issue.id) == ActionItem.issue_id)
        .outerjoin(Meeting, col(Meeting.id) == ActionItem.meeting_id)
    )


def _parent(db: Session, item: ActionItem) -> Parent:
    kind, parent_id = parent_of(item)
    return db.get({"risks": Risk, "issues": Issue, "meetings": Meeting}[kind], parent_id)


def add(db: Session, actor: Principal, access: Access, parent: Parent, form: ActionForm) -> ActionItem:
    access.require(Perm.EDIT_REGISTER)
    if isinstance(parent, Risk):
        if form.plan not in (Plan.MITIGATION, Plan.CONTINGENCY):
            raise FormError({"plan": "Choose the mitigation or the contingency plan."})
        plan, link = form.plan, {"risk_id": parent.id}
    elif isinstance(parent, Meeting):
        plan, link = Plan.MEETING, {"meeting_id": parent.id}
    else:
        plan, link = Plan.ISSUE, {"issue_id": parent.id}
    common.check_owner(db, access.project.id, form.owner_id)
    item = ActionItem(
        project_id=access.project.id,
        plan=plan.value,
        description=form.description,
        owner_id=form.owner_id,
        due_date=form.due_date,
        **link,
    )
    if form.done:  # recorded already done
        item.done_at = _done_at(access.project, form)
    db.add(item)
    db.flush()
    changes = {f"action {item.id}": [None, item.description], "plan": [None, item.plan]}
    if item.owner_id:
        changes["owner_id"] = [None, item.owner_id]
    if item.due_date:
        changes["due_date"] = [None, item.due_date]
    if item.done_at:
        changes["done"] = [None, True]
    audit.record(
        db,
        actor_id=actor.id,
        entity=parent,
        project_id=access.project.id,
        label=parent.code,
        action="add_action",
        changes=changes,
    )
    return item


def update(db: Session, actor: Principal, access: Access, item: ActionItem, form: ActionForm) -> ActionItem:
    access.require(Perm.EDIT_REGISTER)
    item.check_seen(form.version, audit.snapshot(item, FIELDS) | {"done": item.done_at is not None})
    common.check_owner(db, access.project.id, form.owner_id)
    done_at = _done_at(access.project, form) if form.done and item.done_at is None else item.done_at
    before = audit.snapshot(item, FIELDS) | {"done": item.done_at is not None}
    item.description, item.owner_id, item.due_date = form.description, form.owner_id, form.due_date
    if item.risk_id and form.plan in (Plan.MITIGATION, Plan.CONTINGENCY):
        item.plan = form.plan.value
    item.done_at = done_at if form.done else None
    changes = audit.diff(before, audit.snapshot(item, FIELDS) | {"done": item.done_at is not None})
    if changes:
        parent = _parent(db, item)
        audit.record(
            db,
            actor_id=actor.id,
            entity=parent,
            project_id=access.project.id,
            label=parent.code,
            action="update_action",
            changes={"action": [None, f"{item.id}: {item.description}"[:200]], **changes},
        )
    db.flush()
    return item


def set_done(
    db: Session, actor: Principal, access: Access, item: ActionItem, done: bool, version: int | None
) -> ActionItem:
    values = audit.snapshot(item, FIELDS) | {"done": done, "version": version}
    return update(db, actor, access, item, ActionForm.model_validate(values))


# --- loading -------------------------------------------------------------------------------------------------


def get_for(db: Session, access: Access, item_id: int) -> ActionItem:
    return record_in(db, access, ActionItem, item_id, "action item")


def load_for(db: Session, user: Principal, item_id: int, perm: Perm = Perm.VIEW_REGISTER) -> tuple[Access, ActionItem]:
    """A action item by id for `user`: 404 unless they may see its project, 403 when they lack `perm`."""
    return load_record(db, user, ActionItem, item_id, perm, "action item")


@dataclass(frozen=True)
class ActionRow:
    item: ActionItem
    owner_name: str | None
    overdue: bool


def row_of(db: Session, item: ActionItem, today: date) -> ActionRow:
    owner = db.get(User, item.owner_id) if item.owner_id else None
    return ActionRow(item, owner.full_name if owner else None, is_overdue(item, today))


def for_parent(
    db: Session,
    today: date,
    *,
    risk_id: int | None = None,
    issue_id: int | None = None,
    meeting_id: int | None = None,
) -> list[ActionRow]:
    """A risk's, an issue's or a meeting's action items: open ones first by due date, then the done ones."""
    if risk_id is not None:
        where = ActionItem.risk_id == risk_id
    elif issue_id is not None:
        where = ActionItem.issue_id == issue_id
    else:
        where = ActionItem.meeting_id == meeting_id
    stmt = (
        select(ActionItem, User.full_name)
        .outerjoin(User, col(User.id) == ActionItem.owner_id)
        .where(where)
        .order_by(col(ActionItem.done_at).is_not(None), col(ActionItem.due_date).asc().nulls_last(), ActionItem.id)
    )
    return [ActionRow(item, name, is_overdue(item, today)) for item, name in db.exec(stmt)]


@dataclass(frozen=True)
class MyAction:
    item: ActionItem
    project_key: str
    parent_kind: str  # "risks", "issues" or "meetings": the URL segment of its record
    parent_id: int
    parent_code: str
    today: date

    @property
    def overdue(self) -> bool:
        return is_overdue(self.item, self.today)


def mine(db: Session, user: Principal, limit: int = 100) -> list[MyAction]:
    """Open action items this user owns in projects whose register they can see, soonest due first."""
    stmt = (
        with_parents(select(ActionItem, Project, PARENT_CODE))
        .join(Project, col(Project.id) == ActionItem.project_id)
        .join(Membership, (Membership.project_id == Project.id) & (Membership.user_id == user.id))
        .where(
            ActionItem.owner_id == user.id,
            col(ActionItem.done_at).is_(None),
            col(Membership.role).in_(common.OWNER_ROLES),
        )
        .order_by(col(ActionItem.due_date).asc().nulls_last(), Project.key, ActionItem.id)
        .limit(limit)
    )
    out = []
    for item, project, code in db.exec(stmt):
        kind, parent_id = parent_of(item)
        out.append(MyAction(item, project.key, kind, parent_id, code, project_today(project)))
    return out


def as_values(item: ActionItem) -> dict[str, Any]:
    return audit.snapshot(item, FIELDS) | {"done": item.done_at is not None, "version": item.version}


def back_url(key: str, item: ActionItem) -> str:
    """Where an action item is shown: under its risk's plan, or among its issue's or meeting's actions."""
    kind, parent_id = parent_of(item)
    return f"/projects/{key}/{kind}/{parent_id}#" + (f"{item.plan}-plan" if item.risk_id else "actions")
