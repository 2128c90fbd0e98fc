"""Deliverable rules: planning with acceptance criteria, submitting versions with files, the review clock,
and carrying open comments forward. Services never commit; the request does, once."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from sqlalchemy import and_, case, false, true
from sqlmodel import Session, col, func, or_, select

from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.calendar import add_business_days, holidays_between
from tracker.core.clock import today_in, utcnow
from tracker.core.errors import Conflict, Forbidden, FormError, NotFound
from tracker.core.files import FileStore, safe_filename
from tracker.core.forms import Form, OptionalDate, OptionalInt
from tracker.core.web import money, options, show_date
from tracker.deliverables import conditions, criteria, records, workflow
from tracker.deliverables.models import (
    Comment,
    Criterion,
    CriterionOutcome,
    CriterionResult,
    Decision,
    Deliverable,
    DeliverableType,
    Disposition,
    Outcome,
    ReviewAssignment,
    Severity,
    Submission,
    SubmissionFile,
)
from tracker.deliverables.workflow import Action, NotAllowed, Status
from tracker.projects.models import DeemedPolicy, Membership, Project
from tracker.projects.permissions import Perm
from tracker.projects.service import Access, load_record, record_in

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")
MAX_CRITERIA = criteria.MAX_CRITERIA
parse_criteria = criteria.parse


def project_today(project: Project, now: datetime | None = None) -> date:
    """Clocks run on the project's calendar day, not the server's."""
    return today_in(project.timezone) if now is None else now.astimezone(ZoneInfo(project.timezone)).date()


def project_holidays(project: Project, start: date, days: int = 400) -> dict[date, str]:
    return holidays_between(project.holiday_calendar, project.extra_holidays, start, start + timedelta(days=days))


def due_after(project: Project, start: date, business_days: int) -> date:
    return add_business_days(start, business_days, project_holidays(project, start, days=business_days * 3 + 60))


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
        if message := criteria.problem(parse_criteria(v)):
            raise ValueError(message)
        return v


FIELDS = ("code", "title", "description", "type", "due_date", "owner_id", "payment_amount", "holdback_pct")
PLAN_LABELS = {
    "code": "Code",
    "title": "Title",
    "description": "Description",
    "type": "Type",
    "due_date": "Contractual due date",
    "owner_id": "Review lead",
    "payment_amount": "Payment amount",
    "holdback_pct": "Holdback %",
}
# How the history (audit/history.py) reads a deliverable's changes: the plan form's labels, the fields its workflow
# and review record, and coded values in the words the deliverable page uses.
LABELS = PLAN_LABELS | {
    "criteria": "Acceptance criteria",
    "status": "Status",
    "decision": "Decision",
    "current_version": "Version",
    "resubmit_due": "Resubmission due",
    "withdrawn_reason": "Reason for withdrawal",
    "escalated": "Escalated",
    "severity": "Severity",
    "text": "Comment",
    "response": "Response",
    "disposition": "Disposition",
}
REVIEWER_LABELS = {"reviewer": "Reviewer", "due_date": "Review due"}
DeliverableForm.labels = LABELS
WORDS = {
    "type": dict(options(list(DeliverableType))),
    "status": {s.value: w for s, w in workflow.STATUS_LABELS.items()},
    "decision": dict(options(list(Outcome))),
    "criterion": dict(options(list(CriterionOutcome))),
    "severity": dict(options(list(Severity))),
    "disposition": dict(options(list(Disposition))),
    "payment_amount": lambda v, _: money(v),
    "holdback_pct": lambda v, _: f"{v}%",
    # the clock's sentence names the review's due date: read it as the pages show dates
    "escalated": lambda v, _: re.sub(r"\d{4}-\d{2}-\d{2}", lambda m: show_date(date.fromisoformat(m[0])), v),
}
history.register(
    # a reviewer, a comment and a criterion's result are recorded on their deliverable's trail
    nouns=dict.fromkeys(("deliverable", "review_assignment", "comment", "criterion_result"), "deliverable"),
    verbs={
        "submit": "submitted",
        "resubmit": "resubmitted",
        "start_review": "started the review of",
        "accept": "accepted",
        "conditionally_accept": "conditionally accepted",
        "reject": "rejected",
        "conditions_met": "marked conditions met on",
        "withdraw": "withdrew",
        "deem_accept": "recorded deemed acceptance of",
        "criteria": "changed the criteria of",
        "agree_criteria": "recorded the State's agreement to the criteria of",
        "acknowledge_criteria": "acknowledged the criteria of",
        "update_condition": "changed a condition of",
        "condition_met": "recorded a condition met on",
        "assign_reviewer": "assigned a reviewer to",
        "remove_reviewer": "took a reviewer off",
        "comment": "commented on",
        "respond": "answered a comment on",
        "disposition": "set a comment disposition on",
        "criterion_result": "recorded a criterion result on",
        "escalate": "escalated the overdue review of",
        "generate_records": "generated the decision records of",
    },
    terms=dict.fromkeys(("deliverable", "comment", "criterion_result"), history.Terms(LABELS, WORDS))
    | dict.fromkeys(("assign_reviewer", "remove_reviewer"), history.Terms(REVIEWER_LABELS)),
)


def next_code(db: Session, project_id: int) -> str:
    """A suggestion for the next code: D-NN after the highest D-number in the project."""
    codes = db.exec(
        select(Deliverable.code).where(Deliverable.project_id == project_id, col(Deliverable.code).like("D-%"))
    ).all()
    numbers = [int(c[2:]) for c in codes if c[2:].isdigit()]
    return f"D-{max(numbers, default=0) + 1:02d}"


def get_for(db: Session, access: Access, deliverable_id: int) -> Deliverable:
    return record_in(db, access, Deliverable, deliverable_id, "deliverable")


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
    if db.exec(
        select(Deliverable.id).where(Deliverable.project_id == project.id, Deliverable.code == form.code)
    ).first():
        raise FormError({"code": f"{form.code} already exists in {project.key}."})
    _check_owner(db, project.id, form.owner_id)
    deliverable = Deliverable(project_id=project.id, **form.model_dump(include=set(FIELDS)))
    deliverable.type = form.type.value
    db.add(deliverable)
    db.flush()
    texts = parse_criteria(form.criteria)
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
    if deliverable.current_version > 0 and access.role != "manager":
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
    texts = parse_criteria(form.criteria)
    if texts != [c.text for c in active_criteria(db, deliverable.id)]:
        set_criteria(db, actor, access, deliverable, texts, bump=not changes)  # one save moves the version once
    db.flush()


# --- submissions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    chunks: object  # bytes or an iterable of bytes


def transition(
    db: Session,
    actor: Principal | None,
    access: Access | None,
    deliverable: Deliverable,
    action: Action,
    changes: dict | None = None,
) -> Status:
    """Move the deliverable along the workflow table, or refuse: 409 wrong state, 403 wrong role.
    Without `access` the system clock acts (deemed acceptance)."""
    try:
        target = workflow.next_status(action, deliverable.status, access.perms if access else None)
    except NotAllowed as exc:
        raise (Conflict if exc.wrong_state else Forbidden)(detail=exc.message) from None
    before = deliverable.status
    deliverable.status = target.value
    deliverable.updated_at = utcnow()
    audit.record(
        db,
        actor_id=actor.id if actor else None,
        entity=deliverable,
        project_id=deliverable.project_id,
        label=deliverable.code,
        action=action.value,
        changes={"status": [before, target.value], **(changes or {})},
    )
    return target


def _clock_stopped(deliverable: Deliverable) -> dict:
    """The audit entry for a running resubmission clock that a resubmission or withdrawal stops, so the trail
    alone says what the clock stood at on any day (status reports read the record as it stood)."""
    return {"resubmit_due": [deliverable.resubmit_due, None]} if deliverable.resubmit_due else {}


def submit(
    db: Session,
    actor: Principal,
    access: Access,
    deliverable: Deliverable,
    notes: str,
    uploads: list[Upload],
    store: FileStore,
    expected_version: int | None = None,
) -> Submission:
    """Submit version n+1 (first submission or resubmission after a rejection) with its files."""
    access.require(Perm.SUBMIT)
    deliverable.check_seen(
        expected_version, {"status": deliverable.status, "current_version": deliverable.current_version}
    )
    if len(notes) > 8000:
        raise FormError({"notes": "At most 8000 characters."})
    if not uploads:
        raise FormError({"files": "Attach at least one file."})
    if missing := criteria.agreement_missing(criteria.current(db, deliverable.id)):
        raise Conflict(
            detail=f"Not submitted: the acceptance criteria are agreed before a version is submitted. {missing}"
        )
    stored = []
    for upload in uploads:
        name = safe_filename(upload.filename)
        sha, size = store.put(upload.chunks)
        if not size:
            raise FormError({"files": f"{name} is empty (0 bytes). Attach the file with its content."})
        stored.append((name, upload.content_type, sha, size))
    action = Action.RESUBMIT if deliverable.status == Status.REJECTED else Action.SUBMIT
    number = deliverable.current_version + 1
    project = access.project
    today = project_today(project)
    review_due = due_after(project, today, project.review_days)
    transition(
        db,
        actor,
        access,
        deliverable,
        action,
        changes={"current_version": [deliverable.current_version, number], **_clock_stopped(deliverable)},
    )
    previous = _latest_submission(db, deliverable.id)
    submission = Submission(
        deliverable_id=deliverable.id,
        number=number,
        submitted_by_id=actor.id,
        notes=notes,
        review_due=review_due,
        due_on=deliverable.due_date if number == 1 else deliverable.resubmit_due,
    )
    db.add(submission)
    db.flush()
    for name, content_type, sha, size in stored:
        db.add(
            SubmissionFile(
                submission_id=submission.id,
                sha256=sha,
                size=size,
                original_name=name,
                content_type=(content_type or "application/octet-stream")[:120],
            )
        )
    if previous is not None:
        carry_forward(db, previous, submission)
    deliverable.current_version = number
    deliverable.review_due = review_due
    deliverable.resubmit_due = None
    deliverable.escalated_at = None
    deliverable.deemed_on = (
        due_after(project, today, project.deemed_days) if project.deemed_policy == DeemedPolicy.DEEMED else None
    )
    db.flush()
    return submission


def current_comments(db: Session, deliverable: Deliverable) -> list[Comment]:
    """The comment log of the current version (carried-forward comments included), oldest first."""
    if deliverable.current_version == 0:
        return []
    stmt = (
        select(Comment)
        .join(Submission, col(Submission.id) == Comment.submission_id)
        .where(Submission.deliverable_id == deliverable.id, Submission.number == deliverable.current_version)
        .order_by(Comment.id)
    )
    return list(db.exec(stmt))


def _latest_submission(db: Session, deliverable_id: int) -> Submission | None:
    stmt = select(Submission).where(Submission.deliverable_id == deliverable_id).order_by(col(Submission.number).desc())
    return db.exec(stmt.limit(1)).first()


def carry_forward(db: Session, previous: Submission, current: Submission) -> int:
    """Open comments on the previous version reappear on the new one, linked to where they were raised."""
    open_comments = db.exec(
        select(Comment).where(Comment.submission_id == previous.id, Comment.disposition == Disposition.OPEN)
    ).all()
    for c in open_comments:
        db.add(
            Comment(
                submission_id=current.id,
                reviewer_id=c.reviewer_id,
                location=c.location,
                text=c.text,
                severity=c.severity,
                response=c.response,
                responded_by_id=c.responded_by_id,
                responded_at=c.responded_at,
                carried_from_id=c.carried_from_id or c.id,
            )
        )
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
        for f in db.exec(
            select(SubmissionFile).where(col(SubmissionFile.submission_id).in_(ids)).order_by(SubmissionFile.id)
        ):
            files[f.submission_id].append(f)
    return [(s, name, files[s.id]) for s, name in rows]


# --- review ---------------------------------------------------------------------------------------------


def current_submission(db: Session, deliverable: Deliverable) -> Submission:
    submission = _latest_submission(db, deliverable.id)
    if submission is None:
        raise Conflict(detail="Nothing has been submitted yet.")
    return submission


def _reviewable(deliverable: Deliverable) -> None:
    if deliverable.status not in (Status.SUBMITTED, Status.IN_REVIEW):
        raise Conflict(
            detail=f"A deliverable that is {workflow.STATUS_LABELS[Status(deliverable.status)].lower()} "
            "is not under review."
        )


def _state_reviewer(db: Session, project_id: int, user_id: int) -> None:
    role = db.exec(
        select(Membership.role).where(Membership.project_id == project_id, Membership.user_id == user_id)
    ).first()
    if role not in ("manager", "staff"):
        raise FormError({"reviewer_id": "Reviewers must be managers or staff of this project."})


def start_review(
    db: Session, actor: Principal, access: Access, deliverable: Deliverable, reviewer_ids: list[int] | None = None
) -> list[ReviewAssignment]:
    current_submission(db, deliverable)  # "Nothing has been submitted yet." before the workflow's words
    transition(db, actor, access, deliverable, Action.START_REVIEW)
    return [assign_reviewer(db, actor, access, deliverable, uid) for uid in reviewer_ids or []]


class AssignForm(Form):
    reviewer_id: int
    due_date: OptionalDate = None


def assign_reviewer(
    db: Session, actor: Principal, access: Access, deliverable: Deliverable, reviewer_id: int, due: date | None = None
) -> ReviewAssignment:
    access.require(Perm.REVIEW)
    _reviewable(deliverable)
    if due is not None and due < project_today(access.project):
        raise FormError({"due_date": "The review cannot be due before today; choose today or a later day."})
    _state_reviewer(db, access.project.id, reviewer_id)
    submission = current_submission(db, deliverable)
    exists = db.exec(
        select(ReviewAssignment).where(
            ReviewAssignment.submission_id == submission.id, ReviewAssignment.reviewer_id == reviewer_id
        )
    ).first()
    if exists:
        raise FormError({"reviewer_id": "Already assigned to this version."})
    assignment = ReviewAssignment(
        submission_id=submission.id, reviewer_id=reviewer_id, due_date=due or submission.review_due
    )
    db.add(assignment)
    db.flush()
    audit.record(
        db,
        actor_id=actor.id,
        entity=assignment,
        project_id=access.project.id,
        label=deliverable.code,
        action="assign_reviewer",
        changes={"reviewer": [None, db.get(User, reviewer_id).full_name], "due_date": [None, assignment.due_date]},
    )
    return assignment


def remove_reviewer(db: Session, actor: Principal, access: Access, deliverable: Deliverable, reviewer_id: int) -> None:
    """Take a reviewer off the version under review; one who has finished stays on the record."""
    access.require(Perm.REVIEW)
    _reviewable(deliverable)
    submission = current_submission(db, deliverable)
    assignment = db.exec(
        select(ReviewAssignment).where(
            ReviewAssignment.submission_id == submission.id, ReviewAssignment.reviewer_id == reviewer_id
        )
    ).first()
    if assignment is None:
        raise NotFound(detail="That person is not a reviewer of this version.")
    if assignment.completed_at is not None:
        raise Conflict(detail="That review is complete; it stays on the record.")
    audit.record(
        db,
        actor_id=actor.id,
        entity=assignment,
        project_id=access.project.id,
        label=deliverable.code,
        action="remove_reviewer",
        changes={"reviewer": [db.get(User, reviewer_id).full_name, None]},
    )
    db.delete(assignment)
    db.flush()


class CommentForm(Form):
    labels = LABELS
    location: str = Field(default="", max_length=200)
    text: str = Field(min_length=1, max_length=8000)
    severity: Severity


def add_comment(db: Session, actor: Principal, access: Access, deliverable: Deliverable, form: CommentForm) -> Comment:
    access.require(Perm.REVIEW)
    _reviewable(deliverable)
    submission = current_submission(db, deliverable)
    comment = Comment(
        submission_id=submission.id,
        reviewer_id=actor.id,
        location=form.location,
        text=form.text,
        severity=form.severity.value,
    )
    db.add(comment)
    db.flush()
    audit.record(
        db,
        actor_id=actor.id,
        entity=comment,
        project_id=access.project.id,
        label=deliverable.code,
        action="comment",
        changes={"severity": [None, comment.severity], "text": [None, comment.text]},
    )
    return comment


def _comment_for(db: Session, access: Access, comment_id: int) -> tuple[Comment, Deliverable]:
    """A comment that may still change: one on the version under review. Once that version is decided (or the
    deliverable withdrawn), its log is on the record as it stood; open comments live on as editable copies on the
    next version."""
    row = db.exec(
        select(Comment, Deliverable, Submission.number)
        .join(Submission, col(Submission.id) == Comment.submission_id)
        .join(Deliverable, col(Deliverable.id) == Submission.deliverable_id)
        .where(Comment.id == comment_id, Deliverable.project_id == access.project.id)
    ).first()
    if row is None:
        raise NotFound(detail="No such comment in this project.")
    comment, deliverable, number = row
    if number != deliverable.current_version or deliverable.status not in (Status.SUBMITTED, Status.IN_REVIEW):
        closed = "withdrawn" if deliverable.status == Status.WITHDRAWN else "decided"
        raise Conflict(
            detail=f"Comment #{comment.id} is on version {number} of {deliverable.code}, which is {closed}: "
            "its text, response and disposition stay on the record as they stood."
        )
    return comment, deliverable


def respond(
    db: Session, actor: Principal, access: Access, comment_id: int, response: str, version: int | None = None
) -> Comment:
    """The contractor's answer (or staff answering on the contractor's behalf)."""
    access.require(Perm.SUBMIT)
    comment, deliverable = _comment_for(db, access, comment_id)
    comment.check_seen(version, {"response": comment.response, "disposition": comment.disposition})
    response = response.strip()
    if not response:
        raise FormError({"response": "Write the response."})
    if len(response) > 8000:
        raise FormError({"response": "At most 8000 characters."})
    before = comment.response
    comment.response, comment.responded_by_id, comment.responded_at = response, actor.id, utcnow()
    audit.record(
        db,
        actor_id=actor.id,
        entity=comment,
        project_id=access.project.id,
        label=deliverable.code,
        action="respond",
        changes={"response": [before or None, response]},
    )
    db.flush()
    return comment


def set_disposition(
    db: Session,
    actor: Principal,
    access: Access,
    comment_id: int,
    disposition: Disposition | str,
    version: int | None = None,
) -> Comment:
    access.require(Perm.REVIEW)
    comment, deliverable = _comment_for(db, access, comment_id)
    comment.check_seen(version, {"response": comment.response, "disposition": comment.disposition})
    try:
        disposition = Disposition(disposition)
    except ValueError:
        raise FormError({"disposition": "Choose open, resolved, accepted as is or deferred."}) from None
    if comment.disposition != disposition:
        audit.record(
            db,
            actor_id=actor.id,
            entity=comment,
            project_id=access.project.id,
            label=deliverable.code,
            action="disposition",
            changes={"disposition": [comment.disposition, disposition.value]},
        )
        comment.disposition = disposition.value
        db.flush()
    return comment


def record_result(
    db: Session,
    actor: Principal,
    access: Access,
    deliverable: Deliverable,
    criterion_id: int,
    outcome: CriterionOutcome | str,
    evidence: str = "",
) -> CriterionResult:
    access.require(Perm.REVIEW)
    _reviewable(deliverable)
    submission = current_submission(db, deliverable)
    criterion = db.get(Criterion, criterion_id)
    if criterion is None or criterion.deliverable_id != deliverable.id or criterion.retired_at is not None:
        raise NotFound(detail="No such criterion on this deliverable.")
    try:
        outcome = CriterionOutcome(outcome)
    except ValueError:
        raise FormError({"outcome": "Choose met, not met or not applicable."}) from None
    if len(evidence) > 4000:
        raise FormError({"evidence": "At most 4000 characters."})
    result = db.exec(
        select(CriterionResult).where(
            CriterionResult.submission_id == submission.id, CriterionResult.criterion_id == criterion_id
        )
    ).first()
    before = result.outcome if result else None
    if result is None:
        result = CriterionResult(
            submission_id=submission.id,
            criterion_id=criterion_id,
            outcome=outcome.value,
            evidence=evidence,
            recorded_by_id=actor.id,
        )
        db.add(result)
    else:
        result.outcome, result.evidence, result.recorded_by_id, result.recorded_at = (
            outcome.value,
            evidence,
            actor.id,
            utcnow(),
        )
    db.flush()
    audit.record(
        db,
        actor_id=actor.id,
        entity=result,
        project_id=access.project.id,
        label=deliverable.code,
        action="criterion_result",
        changes={f"criterion {criterion.position}": [before, outcome.value]},
    )
    return result


def acceptance_blockers(db: Session, deliverable: Deliverable) -> list[str]:
    """Why the current version cannot be accepted yet; empty when it can."""
    submission = current_submission(db, deliverable)
    version = criteria.current(db, deliverable.id)
    if not version.criterion_ids:
        return ["The deliverable has no acceptance criteria: add them and record their agreement first."]
    blockers = []
    if version.agreed_at is None:
        blockers.append(f"Criteria version {version.number} is not agreed yet: record the State's agreement first.")
    results = dict(
        db.exec(
            select(CriterionResult.criterion_id, CriterionResult.outcome).where(
                CriterionResult.submission_id == submission.id
            )
        ).all()
    )
    for c in active_criteria(db, deliverable.id):
        outcome = results.get(c.id)
        if outcome is None:
            blockers.append(f"Criterion {c.position} has no result yet: “{c.text}”.")
        elif outcome == CriterionOutcome.NOT_MET:
            blockers.append(f"Criterion {c.position} is not met: “{c.text}”.")
    critical = db.exec(
        select(Comment.id).where(
            Comment.submission_id == submission.id,
            Comment.severity == Severity.CRITICAL,
            Comment.disposition == Disposition.OPEN,
        )
    ).all()
    if critical:
        blockers.append(f"{len(critical)} critical comment{'s are' if len(critical) != 1 else ' is'} still open.")
    return blockers


class DecisionForm(Form):
    labels = LABELS
    outcome: Outcome
    findings: str = Field(default="", max_length=20000)
    conditions: str = Field(default="", max_length=20000)  # one per line; each is tracked to its due date
    conditions_due: OptionalDate = None
    conditions_owner_id: OptionalInt = None  # who owes them (a project member); each can be changed later


_DECISION_ACTIONS = {
    Outcome.ACCEPTED: Action.ACCEPT,
    Outcome.CONDITIONALLY_ACCEPTED: Action.CONDITIONALLY_ACCEPT,
    Outcome.REJECTED: Action.REJECT,
}


def decide(
    db: Session,
    actor: Principal,
    access: Access,
    deliverable: Deliverable,
    form: DecisionForm,
    expected_version: int | None = None,
    *,
    store: FileStore,
) -> Decision:
    """Accept, conditionally accept or reject the current version. Written once, never edited."""
    if form.outcome not in _DECISION_ACTIONS:
        raise FormError({"outcome": "Choose accept, accept with conditions, or reject."})
    deliverable.check_seen(expected_version, {"status": deliverable.status})
    action = _DECISION_ACTIONS[form.outcome]
    workflow_check(
        action, deliverable, access
    )  # role and state first: a viewer learns "not allowed", not what is missing
    if form.outcome is Outcome.ACCEPTED and (blockers := acceptance_blockers(db, deliverable)):
        raise Conflict(detail="Cannot accept yet: " + " ".join(blockers), extra={"blockers": blockers})
    lines: list[str] = []
    if form.outcome is Outcome.CONDITIONALLY_ACCEPTED:
        errors = {}
        try:
            lines = conditions.lines_of(form.conditions)
            conditions.check_owner(db, access.project.id, form.conditions_owner_id, "conditions_owner_id")
        except FormError as exc:
            errors.update(exc.errors)
        if not lines and "conditions" not in errors:
            errors["conditions"] = "List the conditions the contractor must meet, one per line."
        if form.conditions_due is None:
            errors["conditions_due"] = "Give the date the conditions are due."
        elif form.conditions_due < project_today(access.project):
            errors["conditions_due"] = "The due date is in the past."
        if errors:
            raise FormError(errors)
    if form.outcome is Outcome.REJECTED and not form.findings.strip():
        raise FormError({"findings": "A rejection needs findings: what must change for acceptance."})
    submission = current_submission(db, deliverable)
    judged = criteria.current(db, deliverable.id)
    decision = Decision(
        deliverable_id=deliverable.id,
        submission_id=submission.id,
        outcome=form.outcome.value,
        findings=form.findings.strip(),
        conditions="\n".join(lines),
        conditions_due=form.conditions_due if lines else None,
        decided_by_id=actor.id,
        criteria_version=judged.number,
    )
    db.add(decision)
    changes: dict = {"decision": [None, form.outcome.value], "criteria version": [None, judged.number]}
    if form.outcome is Outcome.REJECTED:
        deliverable.resubmit_due = due_after(
            access.project, project_today(access.project), access.project.resubmit_days
        )
        changes["resubmit_due"] = [None, deliverable.resubmit_due]
    transition(db, actor, access, deliverable, action, changes=changes)
    for assignment in db.exec(
        select(ReviewAssignment).where(
            ReviewAssignment.submission_id == submission.id, col(ReviewAssignment.completed_at).is_(None)
        )
    ):
        assignment.completed_at = utcnow()
    deliverable.review_due = deliverable.deemed_on = None
    db.flush()  # the unique (submission, closes) key turns a concurrent second decision into a 409 here
    if lines:
        conditions.create_for(db, decision, lines, form.conditions_due, form.conditions_owner_id)
    records.generate_after_commit(db, decision, store)
    return decision


def confirm_condition(
    db: Session,
    actor: Principal,
    access: Access,
    deliverable: Deliverable,
    condition_id: int,
    evidence: str,
    seen: int | None = None,
    *,
    store: FileStore,
) -> Decision | None:
    """Record one condition as met; the last one met accepts the deliverable (the decision it returns)."""
    condition = conditions.get(db, deliverable, condition_id, seen)
    conditions.confirm(db, actor, access, deliverable, condition, evidence)
    return None if conditions.open_of(db, deliverable.id) else _close_conditional(db, actor, access, deliverable, store)


def conditions_met(
    db: Session,
    actor: Principal,
    access: Access,
    deliverable: Deliverable,
    evidence: str,
    expected_version: int | None = None,
    *,
    store: FileStore,
) -> Decision:
    """Confirm every open condition at once, with the same evidence, and accept the deliverable."""
    deliverable.check_seen(expected_version, {"status": deliverable.status})
    workflow_check(Action.CONDITIONS_MET, deliverable, access)
    for condition in conditions.open_of(db, deliverable.id):
        conditions.confirm(db, actor, access, deliverable, condition, evidence)
    return _close_conditional(db, actor, access, deliverable, store)


def _close_conditional(
    db: Session, actor: Principal, access: Access, deliverable: Deliverable, store: FileStore
) -> Decision:
    conditional = db.exec(
        select(Decision)
        .where(Decision.deliverable_id == deliverable.id, Decision.outcome == Outcome.CONDITIONALLY_ACCEPTED)
        .order_by(col(Decision.id).desc())
    ).first()
    transition(db, actor, access, deliverable, Action.CONDITIONS_MET)
    if conditional is None:
        raise Conflict(detail="There is no conditional acceptance to close.")
    met = [
        f"{c.condition.position}. {c.condition.text} — {c.condition.evidence}"
        for c in conditions.of_deliverable(db, deliverable.id)
        if c.condition.decision_id == conditional.id
    ]
    decision = Decision(
        deliverable_id=deliverable.id,
        submission_id=conditional.submission_id,
        outcome=Outcome.ACCEPTED.value,
        findings=("Conditions met:\n" + "\n".join(met))[:20000],
        closes_id=conditional.id,
        decided_by_id=actor.id,
        criteria_version=conditional.criteria_version,
    )
    db.add(decision)
    db.flush()
    records.generate_after_commit(db, decision, store)
    return decision


def workflow_check(action: Action, deliverable: Deliverable, access: Access) -> None:
    """Refuse an action the table does not allow now: 403 for the role, 409 for the state."""
    try:
        workflow.next_status(action, deliverable.status, access.perms)
    except NotAllowed as exc:
        raise (Conflict if exc.wrong_state else Forbidden)(detail=exc.message) from None


def withdraw(db: Session, actor: Principal, access: Access, deliverable: Deliverable, reason: str) -> None:
    reason = reason.strip()
    if not reason:
        raise FormError({"reason": "Say why the deliverable is withdrawn."})
    if len(reason) > 2000:
        raise FormError({"reason": "At most 2000 characters."})
    transition(
        db,
        actor,
        access,
        deliverable,
        Action.WITHDRAW,
        changes={"withdrawn_reason": [None, reason], **_clock_stopped(deliverable)},
    )
    deliverable.withdrawn_reason = reason
    deliverable.review_due = deliverable.resubmit_due = deliverable.deemed_on = None
    db.flush()


# --- loading for a user ---------------------------------------------------------------------------------


def load_for(db: Session, user: Principal, deliverable_id: int, perm: Perm = Perm.VIEW) -> tuple[Access, Deliverable]:
    """A deliverable by id for `user`: 404 unless they may see its project, 403 when they lack `perm`."""
    return load_record(db, user, Deliverable, deliverable_id, perm, "deliverable")


def criteria_texts(db: Session, deliverable_ids: list[int]) -> dict[int, list[str]]:
    """The active criteria of many deliverables in one query."""
    out: dict[int, list[str]] = {i: [] for i in deliverable_ids}
    if deliverable_ids:
        stmt = (
            select(Criterion.deliverable_id, Criterion.text)
            .where(col(Criterion.deliverable_id).in_(deliverable_ids), col(Criterion.retired_at).is_(None))
            .order_by(Criterion.deliverable_id, Criterion.position)
        )
        for deliverable_id, text in db.exec(stmt):
            out[deliverable_id].append(text)
    return out


def file_for(db: Session, access: Access, deliverable: Deliverable, file_id: int) -> SubmissionFile:
    row = db.exec(
        select(SubmissionFile)
        .join(Submission, col(Submission.id) == SubmissionFile.submission_id)
        .where(SubmissionFile.id == file_id, Submission.deliverable_id == deliverable.id)
    ).first()
    if row is None:
        raise NotFound(detail="No such file on this deliverable.")
    return row


# --- list and detail queries for pages ----------------------------------------------------------------

SORTS = {
    "code": (Deliverable.code,),
    "due": (Deliverable.due_date, Deliverable.code),
    "status": (Deliverable.status, Deliverable.code),
    "review": (Deliverable.review_due, Deliverable.code),
}
PAGE_SIZE = 25


class ListQuery(Form):
    status: Status | None = None
    type: DeliverableType | None = None
    owner: OptionalInt = None
    overdue: bool = False
    q: str = Field(default="", max_length=100)
    sort: str = "code"
    page: int = Field(default=1, ge=1, le=100_000)

    @field_validator("status", "type", mode="before")
    @classmethod
    def _blank(cls, v: object) -> object:
        return v or None

    @field_validator("sort")
    @classmethod
    def _sort(cls, v: str) -> str:
        return v if v.lstrip("-") in SORTS else "code"


@dataclass(frozen=True)
class ListRow:
    deliverable: Deliverable
    owner_name: str | None
    open_critical: int
    days_overdue: int  # calendar days past the running clock (delivery, review or resubmission); 0 if on time


def overdue_clause(today: date):
    """The running clock has passed: `days_overdue` > 0, in SQL."""
    return or_(
        and_(Deliverable.status == Status.PLANNED, col(Deliverable.due_date) < today),
        and_(col(Deliverable.status).in_([Status.SUBMITTED, Status.IN_REVIEW]), col(Deliverable.review_due) < today),
        and_(Deliverable.status == Status.REJECTED, col(Deliverable.resubmit_due) < today),
    )


def running_clock(d: Deliverable) -> date | None:
    """The date the deliverable is waiting on now: delivery, the state's review, or the resubmission.
    `clock_expr` is the same rule in SQL."""
    if d.status == Status.PLANNED:
        return d.due_date
    if d.status in (Status.SUBMITTED, Status.IN_REVIEW):
        return d.review_due
    if d.status == Status.REJECTED:
        return d.resubmit_due
    return None


def clock_expr():
    return case(
        (Deliverable.status == Status.PLANNED, Deliverable.due_date),
        (col(Deliverable.status).in_([Status.SUBMITTED, Status.IN_REVIEW]), Deliverable.review_due),
        (Deliverable.status == Status.REJECTED, Deliverable.resubmit_due),
        else_=None,
    )


# What each running clock waits for, as the status report lists it. Every running clock counts as a deadline: the
# contractor's delivery and resubmission ("upcoming") as much as the state's own review ("reviews due").
CLOCK_KINDS = {
    Status.PLANNED: ("deliveries", "Delivery due"),
    Status.SUBMITTED: ("reviews", "State review due"),
    Status.IN_REVIEW: ("reviews", "State review due"),
    Status.REJECTED: ("resubmissions", "Resubmission due"),
}


def days_overdue(clock: date | None, today: date) -> int:
    """Calendar days past the running clock; 0 when on time or when nothing is awaited."""
    return max(0, (today - clock).days) if clock else 0


def days_overdue_clause(today: date, low: int | None = None, high: int | None = None):
    """`low` <= days_overdue <= `high` in SQL (either end open), for filters over any number of rows."""
    clock, parts = clock_expr(), []
    if low is not None and low > 0:
        parts.append(clock <= today - timedelta(days=low))
    if high is not None:
        parts.append(or_(clock.is_(None), clock >= today - timedelta(days=high)) if high >= 0 else false())
    return and_(true(), *parts)


def open_critical_count():
    """Open critical comments on the deliverable's current version: each blocks acceptance."""
    return (
        select(func.count(Comment.id))
        .join(Submission, col(Submission.id) == Comment.submission_id)
        .where(
            Submission.deliverable_id == Deliverable.id,
            Submission.number == Deliverable.current_version,
            Comment.severity == Severity.CRITICAL,
            Comment.disposition == Disposition.OPEN,
        )
        .correlate(Deliverable)
        .scalar_subquery()
    )


