"""Deliverable rules: planning with acceptance criteria, submitting versions with files, the review clock,
and carrying open comments forward. Services never commit; the request does, once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from sqlalchemy import and_
from sqlmodel import Session, col, func, or_, select

from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import service as audit
from tracker.core.calendar import add_business_days, holidays_between
from tracker.core.db import utcnow
from tracker.core.errors import Conflict, Forbidden, FormError, NotFound
from tracker.core.files import FileStore, safe_filename
from tracker.core.forms import Form, OptionalDate, OptionalInt
from tracker.deliverables import workflow
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
from tracker.projects.models import Membership, Project
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.projects.service import get_for as get_project_for  # same name here means a deliverable

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
    """Move the deliverable along the workflow table, or refuse: 409 wrong state, 403 wrong role.
    Without `access` the system clock acts (deemed acceptance)."""
    try:
        target = workflow.next_status(action, deliverable.status, access.perms if access else None)
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
    deliverable.check_seen(expected_version, {"status": deliverable.status,
                                              "current_version": deliverable.current_version})  # fmt: skip
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


# --- review ---------------------------------------------------------------------------------------------


def current_submission(db: Session, deliverable: Deliverable) -> Submission:
    submission = _latest_submission(db, deliverable.id)
    if submission is None:
        raise Conflict(detail="Nothing has been submitted yet.")
    return submission


def _reviewable(deliverable: Deliverable) -> None:
    if deliverable.status not in (Status.SUBMITTED, Status.IN_REVIEW):
        raise Conflict(detail=f"A deliverable that is {workflow.STATUS_LABELS[Status(deliverable.status)].lower()} "
                              "is not under review.")  # fmt: skip


def _state_reviewer(db: Session, project_id: int, user_id: int) -> None:
    role = db.exec(
        select(Membership.role).where(Membership.project_id == project_id, Membership.user_id == user_id)
    ).first()
    if role not in ("manager", "staff"):
        raise FormError({"reviewer_id": "Reviewers must be managers or staff of this project."})


def start_review(db: Session, actor: Principal, access: Access, deliverable: Deliverable,
                 reviewer_ids: list[int] | None = None) -> list[ReviewAssignment]:  # fmt: skip
    submission = current_submission(db, deliverable)
    transition(db, actor, access, deliverable, Action.START_REVIEW)
    assignments = [assign_reviewer(db, actor, access, deliverable, uid, submission.review_due) for uid in reviewer_ids or []]
    return assignments


def assign_reviewer(db: Session, actor: Principal, access: Access, deliverable: Deliverable, reviewer_id: int,
                    due: date | None = None) -> ReviewAssignment:  # fmt: skip
    access.require(Perm.REVIEW)
    _reviewable(deliverable)
    _state_reviewer(db, access.project.id, reviewer_id)
    submission = current_submission(db, deliverable)
    exists = db.exec(select(ReviewAssignment).where(ReviewAssignment.submission_id == submission.id,
                                                    ReviewAssignment.reviewer_id == reviewer_id)).first()  # fmt: skip
    if exists:
        raise FormError({"reviewer_id": "Already assigned to this version."})
    assignment = ReviewAssignment(submission_id=submission.id, reviewer_id=reviewer_id,
                                  due_date=due or submission.review_due)  # fmt: skip
    db.add(assignment)
    db.flush()
    audit.record(db, actor_id=actor.id, entity=assignment, project_id=access.project.id, label=deliverable.code,
                 action="assign_reviewer", changes={"reviewer_id": [None, reviewer_id],
                                                    "due_date": [None, assignment.due_date]})  # fmt: skip
    return assignment


class CommentForm(Form):
    location: str = Field(default="", max_length=200)
    text: str = Field(min_length=1, max_length=8000)
    severity: Severity


def add_comment(db: Session, actor: Principal, access: Access, deliverable: Deliverable, form: CommentForm) -> Comment:
    access.require(Perm.REVIEW)
    _reviewable(deliverable)
    submission = current_submission(db, deliverable)
    comment = Comment(submission_id=submission.id, reviewer_id=actor.id, location=form.location, text=form.text,
                      severity=form.severity.value)  # fmt: skip
    db.add(comment)
    db.flush()
    audit.record(db, actor_id=actor.id, entity=comment, project_id=access.project.id, label=deliverable.code,
                 action="comment", changes={"severity": [None, comment.severity], "text": [None, comment.text]})  # fmt: skip
    return comment


def _comment_for(db: Session, access: Access, comment_id: int) -> tuple[Comment, Deliverable]:
    row = db.exec(
        select(Comment, Deliverable)
        .join(Submission, col(Submission.id) == Comment.submission_id)
        .join(Deliverable, col(Deliverable.id) == Submission.deliverable_id)
        .where(Comment.id == comment_id, Deliverable.project_id == access.project.id)
    ).first()
    if row is None:
        raise NotFound(detail="No such comment in this project.")
    return row


def respond(db: Session, actor: Principal, access: Access, comment_id: int, response: str,
            version: int | None = None) -> Comment:  # fmt: skip
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
    audit.record(db, actor_id=actor.id, entity=comment, project_id=access.project.id, label=deliverable.code,
                 action="respond", changes={"response": [before or None, response]})  # fmt: skip
    db.flush()
    return comment


def set_disposition(db: Session, actor: Principal, access: Access, comment_id: int, disposition: Disposition | str,
                    version: int | None = None) -> Comment:  # fmt: skip
    access.require(Perm.REVIEW)
    comment, deliverable = _comment_for(db, access, comment_id)
    comment.check_seen(version, {"response": comment.response, "disposition": comment.disposition})
    try:
        disposition = Disposition(disposition)
    except ValueError:
        raise FormError({"disposition": "Choose open, resolved, accepted as is or deferred."}) from None
    if comment.disposition != disposition:
        audit.record(db, actor_id=actor.id, entity=comment, project_id=access.project.id, label=deliverable.code,
                     action="disposition", changes={"disposition": [comment.disposition, disposition.value]})  # fmt: skip
        comment.disposition = disposition.value
        db.flush()
    return comment


def record_result(db: Session, actor: Principal, access: Access, deliverable: Deliverable, criterion_id: int,
                  outcome: CriterionOutcome | str, evidence: str = "") -> CriterionResult:  # fmt: skip
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
    result = db.exec(select(CriterionResult).where(CriterionResult.submission_id == submission.id,
                                                   CriterionResult.criterion_id == criterion_id)).first()  # fmt: skip
    before = result.outcome if result else None
    if result is None:
        result = CriterionResult(submission_id=submission.id, criterion_id=criterion_id, outcome=outcome.value,
                                 evidence=evidence, recorded_by_id=actor.id)  # fmt: skip
        db.add(result)
    else:
        result.outcome, result.evidence, result.recorded_by_id, result.recorded_at = (
            outcome.value, evidence, actor.id, utcnow())  # fmt: skip
    db.flush()
    audit.record(db, actor_id=actor.id, entity=result, project_id=access.project.id, label=deliverable.code,
                 action="criterion_result", changes={f"criterion {criterion.position}": [before, outcome.value]})  # fmt: skip
    return result


def acceptance_blockers(db: Session, deliverable: Deliverable) -> list[str]:
    """Why the current version cannot be accepted yet; empty when it can."""
    submission = current_submission(db, deliverable)
    results = dict(db.exec(select(CriterionResult.criterion_id, CriterionResult.outcome)
                           .where(CriterionResult.submission_id == submission.id)).all())  # fmt: skip
    blockers = []
    for c in active_criteria(db, deliverable.id):
        outcome = results.get(c.id)
        if outcome is None:
            blockers.append(f"Criterion {c.position} has no result yet: “{c.text}”.")
        elif outcome == CriterionOutcome.NOT_MET:
            blockers.append(f"Criterion {c.position} is not met: “{c.text}”.")
    critical = db.exec(select(Comment.id).where(Comment.submission_id == submission.id,
                                                Comment.severity == Severity.CRITICAL,
                                                Comment.disposition == Disposition.OPEN)).all()  # fmt: skip
    if critical:
        blockers.append(f"{len(critical)} critical comment{'s are' if len(critical) != 1 else ' is'} still open.")
    return blockers


class DecisionForm(Form):
    outcome: Outcome
    findings: str = Field(default="", max_length=20000)
    conditions: str = Field(default="", max_length=20000)
    conditions_due: OptionalDate = None


_DECISION_ACTIONS = {
    Outcome.ACCEPTED: Action.ACCEPT,
    Outcome.CONDITIONALLY_ACCEPTED: Action.CONDITIONALLY_ACCEPT,
    Outcome.REJECTED: Action.REJECT,
}


def decide(db: Session, actor: Principal, access: Access, deliverable: Deliverable, form: DecisionForm,
           expected_version: int | None = None) -> Decision:  # fmt: skip
    """Accept, conditionally accept or reject the current version. Written once, never edited."""
    if form.outcome not in _DECISION_ACTIONS:
        raise FormError({"outcome": "Choose accept, accept with conditions, or reject."})
    deliverable.check_seen(expected_version, {"status": deliverable.status})
    action = _DECISION_ACTIONS[form.outcome]
    try:  # role and state first, so a viewer learns "not allowed" rather than what is missing
        workflow.next_status(action, deliverable.status, access.perms)
    except NotAllowed as exc:
        raise (Conflict if exc.wrong_state else Forbidden)(detail=exc.message) from None
    if form.outcome is Outcome.ACCEPTED and (blockers := acceptance_blockers(db, deliverable)):
        raise Conflict(detail="Cannot accept yet: " + " ".join(blockers), extra={"blockers": blockers})
    if form.outcome is Outcome.CONDITIONALLY_ACCEPTED:
        errors = {}
        if not form.conditions.strip():
            errors["conditions"] = "List the conditions the contractor must meet."
        if form.conditions_due is None:
            errors["conditions_due"] = "Give the date the conditions are due."
        elif form.conditions_due < project_today(access.project):
            errors["conditions_due"] = "The due date is in the past."
        if errors:
            raise FormError(errors)
    if form.outcome is Outcome.REJECTED and not form.findings.strip():
        raise FormError({"findings": "A rejection needs findings: what must change for acceptance."})
    submission = current_submission(db, deliverable)
    decision = Decision(deliverable_id=deliverable.id, submission_id=submission.id, outcome=form.outcome.value,
                        findings=form.findings.strip(), conditions=form.conditions.strip(),
                        conditions_due=form.conditions_due, decided_by_id=actor.id)  # fmt: skip
    db.add(decision)
    changes: dict = {"decision": [None, form.outcome.value]}
    if form.outcome is Outcome.REJECTED:
        deliverable.resubmit_due = due_after(access.project, project_today(access.project), access.project.resubmit_days)
        changes["resubmit_due"] = [None, deliverable.resubmit_due]
    transition(db, actor, access, deliverable, action, changes=changes)
    for assignment in db.exec(select(ReviewAssignment).where(ReviewAssignment.submission_id == submission.id,
                                                             col(ReviewAssignment.completed_at).is_(None))):  # fmt: skip
        assignment.completed_at = utcnow()
    deliverable.review_due = None
    db.flush()  # the unique (submission, closes) key turns a concurrent second decision into a 409 here
    return decision


def conditions_met(db: Session, actor: Principal, access: Access, deliverable: Deliverable, note: str = "") -> Decision:
    conditional = db.exec(select(Decision).where(Decision.deliverable_id == deliverable.id,
                                                 Decision.outcome == Outcome.CONDITIONALLY_ACCEPTED)
                          .order_by(col(Decision.id).desc())).first()  # fmt: skip
    transition(db, actor, access, deliverable, Action.CONDITIONS_MET)
    if conditional is None:
        raise Conflict(detail="There is no conditional acceptance to close.")
    decision = Decision(deliverable_id=deliverable.id, submission_id=conditional.submission_id,
                        outcome=Outcome.ACCEPTED.value, findings=note.strip()[:20000], closes_id=conditional.id,
                        decided_by_id=actor.id)  # fmt: skip
    db.add(decision)
    db.flush()
    return decision


def withdraw(db: Session, actor: Principal, access: Access, deliverable: Deliverable, reason: str) -> None:
    reason = reason.strip()
    if not reason:
        raise FormError({"reason": "Say why the deliverable is withdrawn."})
    if len(reason) > 2000:
        raise FormError({"reason": "At most 2000 characters."})
    transition(db, actor, access, deliverable, Action.WITHDRAW, changes={"withdrawn_reason": [None, reason]})
    deliverable.withdrawn_reason = reason
    deliverable.review_due = deliverable.resubmit_due = None
    db.flush()


# --- loading for a user ---------------------------------------------------------------------------------


def load_for(db: Session, user: Principal, deliverable_id: int, perm: Perm = Perm.VIEW) -> tuple[Access, Deliverable]:
    """A deliverable by id for `user`: 404 unless they may see its project, 403 when they lack `perm`."""
    row = db.exec(select(Deliverable, Project.key).join(Project, col(Project.id) == Deliverable.project_id)
                  .where(Deliverable.id == deliverable_id)).first()  # fmt: skip
    if row is None:
        raise NotFound(detail="No such deliverable.")
    deliverable, key = row
    try:
        access = get_project_for(db, user, key, perm)
    except NotFound:
        raise NotFound(detail="No such deliverable.") from None
    return access, deliverable


def list_for(db: Session, access: Access, status: str | None = None, limit: int = 50,
             offset: int = 0) -> tuple[list[Deliverable], int]:  # fmt: skip
    where = [Deliverable.project_id == access.project.id]
    if status:
        where.append(Deliverable.status == status)
    total = db.exec(select(func.count()).select_from(Deliverable).where(*where)).one()
    rows = db.exec(select(Deliverable).where(*where).order_by(Deliverable.code).limit(limit).offset(offset)).all()
    return list(rows), total


def file_for(db: Session, access: Access, deliverable: Deliverable, file_id: int) -> SubmissionFile:
    row = db.exec(select(SubmissionFile).join(Submission, col(Submission.id) == SubmissionFile.submission_id)
                  .where(SubmissionFile.id == file_id, Submission.deliverable_id == deliverable.id)).first()  # fmt: skip
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


def _overdue_clause(today: date):  # noqa: ANN202
    return or_(
        and_(Deliverable.status == Status.PLANNED, col(Deliverable.due_date) < today),
        and_(col(Deliverable.status).in_([Status.SUBMITTED, Status.IN_REVIEW]), col(Deliverable.review_due) < today),
        and_(Deliverable.status == Status.REJECTED, col(Deliverable.resubmit_due) < today),
    )


def running_clock(d: Deliverable) -> date | None:
    """The date the deliverable is waiting on now: delivery, the state's review, or the resubmission."""
    if d.status == Status.PLANNED:
        return d.due_date
    if d.status in (Status.SUBMITTED, Status.IN_REVIEW):
        return d.review_due
    if d.status == Status.REJECTED:
        return d.resubmit_due
    return None


