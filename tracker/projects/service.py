"""Project rules: who sees which project, creating and editing projects, managing memberships."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import available_timezones

from pydantic import Field, ValidationInfo, field_validator
from sqlmodel import Session, col, func, or_, select

from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.calendar import calendar_error
from tracker.core.errors import Conflict, Forbidden, FormError, NotFound
from tracker.core.forms import Checkbox, Form, OptionalDate
from tracker.core.web import options
from tracker.projects.models import ROLE_LABELS, DeemedPolicy, Membership, Project, Role
from tracker.projects.permissions import Perm, perms_for, roles_with

KEY_PATTERN = r"^[A-Z][A-Z0-9]{1,9}$"


@dataclass(frozen=True)
class Access:
    """A project as one user may use it: the row, their role, and what that lets them do."""

    project: Project
    role: Role | None
    is_admin: bool
    perms: frozenset[Perm] = field(default_factory=frozenset)

    def can(self, perm: Perm | str) -> bool:
        return Perm(perm) in self.perms

    def require(self, perm: Perm) -> None:
        if perm not in self.perms:
            raise Forbidden(detail="Your role in this project does not allow that.")


def get_for(db: Session, user: Principal, key: str, perm: Perm = Perm.VIEW) -> Access:
    """Load a project for `user`: 404 when they may not see it, 403 when they lack `perm`."""
    row = db.exec(
        select(Project, Membership.role)
        .outerjoin(Membership, (Membership.project_id == Project.id) & (Membership.user_id == user.id))
        .where(Project.key == key.upper())
    ).first()
    if row is None:
        raise NotFound(detail=f"No project '{key}'.")
    project, role = row
    role = Role(role) if role else None
    if role is None and not user.is_admin:
        raise NotFound(detail=f"No project '{key}'.")
    access = Access(project, role, user.is_admin, perms_for(role, user.is_admin))
    access.require(perm)
    return access


def record_in(db: Session, access: Access, model: Any, record_id: int, noun: str) -> Any:
    """A row of `model` (deliverable, risk, issue, action item) by id, 404 unless it belongs to this project."""
    record = db.get(model, record_id)
    if record is None or record.project_id != access.project.id:
        raise NotFound(detail=f"No such {noun} in this project.")
    return record


def load_record(db: Session, user: Principal, model: Any, record_id: int, perm: Perm, noun: str) -> tuple[Access, Any]:
    """A project's row by id alone (the API's paths): 404 unless `user` may see its project, 403 without `perm`."""
    row = db.exec(
        select(model, Project.key).join(Project, col(Project.id) == model.project_id).where(model.id == record_id)
    ).first()
    if row is None:
        raise NotFound(detail=f"No such {noun}.")
    record, key = row
    try:
        access = get_for(db, user, key, perm)
    except NotFound:
        raise NotFound(detail=f"No such {noun}.") from None
    return access, record


@dataclass(frozen=True)
class ProjectRow:
    project: Project
    role: Role | None
    members: int


def visible_projects(db: Session, user: Principal, q: str = "", include_archived: bool = False) -> list[ProjectRow]:
    member_count = (
        select(func.count(Membership.id))
        .where(Membership.project_id == Project.id)
        .correlate(Project)
        .scalar_subquery()
    )
    stmt = (
        select(Project, Membership.role, member_count)
        .outerjoin(Membership, (Membership.project_id == Project.id) & (Membership.user_id == user.id))
        .order_by(Project.key)
    )
    if not user.is_admin:
        stmt = stmt.where(Membership.id.is_not(None))
    if not include_archived:
        stmt = stmt.where(Project.archived == False)  # noqa: E712
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Project.key).like(like),
                func.lower(Project.name).like(like),
                func.lower(Project.contractor).like(like),
                func.lower(Project.sponsor).like(like),
                func.lower(Project.contract_number).like(like),
            )
        )
    return [ProjectRow(p, Role(r) if r else None, n) for p, r, n in db.exec(stmt)]


def visible_project_ids(db: Session, user: Principal) -> list[int]:
    return list(visible_project_zones(db, user))


def visible_project_zones(db: Session, user: Principal) -> dict[int, str]:
    """The time zone of each project the user may see: every one for an admin, else those they belong to."""
    stmt = select(Project.id, Project.timezone)
    if not user.is_admin:
        stmt = stmt.join(Membership, Membership.project_id == Project.id).where(Membership.user_id == user.id)
    return dict(db.exec(stmt).all())


@dataclass(frozen=True)
class Anywhere:
    """What a user may do in at least one project: a cross-project page is offered only then."""

    live: frozenset[Perm]  # in a live project
    ever: frozenset[Perm]  # in any project, archived ones too (lessons are kept for later)


def perms_anywhere(db: Session, user: Principal) -> Anywhere:
    """What the user may do in some project, in one query: their roles, and an admin's rights in every project."""
    on_user = (Membership.project_id == Project.id) & (Membership.user_id == user.id)
    stmt = select(Project.archived, Membership.role).outerjoin(Membership, on_user).distinct()
    if not user.is_admin:
        stmt = stmt.where(col(Membership.user_id).is_not(None))
    live: set[Perm] = set()
    ever: set[Perm] = set()
    for archived, role in db.exec(stmt):
        granted = perms_for(role, user.is_admin)
        ever |= granted
        if not archived:
            live |= granted
    return Anywhere(frozenset(live), frozenset(ever))


