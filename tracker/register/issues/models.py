"""Issues, their decision log, and links to deliverables."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow
from tracker.core.models import Versioned, version_field


class Priority(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


def priority_rank_sql(column: str = "priority") -> str:
    """Priorities in their order, most urgent first, as plain SQL: the index below and the register's sort must
    use the very same expression for the database to match them, so it is written out, not bound. Laid out line
    by line as PostgreSQL prints it back, so the migrations test can compare the index with the model's."""
    whens = "".join(f"\n    WHEN '{p.value}' THEN {n}" for n, p in enumerate(Priority))
    return f"\nCASE {column}{whens}\n    ELSE {len(Priority)}\nEND"


class IssueStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"


UNRESOLVED = (IssueStatus.OPEN, IssueStatus.IN_PROGRESS, IssueStatus.ESCALATED)


class EscalationLevel(StrEnum):
    PROJECT = "project"  # handled inside the project: not escalated
    EXECUTIVE = "executive"
    SPONSOR = "sponsor"


class Issue(Versioned, SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("project_id", "code"),
        # The register's default order (priority, then code), read along the index instead of sorted: of the whole
        # register, and of one status (a filter, which a priority filter then narrows within the same walk).
        Index("ix_issue_project_priority", "project_id", text(f"({priority_rank_sql()})"), "code"),
        Index("ix_issue_project_status_priority", "project_id", "status", text(f"({priority_rank_sql()})"), "code"),
        # The issues open in some week of the trends' window, with what their median age needs, without the rows.
        Index("ix_issue_project_open_span", "project_id", "resolved_on", "raised_on", "priority"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    code: str = Field(max_length=20)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=8000)
    impact: str = Field(default="", max_length=4000)  # what it does to the project
    priority: str = Field(default=Priority.MEDIUM, max_length=10)
    owner_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    need_by: date | None = None  # a decision or resolution is needed by
    status: str = Field(default=IssueStatus.OPEN, max_length=12)
    escalation_level: str = Field(default=EscalationLevel.PROJECT, max_length=10)
    escalation_reason: str = Field(default="", max_length=2000)
    resolution: str = Field(default="", max_length=8000)
    raised_on: date  # the issue's age counts from this project calendar day
    resolved_on: date | None = None
    risk_id: int | None = Field(default=None, foreign_key="risk.id", index=True)  # the realized risk it came from
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()


class IssueDecision(SQLModel, table=True):
    """A dated entry of the decision log. Written once, never edited."""

    __tablename__ = "issue_decision"

    id: int | None = Field(default=None, primary_key=True)
    issue_id: int = Field(foreign_key="issue.id", index=True)
    decided_on: date
    decision: str = Field(max_length=4000)
    decided_by: str = Field(max_length=200)  # a person or a body, e.g. "Steering committee"
    rationale: str = Field(default="", max_length=4000)
    recorded_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    recorded_at: datetime = Field(default_factory=utcnow)


class IssueDeliverable(SQLModel, table=True):
    __tablename__ = "issue_deliverable"

    issue_id: int = Field(foreign_key="issue.id", primary_key=True)
    deliverable_id: int = Field(foreign_key="deliverable.id", primary_key=True, index=True)