def list_page(db: Session, access: Access, query: ListQuery) -> tuple[list[ListRow], int]:
    """One page of the project's deliverables in three queries, whatever the number of rows."""
    today = project_today(access.project)
    where = [Deliverable.project_id == access.project.id]
    if query.status:
        where.append(Deliverable.status == query.status.value)
    if query.type:
        where.append(Deliverable.type == query.type.value)
    if query.owner:
        where.append(Deliverable.owner_id == query.owner)
    if query.overdue:
        where.append(_overdue_clause(today))
    if query.q:
        like = f"%{query.q.lower()}%"
        where.append(or_(func.lower(Deliverable.code).like(like), func.lower(Deliverable.title).like(like)))
    total = db.exec(select(func.count()).select_from(Deliverable).where(*where)).one()
    critical = (
        select(func.count(Comment.id))
        .join(Submission, col(Submission.id) == Comment.submission_id)
        .where(Submission.deliverable_id == Deliverable.id, Submission.number == Deliverable.current_version,
               Comment.severity == Severity.CRITICAL, Comment.disposition == Disposition.OPEN)
        .correlate(Deliverable)
        .scalar_subquery()
    )  # fmt: skip
    descending = query.sort.startswith("-")
    order = [c.desc() if descending else c for c in SORTS[query.sort.lstrip("-")]]
    stmt = (
        select(Deliverable, User.full_name, critical)
        .outerjoin(User, col(User.id) == Deliverable.owner_id)
        .where(*where)
        .order_by(*order)
        .limit(PAGE_SIZE)
        .offset((query.page - 1) * PAGE_SIZE)
    )
    rows = []
    for d, owner, crit in db.exec(stmt):
        clock = running_clock(d)
        rows.append(ListRow(d, owner, crit or 0, max(0, (today - clock).days) if clock else 0))
    return rows, total