# --- project settings ---------------------------------------------------------------------------

_TIMEZONES = available_timezones()


def parse_extra_holidays(text: str) -> list[dict[str, str]]:
    """Lines of 'YYYY-MM-DD Name'; raises ValueError naming the bad line."""
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        day, _, name = line.partition(" ")
        try:
            parsed = date.fromisoformat(day)
        except ValueError:
            raise ValueError(f"Line {n}: start with a date as YYYY-MM-DD, then the holiday's name") from None
        out.append({"date": parsed.isoformat(), "name": name.strip()[:80] or "Project holiday"})
    return sorted(out, key=lambda h: h["date"])


def format_extra_holidays(items: list[dict[str, str]]) -> str:
    return "\n".join(f"{h['date']} {h['name']}" for h in items)


class ProjectForm(Form):
    key: str = Field(min_length=1, max_length=10)
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    sponsor: str = Field(default="", max_length=120)
    contractor: str = Field(default="", max_length=200)
    contract_number: str = Field(default="", max_length=60)
    contact_name: str = Field(default="", max_length=120)
    contact_title: str = Field(default="", max_length=120)
    contact_address: str = Field(default="", max_length=500)
    contact_email: str = Field(default="", max_length=254)
    start_date: OptionalDate = None
    end_date: OptionalDate = None
    timezone: str = Field(default="America/Los_Angeles", max_length=64)
    review_days: int = Field(default=10, ge=1, le=120)
    resubmit_days: int = Field(default=10, ge=1, le=120)
    deemed_policy: DeemedPolicy = DeemedPolicy.NEVER
    deemed_days: int = Field(default=15, ge=1, le=250)
    holiday_calendar: str = Field(default="US", min_length=1, max_length=16)
    extra_holidays: list[dict[str, str]] = Field(default_factory=list)
    archived: Checkbox = False
    version: int | None = None

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        v = v.upper()
        if not re.match(KEY_PATTERN, v):
            raise ValueError("Use 2–10 capital letters or digits, starting with a letter (e.g. CWS)")
        return v

    @field_validator("contact_email")
    @classmethod
    def _email(cls, v: str) -> str:
        v = v.strip()
        if v and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", v):
            raise ValueError("Enter an e-mail address such as name@contractor.com")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        if v not in _TIMEZONES:
            raise ValueError("Unknown time zone; use a name such as America/New_York")
        return v

    @field_validator("holiday_calendar")
    @classmethod
    def _calendar(cls, v: str) -> str:
        v = v.strip().upper()
        if problem := calendar_error(v):
            raise ValueError(problem)
        return v

    @field_validator("extra_holidays", mode="before")
    @classmethod
    def _extra(cls, v: Any) -> list[dict[str, str]]:
        if isinstance(v, list) and all(isinstance(h, dict) for h in v):
            return parse_extra_holidays("\n".join(f"{h.get('date', '')} {h.get('name', '')}" for h in v))
        if v is None or isinstance(v, str):
            return parse_extra_holidays(v or "")
        raise ValueError("Write one holiday per line: a date as YYYY-MM-DD, then its name")

    @field_validator("end_date")
    @classmethod
    def _after_start(cls, v: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start_date")
        if v and start and v < start:
            raise ValueError("The end date is before the start date")
        return v


PROJECT_FIELDS = (
    "key",
    "name",
    "description",
    "sponsor",
    "contractor",
    "contract_number",
    "contact_name",
    "contact_title",
    "contact_address",
    "contact_email",
    "start_date",
    "end_date",
    "timezone",
    "review_days",
    "resubmit_days",
    "deemed_policy",
    "deemed_days",
    "holiday_calendar",
    "extra_holidays",
    "archived",
)
# The project form's labels; the history (audit/history.py) reads a project's and its members' changes with them.
PROJECT_LABELS = {
    "key": "Key",
    "name": "Name",
    "description": "Description",
    "sponsor": "Sponsor",
    "contractor": "Contractor",
    "contract_number": "Contract number",
    "contact_name": "Contractor contact",
    "contact_title": "Contact's title",
    "contact_address": "Contact's postal address",
    "contact_email": "Contact's e-mail",
    "start_date": "Start date",
    "end_date": "End date",
    "timezone": "Time zone",
    "review_days": "State review days",
    "resubmit_days": "Contractor resubmission days",
    "deemed_policy": "Deemed-acceptance policy",
    "deemed_days": "Deemed after (business days)",
    "holiday_calendar": "Holiday calendar",
    "extra_holidays": "Project holidays",
    "archived": "Archived",
}
LABELS = PROJECT_LABELS | {"role": "Role"}
ProjectForm.labels = PROJECT_LABELS
WORDS = {"deemed_policy": dict(options(list(DeemedPolicy))), "role": ROLE_LABELS}
history.register(
    nouns={"project": "project", "membership": "member"},
    verbs={
        "add_member": "added",
        "join": "joined by invitation as",
        "remove_member": "removed",
        "change_role": "changed the role of",
    },
    terms=dict.fromkeys(("project", "membership"), history.Terms(LABELS, WORDS)),
)
audit.name_projects(Project.id, Project.key)


def _values(form: ProjectForm) -> dict[str, Any]:
    values = form.model_dump(include=set(PROJECT_FIELDS))
    values["deemed_policy"] = form.deemed_policy.value
    return values


def create_project(db: Session, actor: Principal, form: ProjectForm) -> Project:
    if not actor.is_admin:
        raise Forbidden(detail="Only admins create projects.")
    if db.exec(select(Project.id).where(Project.key == form.key)).first() is not None:
        raise FormError({"key": f"The key {form.key} is already used by another project."})
    project = Project(**_values(form))
    db.add(project)
    db.flush()
    audit.record(
        db,
        actor_id=actor.id,
        entity=project,
        project_id=project.id,
        label=project.key,
        action="create",
        changes={f: [None, v] for f, v in audit.snapshot(project, PROJECT_FIELDS).items() if v not in (None, "", [])},
    )
    return project


def update_project(db: Session, actor: Principal, access: Access, form: ProjectForm) -> Project:
    access.require(Perm.MANAGE)
    project = access.project
    if form.archived != project.archived and not access.can(Perm.ARCHIVE):
        raise Forbidden(detail="Only admins archive a project or bring it back.")
    project.check_seen(form.version, audit.snapshot(project, PROJECT_FIELDS))
    if form.key != project.key:
        raise FormError({"key": "A project's key cannot change once created; links and codes depend on it."})
    before = audit.snapshot(project, PROJECT_FIELDS)
    for name, value in _values(form).items():
        setattr(project, name, value)
    changes = audit.diff(before, audit.snapshot(project, PROJECT_FIELDS))
    if changes:
        audit.record(
            db,
            actor_id=actor.id,
            entity=project,
            project_id=project.id,
            label=project.key,
            action="update",
            changes=changes,
        )
        db.flush()
    return project


# --- memberships ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    user: User


def members(db: Session, project_id: int) -> list[MemberRow]:
    stmt = (
        select(Membership, User)
        .join(User, col(User.id) == Membership.user_id)
        .where(Membership.project_id == project_id)
        .order_by(Membership.role, func.lower(User.full_name))
    )
    return [MemberRow(m, u) for m, u in db.exec(stmt)]


def member_names(db: Session, project_id: int) -> list[tuple[int, str]]:
    """(user id, name) of every member, by name: two columns read, no member's row made."""
    stmt = select(User.id, User.full_name).join(Membership, col(Membership.user_id) == User.id)
    return sorted(
        ((i, name) for i, name in db.exec(stmt.where(Membership.project_id == project_id))), key=lambda p: p[1]
    )


def member_choices(db: Session, project_id: int) -> list[tuple[int, str]]:
    """(user id, "Name (role)") for every member, by name: who may own a condition or an action."""
    stmt = (
        select(User.id, User.full_name, Membership.role)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(Membership.project_id == project_id)
        .order_by(func.lower(User.full_name))
    )
    return [(i, f"{name} ({ROLE_LABELS.get(role, role)})") for i, name, role in db.exec(stmt)]


def non_member_choices(db: Session, project_id: int) -> list[tuple[int, str]]:
    """(user id, "Name (organisation or username)") for every active person not in the project, by name: the add
    form's choices, read as columns (a directory of people is too many rows to load whole on every project page)."""
    taken = select(Membership.user_id).where(Membership.project_id == project_id)
    stmt = (
        select(User.id, User.full_name, User.organization, User.username)
        .where(User.is_active, col(User.id).not_in(taken))
        .order_by(func.lower(User.full_name))
    )
    return [(i, f"{name} ({organization or username})") for i, name, organization, username in db.exec(stmt)]


class MemberForm(Form):
    user_id: int
    role: Role


class RoleForm(Form):
    role: Role
    version: int | None = None


def add_member(db: Session, actor: Principal, access: Access, form: MemberForm) -> Membership:
    access.require(Perm.MANAGE)
    user = db.get(User, form.user_id)
    if user is None or not user.is_active:
        raise FormError({"user_id": "Choose an active user."})
    if is_member(db, access.project.id, user.id):
        raise FormError({"user_id": f"{user.full_name} is already a member; change their role instead."})
    return join(db, actor.id, access.project, user, form.role, "add_member")


def is_member(db: Session, project_id: int, user_id: int) -> bool:
    stmt = select(Membership.id).where(Membership.project_id == project_id, Membership.user_id == user_id)
    return db.exec(stmt).first() is not None


def join(db: Session, actor_id: int, project: Project, user: User, role: Role, action: str) -> Membership:
    """The membership itself, on the project's trail: added by a manager, or by the person accepting an invitation
    (the caller has checked who may)."""
    membership = Membership(project_id=project.id, user_id=user.id, role=role.value)
    db.add(membership)
    db.flush()
    audit.record(
        db,
        actor_id=actor_id,
        entity=membership,
        project_id=project.id,
        label=user.full_name,
        action=action,
        changes={"role": [None, role.value]},
    )
    return membership


def get_membership(db: Session, access: Access, membership_id: int) -> tuple[Membership, User]:
    row = db.exec(
        select(Membership, User)
        .join(User, col(User.id) == Membership.user_id)
        .where(Membership.id == membership_id, Membership.project_id == access.project.id)
    ).first()
    if row is None:
        raise NotFound(detail="No such member in this project.")
    return row


def _guard_last_manager(db: Session, membership: Membership) -> None:
    """A project keeps a member who may decide (its manager): taking the last one away is refused."""
    deciders = roles_with(Perm.DECIDE)
    if membership.role not in deciders:
        return
    managers = db.exec(
        select(func.count(Membership.id)).where(
            Membership.project_id == membership.project_id, col(Membership.role).in_(sorted(deciders))
        )
    ).one()
    if managers <= 1:
        raise Conflict(detail="A project needs at least one manager; appoint another manager first.")


def change_role(db: Session, actor: Principal, access: Access, membership_id: int, form: RoleForm) -> MemberRow:
    access.require(Perm.MANAGE)
    membership, user = get_membership(db, access, membership_id)
    membership.check_seen(form.version, {"role": membership.role})
    if membership.role != form.role:
        if form.role not in roles_with(Perm.DECIDE):
            _guard_last_manager(db, membership)
        old = membership.role
        membership.role = form.role.value
        audit.record(
            db,
            actor_id=actor.id,
            entity=membership,
            project_id=access.project.id,
            label=user.full_name,
            action="change_role",
            changes={"role": [old, form.role.value]},
        )
        db.flush()
    return MemberRow(membership, user)


def remove_member(db: Session, actor: Principal, access: Access, membership_id: int, expected_version: int) -> User:
    access.require(Perm.MANAGE)
    membership, user = get_membership(db, access, membership_id)
    membership.check_seen(
        expected_version,
        {"role": membership.role},
        f"{user.full_name}'s membership changed after you loaded the page, so they were not removed. "
        "Check the members list and remove them again if you still mean to.",
    )
    _guard_last_manager(db, membership)
    audit.record(
        db,
        actor_id=actor.id,
        entity=membership,
        project_id=access.project.id,
        label=user.full_name,
        action="remove_member",
        changes={"role": [membership.role, None]},
    )
    db.delete(membership)
    db.flush()
    return user
