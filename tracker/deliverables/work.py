"""What the deliverables ask of each person now, for My work: reviews assigned and led, comments to answer and to
dispose of, resubmissions awaited, conditions due, criteria to agree, and the contract clocks. Each list reads its
projects' rows in one query (bounded by the latest day anywhere) and holds each row to its own project's day."""

from __future__ import annotations

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from tracker import clocks
from tracker.accounts.service import Principal
from tracker.core.clock import latest_today
from tracker.core.work import WorkItem
from tracker.deliverables.models import (
    Comment,
    Condition,
    CriteriaVersion,
    Deliverable,
    Disposition,
    ReviewAssignment,
    Submission,
)
from tracker.deliverables.workflow import FINAL, Status
from tracker.projects.calendar import project_today
from tracker.projects.models import Membership, Project
from tracker.projects.permissions import Perm, roles_with

LIMIT = 50
UNDER_REVIEW = clocks.UNDER_REVIEW


def _item(kind: str, project: Project, d: Deliverable, due, detail: str, anchor: str = "", flag: str = "") -> WorkItem:
    return WorkItem(
        kind,
        project.key,
        d.code,
        d.title,
        f"/projects/{project.key}/deliverables/{d.id}{anchor}",
        due,
        project_today(project),
        detail,
        flag,
    )


def _member(user: Principal, *perms: Perm):
    """Join condition: the user is a member of the row's project (in a role with one of `perms`, if given)."""
    clause = (Membership.project_id == Project.id) & (Membership.user_id == user.id)
    return clause & _role_with(*perms) if perms else clause


def _role_with(*perms: Perm):
    return col(Membership.role).in_(sorted(set().union(*(roles_with(p) for p in perms))))


def _clock_flag(d: Deliverable, project: Project) -> str:
    if d.escalated_at is not None:
        return "review escalated: overdue with no decision"
    if clocks.DEEMED.is_due(d, project_today(project)):
        return "deemed accepted by silence unless decided"
    return ""


def my_reviews(db: Session, user: Principal) -> list[WorkItem]:
    """Open review assignments of this user, soonest due first."""
    stmt = (
        select(ReviewAssignment, Deliverable, Project)
        .join(Submission, col(Submission.id) == ReviewAssignment.submission_id)
        .join(Deliverable, col(Deliverable.id) == Submission.deliverable_id)
        .join(Project, col(Project.id) == Deliverable.project_id)
        .join(Membership, _member(user, Perm.REVIEW))
        .where(
            ReviewAssignment.reviewer_id == user.id,
            clocks.ASSIGNMENT.running_clause(),
            clocks.REVIEW.running_clause(),
            Submission.number == Deliverable.current_version,
        )
        .order_by(ReviewAssignment.due_date, Project.key, Deliverable.code)
        .limit(LIMIT)
    )
    return [
        _item("reviews", p, d, clocks.ASSIGNMENT.due(a), f"version {d.current_version}", "#reviews", _clock_flag(d, p))
        for a, d, p in db.exec(stmt)
    ]


def lead_reviews(db: Session, user: Principal) -> list[WorkItem]:
    """The reviews this user leads (the deliverable's review lead), with the review clock: overdue and escalated
    ones first of all."""
    stmt = (
        select(Deliverable, Project)
        .join(Project, col(Project.id) == Deliverable.project_id)
        .join(Membership, _member(user, Perm.REVIEW))
        .where(Deliverable.owner_id == user.id, clocks.REVIEW.running_clause())
        .order_by(Deliverable.review_due, Project.key, Deliverable.code)
        .limit(LIMIT)
    )
    return [
        _item(
            "lead_reviews",
            p,
            d,
            clocks.REVIEW.due(d),
            f"version {d.current_version}, {'in review' if d.status == Status.IN_REVIEW else 'review not started'}",
            "#decision",
            _clock_flag(d, p),
        )
        for d, p in db.exec(stmt)
    ]