def reviewers_and_owners(db: Session, project_id: int) -> list[tuple[int, str]]:
    stmt = (
        select(User.id, User.full_name)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(Membership.project_id == project_id, col(Membership.role).in_(["manager", "staff"]))
        .order_by(User.full_name)
    )
    return [(i, n) for i, n in db.exec(stmt)]


# --- my work ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkItem:
    project_key: str
    deliverable: Deliverable
    due: date | None
    detail: str


def my_reviews(db: Session, user: Principal) -> list[WorkItem]:
    """Open review assignments of this user, soonest due first."""
    stmt = (
        select(ReviewAssignment, Deliverable, Project.key)
        .join(Submission, col(Submission.id) == ReviewAssignment.submission_id)
        .join(Deliverable, col(Deliverable.id) == Submission.deliverable_id)
        .join(Project, col(Project.id) == Deliverable.project_id)
        .where(ReviewAssignment.reviewer_id == user.id, col(ReviewAssignment.completed_at).is_(None),
               col(Deliverable.status).in_([Status.SUBMITTED, Status.IN_REVIEW]),
               Submission.number == Deliverable.current_version)
        .order_by(ReviewAssignment.due_date)
        .limit(50)
    )  # fmt: skip
    return [WorkItem(key, d, a.due_date, f"version {d.current_version}") for a, d, key in db.exec(stmt)]


