"""Deliverable rules: planning with acceptance criteria, submitting versions with files, the review clock,
and carrying open comments forward. Services never commit; the request does, once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from sqlmodel import Session, col, select

from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import service as audit
from tracker.core.calendar import add_business_days, holidays_between
from tracker.core.db import utcnow
from tracker.core.errors import Conflict, Forbidden, FormError, NotFound, StaleEdit
from tracker.core.files import FileStore, safe_filename
from tracker.core.forms import Form, OptionalDate, OptionalInt
from tracker.deliverables import workflow
from tracker.deliverables.models import (
    Comment,
    Criterion,
    Deliverable,
    DeliverableType,
    Disposition,
    Submission,
    SubmissionFile,
)
from tracker.deliverables.workflow import Action, NotAllowed, Status
from tracker.projects.models import Membership, Project
from tracker.projects.permissions import Perm
from tracker.projects.service import Access

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")
MAX_CRITERIA = 100


def project_today(project: Project, now: datetime | None = None) -> date:
    """Clocks run on the project's calendar day, not the server's."""
    return (now or utcnow()).astimezone(ZoneInfo(project.timezone)).date()


def project_holidays(project: Project, start: date, days: int = 400) -> dict[date, str]:
    return holidays_between(project.holiday_calendar, project.extra_holidays, start, start + timedelta(days=days))


def due_after(project: Project, start: date, business_days: int) -> date:
    return add_business_days(start, business_days, project_holidays(project, start, days=business_days * 3 + 60))


def parse_criteria(text: str) -> list[str]:
    """One criterion per line; blank lines ignored; leading list markers ("1.", "-", "*") dropped."""
    out = []
    for line in (text or "").splitlines():
        line = re.sub(r"^\s*(?:\d+[.)]|[-*•])\s+", "", line).strip()
        if line:
            out.append(line)
    return out


class DeliverableForm(Form):
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
        items = parse_criteria(v)
        if len(items) > MAX_CRITERIA:
            raise ValueError(f"At most {MAX_CRITERIA} criteria")
        if any(len(c) > 2000 for c in items):
            raise ValueError("Each criterion may be at most 2000 characters")
        return v


FIELDS = ("code", "title", "description", "type", "due_date", "owner_id", "payment_amount", "holdback_pct")


def get_for(db: Session, access: Access, deliverable_id: int) -> Deliverable:
    deliverable = db.get(Deliverable, deliverable_id)
    if deliverable is None or deliverable.project_id != access.project.id:
        raise NotFound(detail="No such deliverable in this project.")
    return deliverable


def _check_owner(db: Session, project_id: int, owner_id: int | None) -> None:
    if owner_id is None:
        return
    member = db.exec(
        select(Membership.role).where(Membership.project_id == project_id, Membership.user_id == owner_id)
    ).first()
    if member not in ("manager", "staff"):
        raise FormError({"owner_id": "The review lead must be a manager or staff member of this project."})


def create(db: Session, actor: Principal, access: Access, form: DeliverableForm) -> Deliverable:
    access.require(Perm.PLAN_DELIVERABLES)
    project = access.project
    if db.exec(select(Deliverable.id).where(Deliverable.project_id == project.id, Deliverable.code == form.code)).first():
        raise FormError({"code": f"{form.code} already exists in {project.key}."})
    _check_owner(db, project.id, form.owner_id)
    deliverable = Deliverable(project_id=project.id, **form.model_dump(include=set(FIELDS)))
    deliverable.type = form.type.value
    db.add(deliverable)
    db.flush()
    criteria = parse_criteria(form.criteria)
    for position, text in enumerate(criteria, start=1):
        db.add(Criterion(deliverable_id=deliverable.id, position=position, text=text))
    changes = {f: [None, v] for f, v in audit.snapshot(deliverable, FIELDS).items() if v not in (None, "")}
    if criteria:
        changes["criteria"] = [None, criteria]
    audit.record(db, actor_id=actor.id, entity=deliverable, project_id=project.id, label=deliverable.code,
                 action="create", changes=changes)  # fmt: skip
    db.flush()
    return deliverable


def active_criteria(db: Session, deliverable_id: int) -> list[Criterion]:
    stmt = (
        select(Criterion)
        .where(Criterion.deliverable_id == deliverable_id, col(Criterion.retired_at).is_(None))
        .order_by(Criterion.position)
    )
    return list(db.exec(stmt))


def set_criteria(db: Session, actor: Principal, access: Access, deliverable: Deliverable, texts: list[str]) -> None:
    """Replace the ordered criteria. Before the first submission anyone who plans may; afterwards only a
    manager, and the old wording is retired, never deleted, so results already recorded keep their text."""
    access.require(Perm.PLAN_DELIVERABLES)
    if deliverable.current_version > 0 and access.role != "manager":
        raise Forbidden(detail="After the first submission only a project manager may change the criteria.")
    if deliverable.status == Status.ACCEPTED or deliverable.status == Status.WITHDRAWN:
        raise Conflict(detail="The criteria of a closed deliverable cannot change.")
    if len(texts) > MAX_CRITERIA:
        raise FormError({"criteria": f"At most {MAX_CRITERIA} criteria."})
    current = active_criteria(db, deliverable.id)
    before = [c.text for c in current]
    if before == texts:
        return
    now = utcnow()
    kept = {c.text: c for c in current}
    for c in current:
        if c.text not in texts:
            if deliverable.current_version > 0:
                c.retired_at = now
            else:
                db.delete(c)
    for position, text in enumerate(texts, start=1):
        if text in kept:
            kept[text].position = position
        else:
            db.add(Criterion(deliverable_id=deliverable.id, position=position, text=text))
    audit.record(db, actor_id=actor.id, entity=deliverable, project_id=deliverable.project_id, label=deliverable.code,
                 action="criteria", changes={"criteria": [before, texts]})  # fmt: skip
    db.flush()


# --- submissions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    chunks: object  # bytes or an iterable of bytes


def transition(db: Session, actor: Principal | None, access: Access | None, deliverable: Deliverable,
               action: Action, changes: dict | None = None) -> Status:  # fmt: skip
    """Move the deliverable along the workflow table, or refuse: 409 wrong state, 403 wrong role."""
    perms = access.perms if access else frozenset()
    try:
        if action is Action.DEEM_ACCEPT:
            target = workflow.TRANSITIONS.get((action, Status(deliverable.status)), (None,))[0]
            if target is None:
                raise NotAllowed("This deliverable cannot be deemed accepted now.", wrong_state=True)
        else:
            target = workflow.next_status(action, deliverable.status, perms)
    except NotAllowed as exc:
        raise (Conflict if exc.wrong_state else Forbidden)(detail=exc.message) from None
    before = deliverable.status
    deliverable.status = target.value
    deliverable.updated_at = utcnow()
    audit.record(db, actor_id=actor.id if actor else None, entity=deliverable, project_id=deliverable.project_id,
                 label=deliverable.code, action=action.value,
                 changes={"status": [before, target.value], **(changes or {})})  # fmt: skip
    return target


def submit(db: Session, actor: Principal, access: Access, deliverable: Deliverable, notes: str,
           uploads: list[Upload], store: FileStore, expected_version: int | None = None) -> Submission:  # fmt: skip
    """Submit version n+1 (first submission or resubmission after a rejection) with its files."""
    if expected_version is not None and expected_version != deliverable.version:
        raise StaleEdit({"status": deliverable.status, "current_version": deliverable.current_version})
    if len(notes) > 8000:
        raise FormError({"notes": "At most 8000 characters."})
    if not uploads:
        raise FormError({"files": "Attach at least one file."})
    action = Action.RESUBMIT if deliverable.status == Status.REJECTED else Action.SUBMIT
    number = deliverable.current_version + 1
    project = access.project
    today = project_today(project)
    review_due = due_after(project, today, project.review_days)
    transition(db, actor, access, deliverable, action,
               changes={"current_version": [deliverable.current_version, number]})  # fmt: skip
    previous = _latest_submission(db, deliverable.id)
    submission = Submission(deliverable_id=deliverable.id, number=number, submitted_by_id=actor.id, notes=notes,
                            review_due=review_due)  # fmt: skip
    db.add(submission)
    db.flush()
    for upload in uploads:
        sha, size = store.put(upload.chunks)
        db.add(SubmissionFile(submission_id=submission.id, sha256=sha, size=size,
                              original_name=safe_filename(upload.filename),
                              content_type=(upload.content_type or "application/octet-stream")[:120]))  # fmt: skip
    if previous is not None:
        carry_forward(db, previous, submission)
    deliverable.current_version = number
    deliverable.review_due = review_due
    deliverable.resubmit_due = None
    db.flush()
    return submission


def _latest_submission(db: Session, deliverable_id: int) -> Submission | None:
    stmt = select(Submission).where(Submission.deliverable_id == deliverable_id).order_by(col(Submission.number).desc())
    return db.exec(stmt.limit(1)).first()


def carry_forward(db: Session, previous: Submission, current: Submission) -> int:
    """Open comments on the previous version reappear on the new one, linked to where they were raised."""
    open_comments = db.exec(
        select(Comment).where(Comment.submission_id == previous.id, Comment.disposition == Disposition.OPEN)
    ).all()
    for c in open_comments:
        db.add(Comment(submission_id=current.id, reviewer_id=c.reviewer_id, location=c.location, text=c.text,
                       severity=c.severity, response=c.response, responded_by_id=c.responded_by_id,
                       responded_at=c.responded_at, carried_from_id=c.carried_from_id or c.id))  # fmt: skip
    return len(open_comments)


def submissions_of(db: Session, deliverable_id: int) -> list[tuple[Submission, str, list[SubmissionFile]]]:
    """Every version with its submitter's name and files, newest first, in two queries."""
    rows = db.exec(
        select(Submission, User.full_name)
        .join(User, col(User.id) == Submission.submitted_by_id)
        .where(Submission.deliverable_id == deliverable_id)
        .order_by(col(Submission.number).desc())
    ).all()
    ids = [s.id for s, _ in rows]
    files: dict[int, list[SubmissionFile]] = {i: [] for i in ids}
    if ids:
        for f in db.exec(select(SubmissionFile).where(col(SubmissionFile.submission_id).in_(ids)).order_by(SubmissionFile.id)):
            files[f.submission_id].append(f)
    return [(s, name, files[s.id]) for s, name in rows]