def list_page(
    db: Session, access: Access, query: ListQuery, limit: int = PAGE_SIZE, offset: int | None = None
) -> tuple[list[ListRow], int]:
    """One page of the project's deliverables in two queries, whatever the number of rows. Pages number by
    `query.page`; the API passes its own limit and offset."""
    today = project_today(access.project)
    where = [Deliverable.project_id == access.project.id]
    if query.status:
        where.append(Deliverable.status == query.status.value)
    if query.type:
        where.append(Deliverable.type == query.type.value)
    if query.owner:
        where.append(Deliverable.owner_id == query.owner)
    if query.overdue:
        where.append(overdue_clause(today))
    if query.q:
        like = f"%{query.q.lower()}%"
        where.append(or_(func.lower(Deliverable.code).like(like), func.lower(Deliverable.title).like(like)))
    total = db.exec(select(func.count()).select_from(Deliverable).where(*where)).one()
    critical = open_critical_count()
    descending = query.sort.startswith("-")
    order = [c.desc() if descending else c for c in SORTS[query.sort.lstrip("-")]]
    stmt = (
        select(Deliverable, User.full_name, critical)
        .outerjoin(User, col(User.id) == Deliverable.owner_id)
        .where(*where)
        .order_by(*order)
        .limit(limit)
        .offset((query.page - 1) * limit if offset is None else offset)
    )
    rows = []
    for d, owner, crit in db.exec(stmt):
        rows.append(ListRow(d, owner, crit or 0, days_overdue(running_clock(d), today)))
    return rows, total


