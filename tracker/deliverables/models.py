"""Deliverables, their acceptance criteria, submitted versions with files, reviews, comments and decisions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow
from tracker.core.models import Versioned, version_field
from tracker.deliverables.workflow import Status


class DeliverableType(StrEnum):
    DOCUMENT = "document"
    SOFTWARE_RELEASE = "software_release"
    DATA_CONVERSION = "data_conversion"
    TRAINING = "training"
    PLAN = "plan"
    OTHER = "other"


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"


class Disposition(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    ACCEPTED_AS_IS = "accepted_as_is"
    DEFERRED = "deferred"


class CriterionOutcome(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    NOT_APPLICABLE = "not_applicable"


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    CONDITIONALLY_ACCEPTED = "conditionally_accepted"
    REJECTED = "rejected"
    DEEMED_ACCEPTED = "deemed_accepted"


class RecordKind(StrEnum):
    ACCEPTANCE_LETTER = "acceptance_letter"
    REJECTION_LETTER = "rejection_letter"
    CONDITIONAL_NOTICE = "conditional_notice"
    SIGNOFF = "signoff"


class RecordFormat(StrEnum):
    PDF = "pdf"
    DOCX = "docx"


class Deliverable(Versioned, SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("project_id", "code"),
        # One per order the list offers (service.SORTS), each ending in the code that breaks ties, so a page is read
        # in order from the index and its offset skipped there, never the project's rows sorted.
        Index("ix_deliverable_project_status", "project_id", "status", "code"),
        Index("ix_deliverable_project_due", "project_id", "due_date", "code"),
        Index("ix_deliverable_project_review", "project_id", "review_due", "code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    code: str = Field(max_length=20)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=8000)
    type: str = Field(default=DeliverableType.DOCUMENT, max_length=20)
    due_date: date | None = None
    owner_id: int | None = Field(default=None, foreign_key="app_user.id")  # the state's review lead
    payment_amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2), nullable=True))
    holdback_pct: Decimal | None = Field(default=None, sa_column=Column(Numeric(5, 2), nullable=True))
    status: str = Field(default=Status.PLANNED, max_length=24)
    current_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # 0 = never submitted
    review_due: date | None = None  # of the current submission
    resubmit_due: date | None = None  # after a rejection
    deemed_on: date | None = None  # deemed-acceptance policy: accepted by silence on this day unless decided
    escalated_at: datetime | None = None  # "never deemed" policy: the review ran overdue and was escalated
    withdrawn_reason: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()


class Criterion(Versioned, SQLModel, table=True):
    """One acceptance criterion of the Deliverable Expectation Document, in order."""

    id: int | None = Field(default=None, primary_key=True)
    deliverable_id: int = Field(foreign_key="deliverable.id", index=True)
    position: int
    text: str = Field(max_length=2000)
    retired_at: datetime | None = None  # removed after the first submission: kept for the record
    created_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()


class CriteriaVersion(SQLModel, table=True):
    """One version of the Deliverable Expectation Document: which criteria, in which order, and its agreement (a
    manager for the State, then the contractor's acknowledgment). Version 1 is edited in place until the first
    submission; a later change makes the next version, so every decision names the criteria it was judged against."""

    __tablename__ = "criteria_version"
    __table_args__ = (UniqueConstraint("deliverable_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    deliverable_id: int = Field(foreign_key="deliverable.id")
    number: int
    criterion_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # in order
    created_at: datetime = Field(default_factory=utcnow)
    agreed_at: datetime | None = None
    agreed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    acknowledged_at: datetime | None = None
    acknowledged_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class Submission(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("deliverable_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    deliverable_id: int = Field(foreign_key="deliverable.id", index=True)
    number: int  # version 1, 2, ...
    submitted_at: datetime = Field(default_factory=utcnow)
    submitted_by_id: int = Field(foreign_key="app_user.id")
    notes: str = Field(default="", max_length=8000)
    review_due: date
    due_on: date | None = None  # when this version was due: the contractual date for v1, the resubmission date after


class SubmissionFile(SQLModel, table=True):
    __tablename__ = "submission_file"

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    sha256: str = Field(max_length=64, index=True)  # content address in the file store
    original_name: str = Field(max_length=255)
    size: int
    content_type: str = Field(default="application/octet-stream", max_length=120)


class ReviewAssignment(Versioned, SQLModel, table=True):
    __tablename__ = "review_assignment"
    __table_args__ = (UniqueConstraint("submission_id", "reviewer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    reviewer_id: int = Field(foreign_key="app_user.id", index=True)
    due_date: date
    completed_at: datetime | None = None
    version: int = version_field()


class Comment(Versioned, SQLModel, table=True):
    __table_args__ = (Index("ix_comment_submission_disposition", "submission_id", "disposition"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id")
    reviewer_id: int = Field(foreign_key="app_user.id")
    location: str = Field(default="", max_length=200)  # section / page
    text: str = Field(max_length=8000)
    severity: str = Field(max_length=10)
    response: str = Field(default="", max_length=8000)  # the contractor's answer
    responded_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    responded_at: datetime | None = None
    disposition: str = Field(default=Disposition.OPEN, max_length=16)
    carried_from_id: int | None = Field(default=None, foreign_key="comment.id")  # raised on an earlier version
    created_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()


class CriterionResult(Versioned, SQLModel, table=True):
    __tablename__ = "criterion_result"
    __table_args__ = (UniqueConstraint("submission_id", "criterion_id"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    criterion_id: int = Field(foreign_key="criterion.id")
    outcome: str = Field(max_length=16)
    evidence: str = Field(default="", max_length=4000)
    recorded_by_id: int = Field(foreign_key="app_user.id")
    recorded_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()


class Decision(SQLModel, table=True):
    """Immutable once written. One per submission (the unique key makes a second, concurrent decision fail);
    'conditions met' is its own row pointing at the conditional decision it closes."""

    __table_args__ = (
        UniqueConstraint("submission_id", "closes_id"),
        # A period's decisions (the status report's week, the overview, the timeline's window) read from their days,
        # not from every decision ever taken: decisions carry no project, so a scan grows with the whole database.
        Index("ix_decision_decided_at", "decided_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deliverable_id: int = Field(foreign_key="deliverable.id", index=True)
    submission_id: int = Field(foreign_key="submission.id")
    outcome: str = Field(max_length=24)
    findings: str = Field(default="", max_length=20000)
    conditions: str = Field(default="", max_length=20000)
    conditions_due: date | None = None
    closes_id: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # 0, or the conditional decision met
    decided_by_id: int | None = Field(default=None, foreign_key="app_user.id")  # None: deemed by the clock
    decided_at: datetime = Field(default_factory=utcnow)
    criteria_version: int | None = None  # the criteria version it was judged against (None: decided before versions)


class Condition(Versioned, SQLModel, table=True):
    """One condition of a conditional acceptance, tracked to its due date and confirmed met with evidence. When the
    last one is met the deliverable is accepted (a decision that closes the conditional one)."""

    __table_args__ = (Index("ix_condition_open_due", "deliverable_id", "met_at", "due_date"),)

    id: int | None = Field(default=None, primary_key=True)
    deliverable_id: int = Field(foreign_key="deliverable.id")
    decision_id: int = Field(foreign_key="decision.id", index=True)  # the conditional acceptance that set it
    position: int
    text: str = Field(max_length=2000)
    due_date: date
    owner_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    met_at: datetime | None = None
    met_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    evidence: str = Field(default="", max_length=4000)
    created_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()


class GeneratedRecord(SQLModel, table=True):
    """A letter or sign-off generated from a decision, stored once in the file store under its sha256 and
    never regenerated, so the copy attached to a payment approval can be checked against this row."""

    __tablename__ = "generated_record"
    __table_args__ = (UniqueConstraint("decision_id", "kind", "format"),)

    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="decision.id")
    deliverable_id: int = Field(foreign_key="deliverable.id", index=True)
    kind: str = Field(max_length=24)
    format: str = Field(max_length=8)
    sha256: str = Field(max_length=64)
    size: int
    filename: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
