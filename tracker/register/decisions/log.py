"""The project's merged decision log: the decision log's own records, every deliverable decision, every change
request decided and every decision logged on an issue, read from their own records (never copied), newest first.
One query per source whatever the number of rows; a reader sees only the sources they may read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from tracker.accounts.models import User
from tracker.core.errors import FormError
from tracker.core.forms import Form, OptionalDate
from tracker.core.web import label
from tracker.deliverables.models import Decision, Deliverable, Submission
from tracker.projects.models import Project
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.register import common
from tracker.register.changes.models import ChangeRequest, ChangeStatus
from tracker.register.decisions import service as decisions
from tracker.register.decisions.models import LoggedDecision
from tracker.register.issues.models import Issue, IssueDecision


class Source(StrEnum):
    """Where a decision of the merged log is recorded."""

    LOG = "decision"
    DELIVERABLE = "deliverable"
    CHANGE = "change"
    ISSUE = "issue"


SOURCE_LABELS = {
    Source.LOG: "Decision log",
    Source.DELIVERABLE: "Deliverable",
    Source.CHANGE: "Change request",
    Source.ISSUE: "Issue",
}
# Who may read each source's decisions: as who may read the records themselves
READ = {
    Source.LOG: Perm.VIEW_REGISTER,
    Source.DELIVERABLE: Perm.VIEW,
    Source.CHANGE: Perm.VIEW_CHANGES,
    Source.ISSUE: Perm.VIEW_REGISTER,
}
# A change request's decisions. A decided request is never a draft, so whoever reads change requests reads every
# decided one (changes.visible_clause hides only the State's drafts from the contractor).
DECIDED = (ChangeStatus.APPROVED, ChangeStatus.REJECTED)
DEEMED = "Deemed by the contract clock"


def readable(access: Access) -> list[Source]:
    return [s for s in Source if access.can(READ[s])]


class LogQuery(Form):
    """The merged log's filters: a source, a range of days, words."""

    labels = {"source": "Source", "since": "From", "until": "To", "q": "Words"}

    source: Source | None = None
    since: OptionalDate = None
    until: OptionalDate = None
    q: str = Field(default="", max_length=100)

    @model_validator(mode="before")
    @classmethod
    def _blank(cls, data: Any) -> Any:
        return {k: v for k, v in data.items() if v != ""} if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _order(self) -> LogQuery:
        if self.since and self.until and self.since > self.until:
            raise FormError({"until": "The range ends before it starts."})
        self.q = self.q.strip()
        return self


@dataclass(frozen=True)
class Entry:
    """One decision as the merged log shows it."""

    day: date
    source: Source
    code: str  # the record's code: D-001, DEL-04, CR-002, I-003
    title: str  # the record's title
    path: str  # its page
    outcome: str  # what was decided
    detail: str  # the reasons, findings or context, if any
    decided_by: str
    order: int  # within a day: later first

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.source]

    def as_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "source": self.source.value,
            "source_label": self.source_label,
            "code": self.code,
            "title": self.title,
            "path": self.path,
            "outcome": self.outcome,
            "detail": self.detail,
            "decided_by": self.decided_by,
        }


def _bounds(project: Project, since: date | None, until: date | None) -> list[Any]:
    """A range of the project's days as moments of a deliverable decision (stored in UTC)."""
    zone, where = ZoneInfo(project.timezone), []
    if since:
        where.append(col(Decision.decided_at) >= datetime.combine(since, time.min, zone).astimezone(UTC))
    if until:
        end = datetime.combine(until + timedelta(days=1), time.min, zone).astimezone(UTC)
        where.append(col(Decision.decided_at) < end)
    return where


def _days(column: Any, since: date | None, until: date | None) -> list[Any]:
    return [c for c in (since and col(column) >= since, until and col(column) <= until) if c is not None]


def _logged(db: Session, project: Project, query: LogQuery) -> list[Entry]:
    Member = aliased(User, name="log_member")
    where = [LoggedDecision.project_id == project.id, *_days(LoggedDecision.decided_on, query.since, query.until)]
    if query.q:
        where.append(common.text_match(query.q, *decisions.TEXT))
    stmt = select(LoggedDecision, Member.full_name).outerjoin(Member, col(Member.id) == LoggedDecision.decided_by_id)
    out = []
    for d, member in db.exec(stmt.where(*where)):
        path = f"/projects/{project.key}/decisions/{d.id}"
        who = decisions.decider(d.decided_by, member)
        out.append(Entry(d.decided_on, Source.LOG, d.code, d.title, path, d.title, d.context, who, d.id))
    return out