def reviewers_and_owners(db: Session, project_id: int) -> list[tuple[int, str]]:
    stmt = (
        select(User.id, User.full_name)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(Membership.project_id == project_id, col(Membership.role).in_(["manager", "staff"]))
        .order_by(User.full_name)
    )
    return [(i, n) for i, n in db.exec(stmt)]


COMMENT_LOG_HEADERS = (
    "Version",
    "Comment #",
    "Carried from #",
    "Reviewer",
    "Location",
    "Severity",
    "Comment",
    "Contractor response",
    "Disposition",
    "Raised at",
)


def comment_log(db: Session, deliverable: Deliverable) -> tuple[tuple[str, ...], list[tuple]]:
    stmt = (
        select(Submission.number, Comment, User.full_name)
        .join(Submission, col(Submission.id) == Comment.submission_id)
        .join(User, col(User.id) == Comment.reviewer_id)
        .where(Submission.deliverable_id == deliverable.id)
        .order_by(Submission.number, Comment.id)
    )
    rows = [
        (
            number,
            c.id,
            c.carried_from_id or "",
            reviewer,
            c.location,
            c.severity,
            c.text,
            c.response,
            c.disposition.replace("_", " "),
            c.created_at,
        )
        for number, c, reviewer in db.exec(stmt)
    ]
    return COMMENT_LOG_HEADERS, rows


