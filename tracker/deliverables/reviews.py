"""Reviewing a submitted version: starting the review, reviewers, the comment log and criterion results."""

from __future__ import annotations

from datetime import date

from pydantic import Field
from sqlmodel import Session, col, select

from tracker import clocks
from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import service as audit
from tracker.core.clock import utcnow
from tracker.core.errors import Conflict, FormError, NotFound
from tracker.core.forms import Form, OptionalDate
from tracker.deliverables import workflow
from tracker.deliverables.models import (
    Comment,
    Criterion,
    CriterionOutcome,
    CriterionResult,
    Deliverable,
    Disposition,
    ReviewAssignment,
    Severity,
    Submission,
)
from tracker.deliverables.service import LABELS, current_submission, transition
from tracker.deliverables.workflow import Action, Status
from tracker.projects.calendar import project_today
from tracker.projects.models import Membership
from tracker.projects.permissions import Perm, roles_with
from tracker.projects.service import Access


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
    if role not in roles_with(Perm.REVIEW):
        raise FormError({"reviewer_id": "Reviewers must be managers or staff of this project."})


def start_review(
    db: Session,
    actor: Principal,
    access: Access,
    deliverable: Deliverable,
    reviewer_ids: list[int] | None = None,
    expected_version: int | None = None,
) -> list[ReviewAssignment]:
    deliverable.check_seen(expected_version, {"status": deliverable.status})
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
    if clocks.past(due, project_today(access.project)):
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


def remove_reviewer(
    db: Session, actor: Principal, access: Access, deliverable: Deliverable, reviewer_id: int, expected_version: int
) -> None:
    """Take a reviewer off the version under review; one who has finished stays on the record. `expected_version`
    is the assignment's, as read."""
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
    assignment.check_seen(
        expected_version,
        {"due_date": assignment.due_date},
        "That reviewer's assignment changed after you loaded the page, so it was not removed. "
        "Check it as it is now and remove it again if you still mean to.",
    )
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
    expected_version: int | None = None,
) -> CriterionResult:
    """Record or change the current version's result of one criterion; `expected_version` is the result's as read,
    0 when there was none yet (so a result recorded meanwhile is not overwritten unseen)."""
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
    if result is not None:
        result.check_seen(expected_version, {"outcome": result.outcome, "evidence": result.evidence})
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
