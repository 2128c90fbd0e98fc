"""How the audit trail reads: each event as a sentence ("Maria Rivera updated risk R-001") and each change as its
field's label, as the record's form shows it, with the values in the words its pages use. Each domain keeps its own
labels and words beside its form; TERMS says whose apply to an event."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tracker.accounts import service as accounts
from tracker.audit.models import AuditEvent
from tracker.audit.service import EventRow, holds_person
from tracker.core.web import show_date, show_datetime
from tracker.deliverables import service as deliverables
from tracker.library import service as library
from tracker.projects import service as projects
from tracker.register.actions import service as actions
from tracker.register.issues import service as issues
from tracker.register.risks import service as risks
from tracker.reports import service as reports
from tracker.reports import targets

ACTION_WORDS = {
    "create": "created",
    "update": "updated",
    "delete": "deleted",
    "add_member": "added",
    "remove_member": "removed",
    "change_role": "changed the role of",
    "revoke": "revoked",
    "password": "changed the password of",
    "sign_out_all": "signed out every session of",
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
    "review": "reviewed",
    "convert": "converted into an issue",
    "add_action": "added an action item to",
    "update_action": "updated an action item of",
    "decision": "logged a decision on",
    "register_settings": "changed the register settings of",
    "import_risks": "imported risks into",
    "import_issues": "imported issues into",
    "update_report": "saved the draft of",
    "publish": "published",
    "report_targets": "changed the RAG thresholds and targets of",
}
ENTITY_WORDS = {
    "project": "project",
    "membership": "member",
    "app_user": "user",
    "api_token": "API token",
    "deliverable": "deliverable",
    "review_assignment": "deliverable",
    "comment": "deliverable",
    "criterion_result": "deliverable",
    "risk": "risk",
    "issue": "issue",
    "saved_report": "saved report",
    "status_report": "status report",
}


@dataclass(frozen=True)
class Terms:
    labels: dict[str, str]
    # field -> {stored value: word}, or a function of the value and the page's {user id: name}
    words: dict[str, Any] = field(default_factory=dict)


_DELIVERABLE = Terms(deliverables.LABELS, deliverables.WORDS)
_ACTION = Terms(actions.LABELS, actions.WORDS)
# By action first (what an action item, a settings page or an import records on its risk's, issue's or project's
# trail), then by the kind of record.
TERMS = {
    "add_action": _ACTION,
    "update_action": _ACTION,
    "register_settings": Terms(risks.SETTING_LABELS),
    "report_targets": Terms(targets.LABELS),
    "assign_reviewer": Terms(deliverables.REVIEWER_LABELS),
    "remove_reviewer": Terms(deliverables.REVIEWER_LABELS),
    "risk": Terms(risks.LABELS, risks.WORDS),
    "issue": Terms(issues.LABELS, issues.WORDS),
    "deliverable": _DELIVERABLE,
    "comment": _DELIVERABLE,
    "criterion_result": _DELIVERABLE,
    "project": Terms(projects.LABELS, projects.WORDS),
    "membership": Terms(projects.LABELS, projects.WORDS),
    "app_user": Terms(accounts.LABELS, accounts.WORDS),
    "api_token": Terms(accounts.LABELS),
    "saved_report": Terms(library.LABELS, library.WORDS),
    "status_report": Terms(reports.LABELS, reports.WORDS),
}
Shown = str | list[str]


def describe(event: AuditEvent) -> str:
    """'created project', 'added member', ... for the history lists."""
    verb = ACTION_WORDS.get(event.action, event.action.replace("_", " "))
    return f"{verb} {ENTITY_WORDS.get(event.entity_type, event.entity_type.replace('_', ' '))}"


@dataclass(frozen=True)
class Line:
    label: str
    before: Shown
    after: Shown


def lines(row: EventRow) -> list[Line]:
    """The event's changes as its record's form would label them, in the words its pages use."""
    e = row.event
    terms = TERMS.get(e.action) or TERMS.get(e.entity_type) or Terms({})
    out = []
    for key, (before, after) in (e.changes or {}).items():
        base = re.sub(r" \d+$", "", key)  # "action 12", "criterion 3": numbered rows of one kind
        was, now = show(base, before, terms, row.names), show(base, after, terms, row.names)
        if was or now:
            out.append(Line(terms.labels.get(key) or terms.labels.get(base) or _label(key), was, now))
    return out


def _label(key: str) -> str:
    text = key.removesuffix("_id").replace("_", " ")
    return text[:1].upper() + text[1:]


def show(key: str, value: Any, terms: Terms, names: dict[int, str]) -> Shown:
    """A stored value in words: a person's name, a coded value's word, a date as pages show it, yes/no, a list."""
    words = terms.words.get(key)
    if value is None or value == "" or value == []:
        return ""
    if callable(words):
        return words(value, names)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if holds_person(key) and isinstance(value, int):
        return names.get(value, "a former user")
    if words is not None:
        return str(words.get(value, value))
    if isinstance(value, dict):  # e.g. a project holiday {"date": …, "name": …}
        return " ".join(_text(show(k, v, terms, names)) for k, v in value.items())
    if isinstance(value, list):  # codes on one line; sentences (criteria, holidays) one a line
        items = [_text(show(key, v, terms, names)) for v in value]
        return ", ".join(items) if not any(" " in i for i in items) else items
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return show_date(date.fromisoformat(value))
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}T[\d:.]+([+-]\d{2}:\d{2}|Z)?", value):
        return show_datetime(datetime.fromisoformat(value))
    return str(value)


def _text(shown: Shown) -> str:
    return shown if isinstance(shown, str) else "; ".join(shown)
