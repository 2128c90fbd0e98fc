"""A change request's lifecycle as data: draft → submitted → under review → approved | rejected, or withdrawn
before a decision. Pages draw their buttons from `actions_for`; the service moves by `TRANSITIONS`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tracker.projects.permissions import Perm
from tracker.register.changes.models import ChangeStatus


class Move(StrEnum):
    SUBMIT = "submit"
    START_REVIEW = "start_review"
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"


@dataclass(frozen=True)
class Transition:
    to: ChangeStatus
    perm: Perm
    label: str  # the button
    done: str  # what it makes of the request: "CR-004 approved."
    requester: bool = False  # only the side that asked for the change (or the State for it) may
    rationale: bool = False  # needs the decider's reasons


_WITHDRAW = Transition(ChangeStatus.WITHDRAWN, Perm.RAISE_CHANGE, "Withdraw", "withdrawn", requester=True)
_APPROVE = Transition(ChangeStatus.APPROVED, Perm.DECIDE_CHANGE, "Approve", "approved", rationale=True)
_REJECT = Transition(ChangeStatus.REJECTED, Perm.DECIDE_CHANGE, "Reject", "rejected", rationale=True)

TRANSITIONS: dict[tuple[Move, ChangeStatus], Transition] = {
    (Move.SUBMIT, ChangeStatus.DRAFT): Transition(
        ChangeStatus.SUBMITTED, Perm.RAISE_CHANGE, "Submit for decision", "submitted", requester=True
    ),
    (Move.START_REVIEW, ChangeStatus.SUBMITTED): Transition(
        ChangeStatus.UNDER_REVIEW, Perm.EDIT_REGISTER, "Start review", "put under review"
    ),
    (Move.APPROVE, ChangeStatus.UNDER_REVIEW): _APPROVE,
    (Move.REJECT, ChangeStatus.UNDER_REVIEW): _REJECT,
    (Move.WITHDRAW, ChangeStatus.DRAFT): _WITHDRAW,
    (Move.WITHDRAW, ChangeStatus.SUBMITTED): _WITHDRAW,
    (Move.WITHDRAW, ChangeStatus.UNDER_REVIEW): _WITHDRAW,
}

DECIDED = (ChangeStatus.APPROVED, ChangeStatus.REJECTED, ChangeStatus.WITHDRAWN)