# --- the record page --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionRow:
    criterion: Criterion
    result: CriterionResult | None


def criteria_with_results(db: Session, deliverable: Deliverable) -> list[CriterionRow]:
    """The active criteria, each with its result on the current version, in one query."""
    stmt = (
        select(Criterion, CriterionResult)
        .outerjoin(
            Submission,
            (Submission.deliverable_id == Criterion.deliverable_id)
            & (Submission.number == deliverable.current_version),
        )
        .outerjoin(
            CriterionResult,
            (CriterionResult.criterion_id == Criterion.id) & (CriterionResult.submission_id == Submission.id),
        )
        .where(Criterion.deliverable_id == deliverable.id, col(Criterion.retired_at).is_(None))
        .order_by(Criterion.position)
    )
    return [CriterionRow(c, r) for c, r in db.exec(stmt)]


@dataclass(frozen=True)
class AssignmentRow:
    assignment: ReviewAssignment
    reviewer_name: str


def assignments_of(db: Session, deliverable: Deliverable) -> list[AssignmentRow]:
    """Reviewers of the current version with their due dates."""
    stmt = (
        select(ReviewAssignment, User.full_name)
        .join(Submission, col(Submission.id) == ReviewAssignment.submission_id)
        .join(User, col(User.id) == ReviewAssignment.reviewer_id)
        .where(Submission.deliverable_id == deliverable.id, Submission.number == deliverable.current_version)
        .order_by(ReviewAssignment.due_date, User.full_name)
    )
    return [AssignmentRow(a, name) for a, name in db.exec(stmt)]


