"""The event kinds a webhook may subscribe to, as data: which audit events (kind of record, action, and for some a
value the change sets) each public name stands for, and where each kind of record is read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DISABLE_AFTER = 10  # failed attempts in a row that turn a webhook off (written to the audit trail)


@dataclass(frozen=True)
class Kind:
    name: str  # the public name, sent as the payload's "type"
    entity_type: str  # the audit event's
    actions: tuple[str, ...]
    help: str
    sets: tuple[str, str] | None = None  # (field, value): only events whose change sets it


# A kind of record's public name where its table's is another ("decision" is a deliverable's acceptance decision)
PUBLIC = {"logged_decision": "decision"}
FILES = ("attach", "remove_attachment")  # a register record's attachments (tracker/register/attachments)

# In order: an event that is of several kinds goes to a webhook once, as the first of them it subscribes to.
KINDS: tuple[Kind, ...] = (
    Kind("deliverable.created", "deliverable", ("create",), "A deliverable is planned"),
    Kind("deliverable.updated", "deliverable", ("update", "criteria", "apply_change"), "A deliverable's plan changes"),
    Kind("deliverable.submitted", "deliverable", ("submit", "resubmit"), "The contractor submits a version"),
    Kind("deliverable.review_started", "deliverable", ("start_review",), "The State starts reviewing a version"),
    Kind(
        "deliverable.decided",
        "deliverable",
        ("accept", "conditionally_accept", "reject", "deem_accept", "conditions_met"),
        "A version is accepted (with conditions, or deemed), rejected, or its conditions are met",
    ),
    Kind("deliverable.withdrawn", "deliverable", ("withdraw",), "A deliverable is withdrawn"),
    Kind("review.overdue", "deliverable", ("escalate",), "The contract clock escalates an overdue review"),
    Kind("risk.created", "risk", ("create",), "A risk is raised"),
    Kind(
        "risk.updated",
        "risk",
        ("update", "review", "convert", *FILES),
        "A risk changes, is reviewed, becomes an issue, or a file is attached to it or removed",
    ),
    Kind("issue.created", "issue", ("create",), "An issue is raised"),
    Kind("issue.escalated", "issue", ("create", "update"), "An issue is escalated", sets=("status", "escalated")),
    Kind(
        "issue.updated",
        "issue",
        ("update", "decision", *FILES),
        "An issue changes, has a decision logged, or a file is attached to it or removed",
    ),
    Kind("change_request.created", "change_request", ("create",), "A change request is drafted"),
    Kind(
        "change_request.updated",
        "change_request",
        ("update", *FILES),
        "A draft change request is edited, or a file is attached to a change request or removed",
    ),
    Kind("change_request.submitted", "change_request", ("submit",), "A change request is submitted"),
    Kind("change_request.approved", "change_request", ("approve",), "A change request is approved"),
    Kind("change_request.rejected", "change_request", ("reject",), "A change request is rejected"),
    Kind("change_request.withdrawn", "change_request", ("withdraw",), "A change request is withdrawn"),
    Kind("lesson.created", "lesson", ("create",), "A lesson learned is recorded"),
    Kind("lesson.updated", "lesson", ("update", *FILES), "A lesson changes, or a file is attached to it or removed"),
    Kind("meeting.created", "meeting", ("create",), "A meeting's minutes are recorded"),
    Kind(
        "meeting.updated",
        "meeting",
        ("update", "add_action", "update_action", "mail_minutes", *FILES),
        "A meeting's minutes change, gain an action item, are mailed, or a file is attached to them or removed",
    ),
    Kind("decision.created", "logged_decision", ("create",), "A decision is recorded in the decision log"),
    Kind(
        "decision.updated",
        "logged_decision",
        ("update", *FILES),
        "A logged decision changes, or a file is attached to it or removed",
    ),
    Kind("status_report.published", "status_report", ("publish",), "A status report is published"),
)
NAMES = tuple(k.name for k in KINDS)
BY_TYPE: dict[str, tuple[Kind, ...]] = {}
for _kind in KINDS:
    BY_TYPE[_kind.entity_type] = (*BY_TYPE.get(_kind.entity_type, ()), _kind)

# Where each kind of record is read (its page; the API has the same ids under /api/v1/<plural>/{id}).
PAGES = {
    "deliverable": "/projects/{key}/deliverables/{id}",
    "risk": "/projects/{key}/risks/{id}",
    "issue": "/projects/{key}/issues/{id}",
    "change_request": "/projects/{key}/changes/{id}",
    "lesson": "/projects/{key}/lessons/{id}",
    "meeting": "/projects/{key}/meetings/{id}",
    "logged_decision": "/projects/{key}/decisions/{id}",
    "status_report": "/projects/{key}/status-reports/{id}",
}
API = {
    "deliverable": "/api/v1/deliverables/{id}",
    "risk": "/api/v1/risks/{id}",
    "issue": "/api/v1/issues/{id}",
    "change_request": "/api/v1/changes/{id}",
    "lesson": "/api/v1/lessons/{id}",
    "meeting": "/api/v1/meetings/{id}",
    "logged_decision": "/api/v1/decisions/{id}",
    "status_report": "/api/v1/status-reports/{id}",
}


def kinds_of(entity_type: str, action: str, changes: dict[str, Any] | None) -> list[str]:
    """The public names of an audit event, in KINDS order (none for the events no webhook hears of)."""
    out = []
    for kind in BY_TYPE.get(entity_type, ()):
        if action not in kind.actions:
            continue
        if kind.sets is not None:
            field, value = kind.sets
            pair = (changes or {}).get(field)
            if not (isinstance(pair, list) and len(pair) == 2 and pair[1] == value and pair[0] != value):
                continue
        out.append(kind.name)
    return out
