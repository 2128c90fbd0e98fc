"""Reviewing a submitted version: starting the review, reviewers, the comment log and criterion results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field
from sqlalchemy import Integer, and_, case, column, or_, values
from sqlmodel import Session, col, func, select

from tracker import clocks
from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import service as audit
from tracker.audit import versions
from tracker.audit.models import AuditEvent, changed
from tracker.core import memo
from tracker.core.clock import as_utc, utcnow
from tracker.core.errors import Conflict, FormError, NotFound
from tracker.core.forms import Form, OptionalDate
from tracker.deliverables import workflow
from tracker.deliverables.models import (
    Comment,
    Criterion,
    CriterionOutcome,
    CriterionResult,
    Decision,
    Deliverable,
    Disposition,
    ReviewAssignment,
    Severity,
    Submission,
)
from tracker.deliverables.service import LABELS, current_submission, transition
from tracker.deliverables.workflow import Action, Status
from tracker.projects.calendar import project_today
from tracker.projects.models import Membership, Project
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


# --- the open-comment burndown ------------------------------------------------------------------------------------

BURNDOWN_DAYS = 90  # a review longer than this shows its last 90 days


@dataclass(frozen=True)
class Burndown:
    version: int
    days: list[date]  # from the day the version was submitted to the day it was decided (or today)
    open: list[int]  # comments open at the end of each day
    decided: bool

    @property
    def labels(self) -> list[str]:
        return [f"{d:%-d %b}" for d in self.days]


@dataclass(frozen=True)
class Burndowns:
    versions: list[Burndown]
    kept: tuple  # the figures' memo key: the page keeps its drawing of them under it too ({% kept %})


def comment_burndown(db: Session, project: Project, deliverable: Deliverable) -> Burndowns:
    """Each version's open review comments day by day, from submission to decision: a comment counts from when it
    was logged (or carried forward) while its disposition then was open, read back through its audited disposition
    changes. Two queries, the counting done in SQL; kept while the project's record stands (tracker.core.memo)."""
    today = project_today(project)
    key = ("burndown", project.id, project.version, deliverable.id, today) + versions.of(db, [project.id])
    return Burndowns(memo.kept(key, lambda: _burndown(db, project, deliverable, today)), key)


def _burndown(db: Session, project: Project, deliverable: Deliverable, today: date) -> list[Burndown]:
    subs = db.exec(
        select(Submission.id, Submission.number, Submission.submitted_at, func.min(Decision.decided_at))
        .outerjoin(Decision, (col(Decision.submission_id) == Submission.id) & (Decision.closes_id == 0))
        .where(Submission.deliverable_id == deliverable.id)
        .group_by(Submission.id, Submission.number, Submission.submitted_at)
        .order_by(Submission.number)
    ).all()
    if not subs:
        return []
    zone = ZoneInfo(project.timezone)
    versions_days: list[tuple[int, int, list[date], bool]] = []
    moments = []  # (submission, day's number, the moment it is read at: the end of the day, or the decision)
    for sub_id, number, submitted_at, decided_at in subs:
        first = as_utc(submitted_at).astimezone(zone).date()
        last = as_utc(decided_at).astimezone(zone).date() if decided_at else today
        first = max(first, last - timedelta(days=BURNDOWN_DAYS - 1))
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        for n, day in enumerate(days):
            moment = datetime.combine(day + timedelta(days=1), time.min, zone).astimezone(UTC)
            if decided_at and day == last:
                moment = as_utc(decided_at)  # as the decision found them
            moments.append((sub_id, n, moment))
        versions_days.append((sub_id, number, days, decided_at is not None))
    counts = _open_comments(db, [s[0] for s in subs], moments)
    return [
        Burndown(number, days, [counts.get((sub_id, n), 0) for n in range(len(days))], decided)
        for sub_id, number, days, decided in versions_days
    ]


def _open_comments(
    db: Session, submission_ids: list[int], moments: list[tuple[int, int, datetime]]
) -> dict[tuple[int, int], int]:
    """{(submission, n): its comments logged before the nth moment and open then}. A comment's disposition at a
    moment is what its last change before it made it; before its first change, what that change moved it from;
    with none, its disposition now: each change's span runs to the next (window functions), and each moment
    falls in one span per comment."""
    at_type = AuditEvent.__table__.c.at.type
    m = (
        values(column("submission_id", Integer), column("n", Integer), column("at", at_type), name="moments")
        .data(moments)
        .cte("moments")
    )
    in_turn = {"partition_by": AuditEvent.entity_id, "order_by": (AuditEvent.at, AuditEvent.id)}
    comments = select(Comment.id).where(col(Comment.submission_id).in_(submission_ids))
    dispositions = (
        select(
            AuditEvent.entity_id.label("comment_id"),
            AuditEvent.at,
            func.lead(AuditEvent.at).over(**in_turn).label("until"),
            func.row_number().over(**in_turn).label("k"),
            changed("disposition", 0).label("before"),
            changed("disposition", 1).label("after"),
        )
        .where(
            AuditEvent.entity_type == Comment.__tablename__,
            AuditEvent.action == "disposition",
            col(AuditEvent.entity_id).in_(comments),  # ix_audit_event_entity
        )
        .subquery("dispositions")
    )
    d = dispositions.c
    holds = or_(
        d.at.is_(None),  # never changed
        and_(or_(d.k == 1, d.at < m.c.at), or_(d.until.is_(None), d.until >= m.c.at)),
    )
    then = case((d.at.is_(None), Comment.disposition), (d.at < m.c.at, d.after), else_=d.before)
    stmt = (
        select(m.c.submission_id, m.c.n, func.count())
        .select_from(m)
        .join(Comment, and_(Comment.submission_id == m.c.submission_id, col(Comment.created_at) < m.c.at))
        .outerjoin(dispositions, d.comment_id == Comment.id)
        .where(holds, then == Disposition.OPEN)
        .group_by(m.c.submission_id, m.c.n)
    )
    return {(sub_id, n): count for sub_id, n, count in db.exec(stmt)}