class CommentFilter(Form):
    severity: Severity | None = None
    disposition: Disposition | None = None

    @field_validator("severity", "disposition", mode="before")
    @classmethod
    def _blank(cls, v: object) -> object:
        return v or None


def filter_comments(comments: list[Comment], query: CommentFilter) -> list[Comment]:
    """Filter the (short, already loaded) log of one version; the counts above it stay unfiltered."""
    return [
        c
        for c in comments
        if (not query.severity or c.severity == query.severity)
        and (not query.disposition or c.disposition == query.disposition)
    ]


TIMELINE_ENTITIES = ("deliverable", "comment", "review_assignment", "criterion_result", "generated_record")


def timeline(db: Session, deliverable: Deliverable, limit: int = 200) -> list[audit.EventRow]:
    """Everything that happened to the deliverable and its versions, newest first: the audit trail of the
    deliverable and of its comments, reviews and results (all recorded under its code)."""
    return audit.for_record(db, deliverable.project_id, TIMELINE_ENTITIES, deliverable.code, limit=limit)


# --- contract clocks: deemed acceptance and escalation ---------------------------------------------------

DEEMED_WARNING_DAYS = 5  # calendar days before deemed acceptance that the record and My work warn


def deemed_warning(d: Deliverable, today: date) -> int | None:
    """Days left before silence becomes acceptance, when that is near; None otherwise."""
    if d.deemed_on is None or d.status not in (Status.SUBMITTED, Status.IN_REVIEW):
        return None
    left = (d.deemed_on - today).days
    return left if left <= DEEMED_WARNING_DAYS else None


