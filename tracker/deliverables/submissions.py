"""Submitting a deliverable: each version with its files, open comments carried forward to the next."""

from __future__ import annotations

from sqlmodel import Session, col, select

from tracker import clocks
from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.core.errors import Conflict, FormError, NotFound
from tracker.core.files import FileStore, Upload
from tracker.deliverables import criteria
from tracker.deliverables.models import (
    Comment,
    Deliverable,
    Disposition,
    Submission,
    SubmissionFile,
)
from tracker.deliverables.service import clock_stopped, latest_submission, transition
from tracker.deliverables.workflow import Action, Status
from tracker.projects.calendar import project_today
from tracker.projects.models import DeemedPolicy
from tracker.projects.permissions import Perm
from tracker.projects.service import Access


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
    stored = [(*store.keep(upload, "files"), upload.content_type) for upload in uploads]
    action = Action.RESUBMIT if deliverable.status == Status.REJECTED else Action.SUBMIT
    number = deliverable.current_version + 1
    project = access.project
    today = project_today(project)
    review_due = clocks.REVIEW.start(project, today)
    transition(
        db,
        actor,
        access,
        deliverable,
        action,
        changes={"current_version": [deliverable.current_version, number], **clock_stopped(deliverable)},
    )
    previous = latest_submission(db, deliverable.id)
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
    for name, sha, size, content_type in stored:
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
        clocks.DEEMED.start(project, today) if project.deemed_policy == DeemedPolicy.DEEMED else None
    )
    db.flush()
    return submission


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


def file_for(db: Session, access: Access, deliverable: Deliverable, file_id: int) -> SubmissionFile:
    row = db.exec(
        select(SubmissionFile)
        .join(Submission, col(Submission.id) == SubmissionFile.submission_id)
        .where(SubmissionFile.id == file_id, Submission.deliverable_id == deliverable.id)
    ).first()
    if row is None:
        raise NotFound(detail="No such file on this deliverable.")
    return row
