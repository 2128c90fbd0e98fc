"""The deliverable lifecycle as data: which action moves which status where, and who may fire it.

Pure: no session, no request. Pages draw their buttons from `actions_for`, services call `next_status`,
so the UI and the rules cannot drift apart.
"""

from __future__ import annotations

from enum import StrEnum

from tracker.projects.permissions import Perm


class Status(StrEnum):
    PLANNED = "planned"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    ACCEPTED = "accepted"
    CONDITIONALLY_ACCEPTED = "conditionally_accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    SUBMIT = "submit"
    START_REVIEW = "start_review"
    ACCEPT = "accept"
    CONDITIONALLY_ACCEPT = "conditionally_accept"
    REJECT = "reject"
    CONDITIONS_MET = "conditions_met"
    RESUBMIT = "resubmit"
    WITHDRAW = "withdraw"
    DEEM_ACCEPT = "deem_accept"  # the deemed-acceptance clock, never a person


STATUS_LABELS = {
    Status.PLANNED: "Planned",
    Status.SUBMITTED: "Submitted",
    Status.IN_REVIEW: "In review",
    Status.ACCEPTED: "Accepted",
    Status.CONDITIONALLY_ACCEPTED: "Conditionally accepted",
    Status.REJECTED: "Rejected",
    Status.WITHDRAWN: "Withdrawn",
}

ACTION_LABELS = {
    Action.SUBMIT: "Submit version 1",
    Action.START_REVIEW: "Start review",
    Action.ACCEPT: "Accept",
    Action.CONDITIONALLY_ACCEPT: "Accept with conditions",
    Action.REJECT: "Reject",
    Action.CONDITIONS_MET: "Mark conditions met",
    Action.RESUBMIT: "Resubmit a new version",
    Action.WITHDRAW: "Withdraw",
    Action.DEEM_ACCEPT: "Deemed accepted",
}

# What each action makes of a deliverable, for "a deliverable that is planned cannot be accepted".
DONE_WORDS = {
    Action.SUBMIT: "submitted",
    Action.START_REVIEW: "put under review",
    Action.ACCEPT: "accepted",
    Action.CONDITIONALLY_ACCEPT: "accepted with conditions",
    Action.REJECT: "rejected",
    Action.CONDITIONS_MET: "closed as having met its conditions",
    Action.RESUBMIT: "resubmitted",
    Action.WITHDRAW: "withdrawn",
    Action.DEEM_ACCEPT: "deemed accepted",
}

OPEN = frozenset({Status.PLANNED, Status.SUBMITTED, Status.IN_REVIEW, Status.REJECTED, Status.CONDITIONALLY_ACCEPTED})
FINAL = frozenset({Status.ACCEPTED, Status.WITHDRAWN})

# (action, from) -> (to, the permission that allows it; None = the system only)
TRANSITIONS: dict[tuple[Action, Status], tuple[Status, Perm | None]] = {
    (Action.SUBMIT, Status.PLANNED): (Status.SUBMITTED, Perm.SUBMIT),
    (Action.START_REVIEW, Status.SUBMITTED): (Status.IN_REVIEW, Perm.REVIEW),
    (Action.ACCEPT, Status.IN_REVIEW): (Status.ACCEPTED, Perm.DECIDE),
    (Action.CONDITIONALLY_ACCEPT, Status.IN_REVIEW): (Status.CONDITIONALLY_ACCEPTED, Perm.DECIDE),
    (Action.REJECT, Status.IN_REVIEW): (Status.REJECTED, Perm.DECIDE),
    (Action.CONDITIONS_MET, Status.CONDITIONALLY_ACCEPTED): (Status.ACCEPTED, Perm.DECIDE),
    (Action.RESUBMIT, Status.REJECTED): (Status.SUBMITTED, Perm.SUBMIT),
    (Action.DEEM_ACCEPT, Status.SUBMITTED): (Status.ACCEPTED, None),
    (Action.DEEM_ACCEPT, Status.IN_REVIEW): (Status.ACCEPTED, None),
    **{(Action.WITHDRAW, s): (Status.WITHDRAWN, Perm.DECIDE) for s in OPEN},
}
# Each action needs the same permission from every status it applies to, so the role is judged before the state:
# someone who may never fire an action hears "not allowed" (403), not "wrong state" (409).
NEEDS: dict[Action, Perm | None] = {action: needed for (action, _), (_, needed) in TRANSITIONS.items()}


class NotAllowed(Exception):
    """The action does not apply to this status, or this user's role may not fire it."""

    def __init__(self, message: str, *, wrong_state: bool) -> None:
        super().__init__(message)
        self.message = message
        self.wrong_state = wrong_state  # 409 when the record is in the wrong state, 403 when the role is wrong


def next_status(action: Action | str, current: Status | str, perms: frozenset[Perm] | set[Perm] | None) -> Status:
    """The status `action` leads to. `perms` are the user's; None means the system clock, which alone may
    fire the rules that no permission grants (deemed acceptance) and none of the others."""
    try:
        action, current = Action(action), Status(current)
    except ValueError:
        raise NotAllowed(f"Unknown action '{action}'.", wrong_state=True) from None
    if perms is not None and NEEDS[action] not in perms:
        raise NotAllowed(f"Your role in this project may not {ACTION_LABELS[action].lower()}.", wrong_state=False)
    rule = TRANSITIONS.get((action, current))
    if rule is None:
        raise NotAllowed(
            f"A deliverable that is {STATUS_LABELS[current].lower()} cannot be {DONE_WORDS[action]}.", wrong_state=True
        )
    target, needed = rule
    if perms is None and needed is None:
        return target
    if perms is None or needed is None or needed not in perms:
        raise NotAllowed(f"Your role in this project may not {ACTION_LABELS[action].lower()}.", wrong_state=False)
    return target


def actions_for(current: Status | str, perms: frozenset[Perm] | set[Perm]) -> list[Action]:
    """The actions this user may take now, in the table's order."""
    current = Status(current)
    return [a for (a, s), (_, needed) in TRANSITIONS.items() if s is current and needed is not None and needed in perms]


def is_open(status: Status | str) -> bool:
    return Status(status) in OPEN