@dataclass
class ClockRun:
    deemed: list[str]
    escalated: list[str]


def run_clocks(db: Session, store: FileStore, now: datetime | None = None) -> ClockRun:
    """Apply the contract clocks once: deem accepted what the state left silent past its deemed day (deemed
    policy), and escalate reviews that ran overdue (never-deemed policy). Idempotent, safe to run from several
    workers: each deliverable changes in its own savepoint under its version check."""
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm.exc import StaleDataError

    now = now or utcnow()
    horizon = now.date() + timedelta(days=1)  # widest project time zone; the exact day is checked per project
    waiting = [Status.SUBMITTED, Status.IN_REVIEW]
    rows = db.exec(
        select(Deliverable, Project)
        .join(Project, col(Project.id) == Deliverable.project_id)
        .where(
            col(Deliverable.status).in_(waiting),
            or_(
                col(Deliverable.deemed_on) < horizon,
                and_(
                    col(Deliverable.review_due) < horizon,
                    col(Deliverable.escalated_at).is_(None),
                    Project.deemed_policy == DeemedPolicy.NEVER,
                ),
            ),
        )
        .order_by(Deliverable.id)
    ).all()
    run = ClockRun([], [])
    for d, project in rows:
        today = project_today(project, now)
        label = f"{project.key} {d.code}"
        try:
            with db.begin_nested():
                if project.deemed_policy == DeemedPolicy.DEEMED and d.deemed_on and d.deemed_on < today:
                    deem_accept(db, project, d, store)
                    run.deemed.append(label)
                elif (
                    project.deemed_policy == DeemedPolicy.NEVER
                    and d.review_due
                    and d.review_due < today
                    and d.escalated_at is None
                ):
                    d.escalated_at = now
                    audit.record(
                        db,
                        actor_id=None,
                        entity=d,
                        project_id=project.id,
                        label=d.code,
                        action="escalate",
                        changes={
                            "escalated": [None, f"review due {d.review_due.isoformat()} passed without a decision"]
                        },
                    )
                    db.flush()
                    run.escalated.append(label)
        except (StaleDataError, IntegrityError):
            continue  # another worker got there first
    return run


