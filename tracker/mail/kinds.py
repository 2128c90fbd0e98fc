"""Which events of the audit trail are told to whom, as data: each kind names the events it is (entity and action,
and a test of their changes), who is concerned, the permission they must still hold to read the record, and the
words of its message. The mail handler (mail/service.py) reads this table; the preferences page lists it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.audit.models import AuditEvent
from tracker.core.errors import Forbidden, NotFound
from tracker.core.web import show_date
from tracker.deliverables.models import Comment, Deliverable, ReviewAssignment, Submission
from tracker.mail.models import Mode, Watch
from tracker.projects.models import Membership, Project
from tracker.projects.permissions import Perm, roles_with
from tracker.projects.service import Access, get_for
from tracker.register.changes import service as changes
from tracker.register.changes.models import ChangeRequest
from tracker.register.kinds import KINDS as REGISTER
from tracker.register.meetings.models import MeetingAttendee
from tracker.reports.models import StatusReport
from tracker.webhooks.models import Webhook
from tracker.webhooks.service import host_of


@dataclass(frozen=True)
class About:
    """The record an event is about, as its message names and links it."""

    project: Project
    code: str
    title: str
    path: str  # the record's page
    thread: str  # one thread per record in a mail client, and what its watchers watch
    record: Any
    perm: Perm = Perm.VIEW  # what reading it takes


def _deliverable(db: Session, d: Deliverable) -> About:
    project = db.get(Project, d.project_id)
    return About(project, d.code, d.title, f"/projects/{project.key}/deliverables/{d.id}", f"deliverable-{d.id}", d)


# What may be watched, by its URL segment, and what reading it takes: deliverables and every kind of the register.
WATCHABLE = {"deliverables": Perm.VIEW} | {k.plural: k.view for k in REGISTER.values()}


def _submission_of(db: Session, submission_id: int) -> Deliverable:
    return db.get(Deliverable, db.get(Submission, submission_id).deliverable_id)


def _register(kind: str) -> Callable[[Session, Any], About]:
    def about(db: Session, record: Any) -> About:
        project = db.get(Project, record.project_id)
        return About(
            project,
            record.code,
            record.title,
            f"/projects/{project.key}/{kind}/{record.id}",
            f"{kind}-{record.id}",
            record,
            WATCHABLE[kind],
        )

    return about


def _report(db: Session, report: StatusReport) -> About:
    project = db.get(Project, report.project_id)
    title = f"Status report, week ending {show_date(report.period_end, weekday=True)}"
    path = f"/projects/{project.key}/status-reports/{report.id}"
    return About(project, "", title, path, f"report-{report.id}", report, Perm.VIEW_REGISTER)


def _webhook(db: Session, hook: Webhook) -> About:
    project = db.get(Project, hook.project_id)
    path = f"/projects/{project.key}/webhooks/{hook.id}"
    title = f"Webhook to {host_of(hook.url)}"
    return About(project, "", title, path, f"webhook-{hook.id}", hook, Perm.MANAGE_WEBHOOKS)


# entity type -> (model, how its event's record reads)
RECORDS: dict[str, tuple[type, Callable[[Session, Any], About]]] = {
    "deliverable": (Deliverable, _deliverable),
    "review_assignment": (ReviewAssignment, lambda db, a: _deliverable(db, _submission_of(db, a.submission_id))),
    "comment": (Comment, lambda db, c: _deliverable(db, _submission_of(db, c.submission_id))),
    **{k.entity: (k.model, _register(k.plural)) for k in REGISTER.values()},
    "status_report": (StatusReport, _report),
    "webhook": (Webhook, _webhook),
}


def about(db: Session, event: AuditEvent) -> About | None:
    model, read = RECORDS.get(event.entity_type, (None, None))
    record = db.get(model, event.entity_id) if model else None
    return read(db, record) if record is not None else None


# --- who is concerned ---------------------------------------------------------------------------------------------


def members_with(db: Session, project_id: int, perm: Perm) -> set[int]:
    stmt = select(Membership.user_id).where(
        Membership.project_id == project_id, col(Membership.role).in_(sorted(roles_with(perm)))
    )
    return set(db.exec(stmt))


def _lead_and_reviewers(db: Session, event: AuditEvent, a: About) -> set[int]:
    d = a.record
    reviewers = db.exec(
        select(ReviewAssignment.reviewer_id)
        .join(Submission, col(Submission.id) == ReviewAssignment.submission_id)
        .where(Submission.deliverable_id == d.id, Submission.number == d.current_version)
    )
    return {d.owner_id, *reviewers} - {None}


def _lead_and_escalations(db: Session, event: AuditEvent, a: About) -> set[int]:
    return {a.record.owner_id} - {None} | members_with(db, a.project.id, Perm.RECEIVE_ESCALATIONS)


def _contractor_and_lead(db: Session, event: AuditEvent, a: About) -> set[int]:
    return members_with(db, a.project.id, Perm.DELIVER) | ({a.record.owner_id} - {None})


def _reviewer(db: Session, event: AuditEvent, a: About) -> set[int]:
    return {db.get(ReviewAssignment, event.entity_id).reviewer_id}


def _contractor(db: Session, event: AuditEvent, a: About) -> set[int]:
    return members_with(db, a.project.id, Perm.DELIVER)


def _escalation(db: Session, event: AuditEvent, a: About) -> set[int]:
    return members_with(db, a.project.id, Perm.RECEIVE_ESCALATIONS) | ({a.record.owner_id} - {None})


def _action_owner(db: Session, event: AuditEvent, a: About) -> set[int]:
    owner = (event.changes or {}).get("owner_id", [None, None])[1]
    return {int(owner)} if owner else set()


def _deciders(db: Session, event: AuditEvent, a: About) -> set[int]:
    return members_with(db, a.project.id, Perm.DECIDE_CHANGE)


def _requester(db: Session, event: AuditEvent, a: About) -> set[int]:
    return {a.record.raised_by_id} - {None}


def _webhook_owner(db: Session, event: AuditEvent, a: About) -> set[int]:
    return {a.record.created_by} - {None} or members_with(db, a.project.id, Perm.MANAGE_WEBHOOKS)


def _readers(db: Session, event: AuditEvent, a: About) -> set[int]:
    return members_with(db, a.project.id, Perm.VIEW_REGISTER)


def _attendees(db: Session, event: AuditEvent, a: About) -> set[int]:
    """The members who attended the meeting, as it stands when its minutes are mailed."""
    return set(db.exec(select(MeetingAttendee.user_id).where(MeetingAttendee.meeting_id == a.record.id)))


def _watchers(db: Session, event: AuditEvent, a: About) -> set[int]:
    """Who watched the record when the event happened (not who began to since)."""
    return set(db.exec(select(Watch.user_id).where(Watch.record == a.thread, col(Watch.created_at) <= event.at)))


MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9._-]{2,64})")


def mentioned_names(event: AuditEvent) -> set[str]:
    """The usernames written as @name in the text an event added (a comment, a note, a description)."""
    names = set()
    for change in (event.changes or {}).values():
        after = change[1] if isinstance(change, list) and len(change) == 2 else None
        if isinstance(after, str):
            names.update(m.rstrip(".") for m in MENTION.findall(after))
    return names


def _mentioned(db: Session, event: AuditEvent, a: About) -> set[int]:
    names = mentioned_names(event)
    return set(db.exec(select(User.id).where(col(User.username).in_(sorted(names))))) if names else set()


def _became(field: str, *values: str) -> Callable[[AuditEvent], bool]:
    return lambda e: (e.changes or {}).get(field, [None, None])[1] in values


def _always(event: AuditEvent) -> bool:
    return True


def _new_owner(event: AuditEvent) -> bool:
    return bool((event.changes or {}).get("owner_id", [None, None])[1])


ANY = ("*",)  # any entity or action


@dataclass(frozen=True)
class EventKind:
    key: str
    label: str  # on the preferences page
    entity: str  # the audit trail's entity type, or "*": any record with a page
    actions: tuple[str, ...]  # or ANY
    perm: Perm | None  # what a recipient must hold in the project, now, to be told; None: what reading the record takes
    recipients: Callable[[Session, AuditEvent, About], set[int]]
    headline: str  # the subject after "[KEY CODE]", with {title}, {code}, {verb} (the trail's word) and {actor}
    when: Callable[[AuditEvent], bool] = _always
    default: Mode = Mode.IMMEDIATE

    def matches(self, event: AuditEvent) -> bool:
        entity = event.entity_type in RECORDS if self.entity == "*" else event.entity_type == self.entity
        return entity and (self.actions == ANY or event.action in self.actions) and self.when(event)


def _action_assigned(key: str, label: str, entity: str) -> EventKind:
    """An action item given to someone, on the trail of the risk, issue or meeting it belongs to."""
    return EventKind(
        key,
        label,
        entity,
        ("add_action", "update_action"),
        Perm.VIEW_REGISTER,
        _action_owner,
        "An action item of {title} is yours",
        when=_new_owner,
    )


KINDS: dict[str, EventKind] = {
    k.key: k
    for k in (
        EventKind(
            "submitted",
            "A deliverable you review is submitted",
            "deliverable",
            ("submit", "resubmit"),
            Perm.VIEW,
            _lead_and_reviewers,
            "{title} {verb} for review",
        ),
        EventKind(
            "reviewer_assigned",
            "You are assigned to review a deliverable",
            "review_assignment",
            ("assign_reviewer",),
            Perm.REVIEW,
            _reviewer,
            "You are asked to review {title}",
        ),
        EventKind(
            "review_overdue",
            "A review is overdue",
            "deliverable",
            ("escalate",),
            Perm.VIEW,
            _lead_and_escalations,
            "The review of {title} is overdue",
        ),
        EventKind(
            "decided",
            "A deliverable is decided (with the decision letter)",
            "deliverable",
            ("accept", "conditionally_accept", "reject", "deem_accept", "conditions_met"),
            Perm.VIEW,
            _contractor_and_lead,
            "{title} {verb}",
        ),
        EventKind(
            "comment",
            "A review comment awaits the contractor's response",
            "comment",
            ("comment",),
            Perm.DELIVER,
            _contractor,
            "A review comment on {title} awaits your response",
        ),
        EventKind(
            "issue_escalated",
            "An issue is escalated",
            "issue",
            ("update",),
            Perm.VIEW_REGISTER,
            _escalation,
            "Issue escalated: {title}",
            when=_became("status", "escalated"),
        ),
        _action_assigned("action_assigned", "An action item is assigned to you", "risk"),
        _action_assigned("issue_action_assigned", "An action item on an issue is assigned to you", "issue"),
        EventKind(
            "change_submitted",
            "A change request awaits your decision",
            "change_request",
            ("submit",),
            Perm.DECIDE_CHANGE,
            _deciders,
            "Change request awaiting decision: {title}",
        ),
        EventKind(
            "change_decided",
            "Your change request is decided",
            "change_request",
            ("approve", "reject"),
            Perm.VIEW_CHANGES,
            _requester,
            "Change request {verb}: {title}",
        ),
        EventKind(
            "webhook_disabled",
            "A webhook you made is turned off after repeated failures",
            "webhook",
            ("disable",),
            Perm.MANAGE_WEBHOOKS,
            _webhook_owner,
            "{title} turned off after repeated failures",
        ),
        EventKind(
            "reminders",
            "Your reviews, deliveries, conditions, risk reviews and action items coming due or overdue",
            "",  # no event: the reminders job reads each person's My work
            (),
            Perm.VIEW,
            lambda db, event, a: set(),
            "{title}",
        ),
        _action_assigned(
            "meeting_action_assigned", "An action item from a meeting's minutes is assigned to you", "meeting"
        ),
        EventKind(
            "minutes_mailed",
            "The minutes of a meeting you attended (with their PDF)",
            "meeting",
            ("mail_minutes",),
            Perm.VIEW_REGISTER,
            _attendees,
            "Minutes: {title}",
        ),
        EventKind(
            "mentioned",
            "Someone mentions you (@username)",
            "*",
            ANY,
            None,
            _mentioned,
            "You are mentioned on {title}",
            when=lambda e: bool(mentioned_names(e)),
        ),
        EventKind(
            "watched",
            "Something you watch changes",
            "*",
            ANY,
            None,
            _watchers,
            "{actor} {verb} {code}",
        ),
        EventKind(
            "report_published",
            "A status report is published",
            "status_report",
            ("publish",),
            Perm.VIEW_REGISTER,
            _readers,
            "{title} published",
        ),
    )
}


def kinds_of(event: AuditEvent) -> list[EventKind]:
    return [k for k in KINDS.values() if k.matches(event)]


def may_read(db: Session, user: User, kind: EventKind, a: About) -> Access | None:
    """The recipient's access to the record's project, when they may still read it (else None)."""
    if not user.is_active:
        return None
    try:
        access = get_for(db, principal(user), a.project.key, kind.perm or a.perm)
    except (NotFound, Forbidden):  # not a member any more, or no longer allowed
        return None
    if isinstance(a.record, ChangeRequest) and not changes.may_see(access, a.record):
        return None
    return access