def contract_clocks(db: Session, user: Principal) -> list[WorkItem]:
    """For managers: escalated reviews and reviews about to be deemed accepted by silence, in their projects."""
    stmt = (
        select(Deliverable, Project)
        .join(Project, col(Project.id) == Deliverable.project_id)
        .join(Membership, _member(user, Perm.DECIDE))
        .where(
            clocks.REVIEW.running_clause(),
            or_(col(Deliverable.escalated_at).is_not(None), clocks.DEEMED.due_clause(latest_today())),
        )
        .order_by(func.coalesce(Deliverable.deemed_on, Deliverable.review_due), Project.key, Deliverable.code)
        .limit(LIMIT)
    )
    out = []
    for d, p in db.exec(stmt):
        if flag := _clock_flag(d, p):
            due = clocks.REVIEW.due(d) if d.escalated_at is not None else clocks.DEEMED.due(d)
            out.append(_item("clocks", p, d, due, flag, "#decision"))
    return out


def awaiting_disposition(db: Session, user: Principal) -> list[WorkItem]:
    """Answered comments still open on versions under review, for the review lead, the assigned reviewers and
    whoever raised them: the contractor has spoken, the State decides what the answer is worth."""
    assigned = select(ReviewAssignment.submission_id).where(ReviewAssignment.reviewer_id == user.id)
    stmt = (
        select(Deliverable, Project, func.count(Comment.id), func.min(Comment.responded_at))
        .join(Project, col(Project.id) == Deliverable.project_id)
        .join(Membership, _member(user, Perm.REVIEW))
        .join(
            Submission,
            (Submission.deliverable_id == Deliverable.id) & (Submission.number == Deliverable.current_version),
        )
        .join(Comment, col(Comment.submission_id) == Submission.id)
        .where(
            col(Deliverable.status).in_(UNDER_REVIEW),
            Comment.disposition == Disposition.OPEN,
            Comment.response != "",
            or_(Deliverable.owner_id == user.id, Comment.reviewer_id == user.id, col(Submission.id).in_(assigned)),
        )
        .group_by(Deliverable.id, Project.id)
        .order_by(Project.key, Deliverable.code)
        .limit(LIMIT)
    )
    return [
        _item(
            "dispositions",
            p,
            d,
            clocks.REVIEW.due(d),
            f"{n} answered comment{'s' if n != 1 else ''} to dispose of",
            "#comments",
        )
        for d, p, n, _ in db.exec(stmt)
    ]


def waiting_resubmission(db: Session, user: Principal) -> list[WorkItem]:
    """For review leads: rejected deliverables, with the contractor's resubmission clock."""
    stmt = (
        select(Deliverable, Project)
        .join(Project, col(Project.id) == Deliverable.project_id)
        .join(Membership, _member(user, Perm.REVIEW))
        .where(Deliverable.owner_id == user.id, clocks.RESUBMISSION.running_clause())
        .order_by(Deliverable.resubmit_due, Project.key, Deliverable.code)
        .limit(LIMIT)
    )
    return [
        _item(
            "resubmissions",
            p,
            d,
            clocks.RESUBMISSION.due(d),
            f"version {d.current_version + 1} from the contractor",
            "#submissions",
        )
        for d, p in db.exec(stmt)
    ]


def due_from_contractor(db: Session, user: Principal) -> list[WorkItem]:
    """For contractor members: first submissions due within two weeks or late, and resubmissions after a rejection."""
    stmt = (
        select(Deliverable, Project)
        .join(Project, col(Project.id) == Deliverable.project_id)
        .join(Membership, _member(user, Perm.DELIVER))
        .where(or_(clocks.DELIVERY.due_clause(latest_today()), clocks.RESUBMISSION.running_clause()))
        .order_by(func.coalesce(Deliverable.resubmit_due, Deliverable.due_date), Project.key, Deliverable.code)
        .limit(LIMIT)
    )
    out = []
    for d, p in db.exec(stmt):
        item = _item(
            "to_submit",
            p,
            d,
            clocks.running_due(d),
            f"version {d.current_version + 1} to {'resubmit' if d.status == Status.REJECTED else 'submit'}",
            "#submissions",
        )
        # Every resubmission; a first submission once its delivery clock is due (within two weeks, or late).
        if clocks.RESUBMISSION.running(d) or clocks.DELIVERY.is_due(d, item.today):
            out.append(item)
    return out