def deem_accept(db: Session, project: Project, d: Deliverable, store: FileStore) -> Decision:
    """Record the acceptance the contract deems from the state's silence: no person decided it."""
    submission = current_submission(db, d)
    decision = Decision(
        deliverable_id=d.id,
        submission_id=submission.id,
        outcome=Outcome.DEEMED_ACCEPTED.value,
        findings=f"Deemed accepted under the contract's terms: no decision within "
        f"{project.deemed_days} business days of submission (deemed on "
        f"{d.deemed_on.isoformat()}).",
        decided_by_id=None,
        criteria_version=criteria.current(db, d.id).number,
    )
    db.add(decision)
    transition(db, None, None, d, Action.DEEM_ACCEPT, changes={"decision": [None, Outcome.DEEMED_ACCEPTED.value]})
    for assignment in db.exec(
        select(ReviewAssignment).where(
            ReviewAssignment.submission_id == submission.id, col(ReviewAssignment.completed_at).is_(None)
        )
    ):
        assignment.completed_at = utcnow()
    d.review_due = d.deemed_on = None
    db.flush()
    records.generate_after_commit(db, decision, store)
    return decision


# --- holdback ledger --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerRow:
    deliverable: Deliverable
    payment: Decimal
    holdback: Decimal
    paid: Decimal  # paid to date: in full on acceptance, less the holdback on a conditional acceptance
    state: str  # pending (nothing payable yet) | withheld | released | cancelled
    released_on: datetime | None