def _deliverables(db: Session, project: Project, query: LogQuery) -> list[Entry]:
    where = [Deliverable.project_id == project.id, *_bounds(project, query.since, query.until)]
    if query.q:
        where.append(common.text_match(query.q, Deliverable.code, Deliverable.title, Decision.findings))
    stmt = (
        select(Decision, Deliverable.code, Deliverable.title, Submission.number, User.full_name)
        .join(Deliverable, col(Deliverable.id) == Decision.deliverable_id)
        .join(Submission, col(Submission.id) == Decision.submission_id)
        .outerjoin(User, col(User.id) == Decision.decided_by_id)
        .where(*where)
    )
    zone, out = ZoneInfo(project.timezone), []
    for d, code, title, number, who in db.exec(stmt):
        outcome = "Conditions met: accepted" if d.closes_id else label(d.outcome)
        path = f"/projects/{project.key}/deliverables/{d.deliverable_id}"
        day = d.decided_at.replace(tzinfo=d.decided_at.tzinfo or UTC).astimezone(zone).date()
        out.append(
            Entry(
                day,
                Source.DELIVERABLE,
                code,
                title,
                path,
                f"{outcome} (version {number})",
                d.findings,
                who or DEEMED,
                d.id,
            )
        )
    return out


def _changes(db: Session, project: Project, query: LogQuery) -> list[Entry]:
    where = [
        ChangeRequest.project_id == project.id,
        col(ChangeRequest.status).in_(DECIDED),
        col(ChangeRequest.decided_on).is_not(None),
        *_days(ChangeRequest.decided_on, query.since, query.until),
    ]
    if query.q:
        where.append(common.text_match(query.q, ChangeRequest.code, ChangeRequest.title, ChangeRequest.rationale))
    stmt = select(ChangeRequest, User.full_name).outerjoin(User, col(User.id) == ChangeRequest.decided_by_id)
    out = []
    for c, who in db.exec(stmt.where(*where)):
        path = f"/projects/{project.key}/changes/{c.id}"
        out.append(
            Entry(c.decided_on, Source.CHANGE, c.code, c.title, path, label(c.status), c.rationale, who or "", c.id)
        )
    return out


def _issues(db: Session, project: Project, query: LogQuery) -> list[Entry]:
    where = [Issue.project_id == project.id, *_days(IssueDecision.decided_on, query.since, query.until)]
    if query.q:
        where.append(
            common.text_match(query.q, Issue.code, Issue.title, IssueDecision.decision, IssueDecision.rationale)
        )
    stmt = select(IssueDecision, Issue.code, Issue.title).join(Issue, col(Issue.id) == IssueDecision.issue_id)
    out = []
    for d, code, title in db.exec(stmt.where(*where)):
        path = f"/projects/{project.key}/issues/{d.issue_id}"
        out.append(Entry(d.decided_on, Source.ISSUE, code, title, path, d.decision, d.rationale, d.decided_by, d.id))
    return out


READERS = {Source.LOG: _logged, Source.DELIVERABLE: _deliverables, Source.CHANGE: _changes, Source.ISSUE: _issues}


def entries(db: Session, project: Project, sources: list[Source], query: LogQuery) -> list[Entry]:
    """The decisions of the given sources that match the query, newest first: one query per source."""
    found = [e for s in sources if query.source in (None, s) for e in READERS[s](db, project, query)]
    return sorted(found, key=lambda e: (e.day, -list(Source).index(e.source), e.order), reverse=True)


def for_reader(db: Session, access: Access, query: LogQuery) -> list[Entry]:
    """The merged log as this member may read it."""
    return entries(db, access.project, readable(access), query)


def for_report(db: Session, project: Project, start: date, end: date) -> list[dict[str, Any]]:
    """The period's decisions for the status report (whose readers read every source), as its snapshot keeps them."""
    return [e.as_json() for e in entries(db, project, list(Source), LogQuery(since=start, until=end))]