def awaiting_response(db: Session, user: Principal) -> list[WorkItem]:
    """For contractor members: deliverables whose version under review has comments with no response yet."""
    stmt = (
        select(Deliverable, Project, func.count(Comment.id))
        .join(Project, col(Project.id) == Deliverable.project_id)
        .join(Membership, _member(user, Perm.DELIVER))
        .join(
            Submission,
            (Submission.deliverable_id == Deliverable.id) & (Submission.number == Deliverable.current_version),
        )
        .join(Comment, col(Comment.submission_id) == Submission.id)
        .where(
            col(Deliverable.status).in_(UNDER_REVIEW), Comment.disposition == Disposition.OPEN, Comment.response == ""
        )
        .group_by(Deliverable.id, Project.id)
        .order_by(Project.key, Deliverable.code)
        .limit(LIMIT)
    )
    return [
        _item("responses", p, d, clocks.REVIEW.due(d), f"{n} comment{'s' if n != 1 else ''} to answer", "#comments")
        for d, p, n in db.exec(stmt)
    ]


def conditions_due(db: Session, user: Principal) -> list[WorkItem]:
    """Open conditions of conditional acceptances: each owner's own, and for the project's managers (who confirm them)
    every one due in the next two weeks or overdue."""
    stmt = (
        select(Condition, Deliverable, Project)
        .join(Deliverable, col(Deliverable.id) == Condition.deliverable_id)
        .join(Project, col(Project.id) == Deliverable.project_id)
        .join(Membership, _member(user))
        .where(
            clocks.CONDITION.running_clause(),
            Deliverable.status == Status.CONDITIONALLY_ACCEPTED,
            or_(
                Condition.owner_id == user.id,
                and_(_role_with(Perm.DECIDE), clocks.CONDITION.due_clause(latest_today())),
            ),
        )
        .order_by(Condition.due_date, Project.key, Deliverable.code, Condition.position)
        .limit(LIMIT)
    )
    out = []
    for c, d, p in db.exec(stmt):
        item = _item(
            "conditions", p, d, clocks.CONDITION.due(c), f"condition {c.position}: {c.text}", f"#condition-{c.id}"
        )
        if c.owner_id == user.id or clocks.CONDITION.is_due(c, item.today):
            out.append(item)
    return out


def criteria_to_agree(db: Session, user: Principal) -> list[WorkItem]:
    """The acceptance criteria waiting for this user's side of the agreement: a manager's, then the contractor's."""
    latest = (
        select(CriteriaVersion.deliverable_id, func.max(CriteriaVersion.number).label("n"))
        .group_by(CriteriaVersion.deliverable_id)
        .subquery()
    )
    waiting_for = or_(
        and_(_role_with(Perm.DECIDE), col(CriteriaVersion.agreed_at).is_(None)),
        and_(
            _role_with(Perm.ACKNOWLEDGE),
            col(CriteriaVersion.agreed_at).is_not(None),
            col(CriteriaVersion.acknowledged_at).is_(None),
        ),
    )
    stmt = (
        select(Deliverable, Project, CriteriaVersion, Membership.role)
        .join(Project, col(Project.id) == Deliverable.project_id)
        .join(Membership, _member(user, Perm.DECIDE, Perm.ACKNOWLEDGE))
        .join(latest, latest.c.deliverable_id == Deliverable.id)
        .join(
            CriteriaVersion, (CriteriaVersion.deliverable_id == Deliverable.id) & (CriteriaVersion.number == latest.c.n)
        )
        .where(
            col(Deliverable.status).not_in(FINAL),
            func.json_array_length(CriteriaVersion.criterion_ids) > 0,
            waiting_for,
        )
        .order_by(Deliverable.due_date, Project.key, Deliverable.code)
        .limit(LIMIT)
    )
    return [
        _item(
            "criteria",
            p,
            d,
            d.due_date if d.current_version == 0 else None,
            f"criteria version {v.number} to {'agree' if role in roles_with(Perm.DECIDE) else 'acknowledge'}",
            "#criteria",
        )
        for d, p, v, role in db.exec(stmt)
    ]