@dataclass(frozen=True)
class Ledger:
    rows: list[LedgerRow]
    payment: Decimal
    paid: Decimal
    withheld: Decimal
    released: Decimal
    pending: Decimal


LEDGER_STATES = {Status.ACCEPTED: "released", Status.CONDITIONALLY_ACCEPTED: "withheld", Status.WITHDRAWN: "cancelled"}


def holdback_of(d: Deliverable) -> Decimal:
    if d.payment_amount is None or d.holdback_pct is None:
        return Decimal("0.00")
    return (d.payment_amount * d.holdback_pct / 100).quantize(Decimal("0.01"))


def holdback_ledgers(db: Session, project_ids: list[int]) -> dict[int, Ledger]:
    """Per deliverable what is paid, withheld and released: a conditional acceptance pays the amount less the
    holdback, the final acceptance releases the holdback. With each project's totals, in one query."""
    accepted_at = (
        select(func.max(Decision.decided_at))
        .where(
            Decision.deliverable_id == Deliverable.id,
            col(Decision.outcome).in_([Outcome.ACCEPTED, Outcome.DEEMED_ACCEPTED]),
        )
        .correlate(Deliverable)
        .scalar_subquery()
    )
    stmt = (
        select(Deliverable, accepted_at)
        .where(col(Deliverable.project_id).in_(project_ids), col(Deliverable.payment_amount).is_not(None))
        .order_by(Deliverable.project_id, Deliverable.code)
    )
    rows: dict[int, list[LedgerRow]] = {i: [] for i in project_ids}
    for d, released_on in db.exec(stmt) if project_ids else []:
        state = LEDGER_STATES.get(Status(d.status), "pending")
        holdback = holdback_of(d)
        paid = {"released": d.payment_amount, "withheld": d.payment_amount - holdback}.get(state, Decimal("0.00"))
        rows[d.project_id].append(
            LedgerRow(d, d.payment_amount, holdback, paid, state, released_on if state == "released" else None)
        )

    def total(values: Iterable[Decimal]) -> Decimal:
        return sum(values, Decimal("0.00"))

    return {
        i: Ledger(
            r,
            total(x.payment for x in r if x.state != "cancelled"),
            total(x.paid for x in r),
            *(total(x.holdback for x in r if x.state == s) for s in ("withheld", "released", "pending")),
        )
        for i, r in rows.items()
    }


def holdback_ledger(db: Session, project_id: int) -> Ledger:
    return holdback_ledgers(db, [project_id])[project_id]


@dataclass(frozen=True)
class DecisionRow:
    decision: Decision
    code: str
    title: str
    version: int
    decided_by: str | None  # None: deemed by the contract clock


def decisions_of(db: Session, project_id: int) -> list[DecisionRow]:
    """Every deliverable decision of the project, newest first, in one query: what was decided, on which version,
    by whom, against which criteria version."""
    stmt = (
        select(Decision, Deliverable.code, Deliverable.title, Submission.number, User.full_name)
        .join(Deliverable, col(Deliverable.id) == Decision.deliverable_id)
        .join(Submission, col(Submission.id) == Decision.submission_id)
        .outerjoin(User, col(User.id) == Decision.decided_by_id)
        .where(Deliverable.project_id == project_id)
        .order_by(col(Decision.decided_at).desc(), col(Decision.id).desc())
    )
    return [DecisionRow(*row) for row in db.exec(stmt)]
