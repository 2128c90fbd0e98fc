"""What every stage of a deliverable shares: the words its history reads, loading, the workflow step, the list and
record-page queries, and the contract clocks. The stages are planning.py, submissions.py, reviews.py, decisions.py
(and records.py for the letters). Services never commit; the request does, once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import Field, field_validator
from sqlalchemy import and_
from sqlmodel import Session, col, func, or_, select

from tracker import clocks
from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.clock import utcnow
from tracker.core.errors import Conflict, Forbidden
from tracker.core.files import FileStore
from tracker.core.forms import Form, OptionalInt
from tracker.core.web import label, money, options, show_date
from tracker.deliverables import criteria, records, workflow
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
)
from tracker.deliverables.workflow import Action, NotAllowed, Status
from tracker.projects.calendar import project_today
from tracker.projects.models import DeemedPolicy, Membership, Project
from tracker.projects.permissions import Perm, roles_with
from tracker.projects.service import Access, load_record, record_in

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


def get_for(db: Session, access: Access, deliverable_id: int) -> Deliverable:
    return record_in(db, access, Deliverable, deliverable_id, "deliverable")


# --- the stages' shared steps ---------------------------------------------------------------------------


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


def clock_stopped(deliverable: Deliverable) -> dict:
    """The audit entry for a running resubmission clock that a resubmission or withdrawal stops, so the trail
    alone says what the clock stood at on any day (status reports read the record as it stood)."""
    return {"resubmit_due": [deliverable.resubmit_due, None]} if deliverable.resubmit_due else {}


def latest_submission(db: Session, deliverable_id: int) -> Submission | None:
    stmt = select(Submission).where(Submission.deliverable_id == deliverable_id).order_by(col(Submission.number).desc())
    return db.exec(stmt.limit(1)).first()


def current_submission(db: Session, deliverable: Deliverable) -> Submission:
    submission = latest_submission(db, deliverable.id)
    if submission is None:
        raise Conflict(detail="Nothing has been submitted yet.")
    return submission


def workflow_check(action: Action, deliverable: Deliverable, access: Access) -> None:
    """Refuse an action the table does not allow now: 403 for the role, 409 for the state."""
    try:
        workflow.next_status(action, deliverable.status, access.perms)
    except NotAllowed as exc:
        raise (Conflict if exc.wrong_state else Forbidden)(detail=exc.message) from None


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
    deemed_soon: bool = False  # deemed accepted by silence within the warning window (or already due)


# The running clock (delivery, the state's review or the resubmission, by status) and its overdue rule are rows of
# the clocks table; the list, its filter and the saved reports' "days overdue" read them under these names.
running_clock = clocks.running_due
clock_expr = clocks.running_due_expr
overdue_clause = clocks.running_overdue_clause
days_overdue = clocks.days_past


def days_overdue_clause(today: date, low: int | None = None, high: int | None = None):
    """`low` <= days_overdue <= `high` in SQL (either end open), for filters over any number of rows."""
    return clocks.days_past_clause(clocks.running_due_expr(), today, low, high)


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
    # The page's ids first, in order from the sort's index (SORTS) and skipping the offset there, then only their
    # rows read whole: a far page costs a walk along the index, not the reading of every row before it.
    page = (
        select(Deliverable.id)
        .where(*where)
        .order_by(*order)
        .limit(limit)
        .offset((query.page - 1) * limit if offset is None else offset)
    )
    stmt = (
        select(Deliverable, User.full_name, critical)
        .outerjoin(User, col(User.id) == Deliverable.owner_id)
        .where(col(Deliverable.id).in_(page.scalar_subquery()))
        .order_by(*order)
    )
    rows = []
    for d, owner, crit in db.exec(stmt):
        rows.append(ListRow(d, owner, crit or 0, days_overdue(running_clock(d), today), clocks.DEEMED.is_due(d, today)))
    return rows, total


EXPORT_MAX = 10_000  # every deliverable of any real contract
EXPORT_HEADERS = [
    "Code",
    "Title",
    "Type",
    "Status",
    "Owner",
    "Due date",
    "Review due",
    "Days overdue",
    "Payment",
    "Holdback %",
    "Open critical comments",
]


def export_table(db: Session, access: Access, query: ListQuery) -> list[list]:
    """The list with its filters and order, every page, typed for a spreadsheet."""
    rows, _ = list_page(db, access, query, limit=EXPORT_MAX, offset=0)
    return [
        [
            r.deliverable.code,
            r.deliverable.title,
            label(r.deliverable.type),
            workflow.STATUS_LABELS[Status(r.deliverable.status)],
            r.owner_name or "",
            r.deliverable.due_date,
            r.deliverable.review_due,
            r.days_overdue or 0,
            r.deliverable.payment_amount,
            float(r.deliverable.holdback_pct) if r.deliverable.holdback_pct is not None else None,
            r.open_critical,
        ]
        for r in rows
    ]


def describe_query(query: ListQuery, owners: list[tuple[int, str]]) -> list[tuple[str, str]]:
    """The list's filters in words, for an export's Filters sheet."""
    return [
        ("Status", workflow.STATUS_LABELS[query.status] if query.status else "Any"),
        ("Type", label(query.type.value) if query.type else "Any"),
        ("Owner", dict(owners).get(query.owner, "Anyone") if query.owner else "Anyone"),
        ("Only overdue", "Yes" if query.overdue else "No"),
        ("Search", query.q or "—"),
        ("Sorted by", query.sort),
    ]


def reviewers_and_owners(db: Session, project_id: int) -> list[tuple[int, str]]:
    stmt = (
        select(User.id, User.full_name)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(Membership.project_id == project_id, col(Membership.role).in_(sorted(roles_with(Perm.REVIEW))))
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

    def overdue_days(self, today: date) -> int:
        return clocks.ASSIGNMENT.days_overdue(self.assignment, today)


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


def timeline(db: Session, deliverable: Deliverable, limit: int = 200) -> audit.Trail:
    """Everything that happened to the deliverable and its versions, newest first: the audit trail of the
    deliverable and of its comments, reviews and results (all recorded under its code)."""
    p, code = deliverable.project_id, deliverable.code
    return audit.kept_trail(
        db,
        p,
        ("deliverable", deliverable.id, limit),
        lambda: audit.for_record(db, p, TIMELINE_ENTITIES, code, limit=limit),
    )


# --- contract clocks: deemed acceptance and escalation ---------------------------------------------------


def deemed_warning(d: Deliverable, today: date) -> int | None:
    """Days left before silence becomes acceptance, when that is near (the deemed clock is due); None otherwise."""
    return (d.deemed_on - today).days if clocks.DEEMED.is_due(d, today) else None


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
    rows = db.exec(
        select(Deliverable, Project)
        .join(Project, col(Project.id) == Deliverable.project_id)
        .where(
            or_(
                clocks.DEEMED.overdue_clause(horizon),
                and_(
                    clocks.REVIEW.overdue_clause(horizon),
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
                if project.deemed_policy == DeemedPolicy.DEEMED and clocks.DEEMED.overdue(d, today):
                    deem_accept(db, project, d, store)
                    run.deemed.append(label)
                elif (
                    project.deemed_policy == DeemedPolicy.NEVER
                    and clocks.REVIEW.overdue(d, today)
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
