"""Deciding: acceptance, conditions, rejection and withdrawal, and what the decisions add up to (the decision
log and the holdback ledger)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import Field
from sqlalchemy import case
from sqlmodel import Session, col, func, select

from tracker import clocks
from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.core.clock import utcnow
from tracker.core.errors import Conflict, FormError
from tracker.core.files import FileStore
from tracker.core.forms import Form, OptionalDate, OptionalInt
from tracker.deliverables import conditions, criteria, records
from tracker.deliverables.models import (
    Comment,
    CriterionOutcome,
    CriterionResult,
    Decision,
    Deliverable,
    Disposition,
    Outcome,
    ReviewAssignment,
    Severity,
    Submission,
)
from tracker.deliverables.planning import active_criteria
from tracker.deliverables.service import LABELS, clock_stopped, current_submission, transition, workflow_check
from tracker.deliverables.workflow import STATUS_LABELS, Action, Status
from tracker.projects.calendar import project_today
from tracker.projects.service import Access


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
        elif clocks.past(form.conditions_due, project_today(access.project)):
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
        deliverable.resubmit_due = clocks.RESUBMISSION.start(access.project, project_today(access.project))
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


def withdraw(
    db: Session,
    actor: Principal,
    access: Access,
    deliverable: Deliverable,
    reason: str,
    expected_version: int | None = None,
) -> None:
    deliverable.check_seen(expected_version, {"status": deliverable.status})
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
        changes={"withdrawn_reason": [None, reason], **clock_stopped(deliverable)},
    )
    deliverable.withdrawn_reason = reason
    deliverable.review_due = deliverable.resubmit_due = deliverable.deemed_on = None
    db.flush()


# --- the holdback ledger and the decision log -----------------------------------------------------------


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
LEDGER_WORDS = {"pending": "Not yet payable", "withheld": "Withheld", "released": "Released", "cancelled": "Cancelled"}
LEDGER_HEADERS = [
    "Code",
    "Title",
    "Status",
    "Payment",
    "Holdback %",
    "Holdback",
    "Paid to date",
    "Holdback state",
    "Released on",
]


def ledger_table(ledger: Ledger) -> list[list]:
    """The ledger's rows as its page shows them, typed for a spreadsheet (amounts Decimal, the release a moment)."""
    return [
        [
            r.deliverable.code,
            r.deliverable.title,
            STATUS_LABELS[Status(r.deliverable.status)],
            r.payment,
            float(r.deliverable.holdback_pct) if r.deliverable.holdback_pct is not None else None,
            r.holdback,
            r.paid,
            LEDGER_WORDS[r.state],
            r.released_on,
        ]
        for r in ledger.rows
    ]


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


@dataclass(frozen=True)
class Totals:
    payment: Decimal  # the contract value: every payment but those of withdrawn deliverables
    withheld: Decimal
    released: Decimal
    paid: Decimal  # paid to date, as the ledger's rows count it


def holdback_totals(db: Session, project_ids: list[int]) -> dict[int, Totals]:
    """The ledger's totals per project summed in SQL (for the portfolio, which needs no row): the same states,
    from LEDGER_STATES, and the same rounding of each holdback as holdback_of."""
    holdback = func.round(Deliverable.payment_amount * func.coalesce(Deliverable.holdback_pct, 0) / 100, 2)

    def when(state: str, value: Any) -> Any:
        statuses = [s.value for s, x in LEDGER_STATES.items() if x == state]
        return func.sum(case((col(Deliverable.status).in_(statuses), value), else_=0))

    stmt = (
        select(
            Deliverable.project_id,
            func.sum(Deliverable.payment_amount) - when("cancelled", Deliverable.payment_amount),
            when("withheld", holdback),
            when("released", holdback),
            when("released", Deliverable.payment_amount) + when("withheld", Deliverable.payment_amount - holdback),
        )
        .where(col(Deliverable.project_id).in_(project_ids), col(Deliverable.payment_amount).is_not(None))
        .group_by(Deliverable.project_id)
    )
    zero = Totals(Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))
    out = dict.fromkeys(project_ids, zero)
    for project_id, *values in db.exec(stmt) if project_ids else []:
        out[project_id] = Totals(*(Decimal(str(v or 0)).quantize(Decimal("0.01")) for v in values))
    return out


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