def awaiting_response(db: Session, user: Principal) -> list[WorkItem]:
    """For contractor members: deliverables whose current version has comments with no response yet."""
    stmt = (
        select(Deliverable, Project.key, func.count(Comment.id))
        .join(Project, col(Project.id) == Deliverable.project_id)
        .join(Membership, (Membership.project_id == Project.id) & (Membership.user_id == user.id))
        .join(Submission, (Submission.deliverable_id == Deliverable.id)
              & (Submission.number == Deliverable.current_version))
        .join(Comment, col(Comment.submission_id) == Submission.id)
        .where(Membership.role == "contractor", Comment.disposition == Disposition.OPEN, Comment.response == "")
        .group_by(Deliverable.id, Project.key)
        .order_by(Project.key, Deliverable.code)
        .limit(50)
    )  # fmt: skip
    return [WorkItem(key, d, d.review_due, f"{n} comment{'s' if n != 1 else ''} to answer") for d, key, n in db.exec(stmt)]


COMMENT_LOG_HEADERS = ("Version", "Comment #", "Carried from #", "Reviewer", "Location", "Severity", "Comment",
                       "Contractor response", "Disposition", "Raised at")  # fmt: skip


def comment_log(db: Session, deliverable: Deliverable) -> tuple[tuple[str, ...], list[tuple]]:
    stmt = (
        select(Submission.number, Comment, User.full_name)
        .join(Submission, col(Submission.id) == Comment.submission_id)
        .join(User, col(User.id) == Comment.reviewer_id)
        .where(Submission.deliverable_id == deliverable.id)
        .order_by(Submission.number, Comment.id)
    )
    rows = [
        (number, c.id, c.carried_from_id or "", reviewer, c.location, c.severity, c.text, c.response,
         c.disposition.replace("_", " "), c.created_at)
        for number, c, reviewer in db.exec(stmt)
    ]  # fmt: skip
    return COMMENT_LOG_HEADERS, rows
