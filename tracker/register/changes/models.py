"""Change requests and the deliverables each one affects. The link row also keeps what an approval did to each
deliverable (its due date and payment before and after), so the record shows the consequence it caused."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Column, Index, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow
from tracker.core.models import Versioned, version_field


class ChangeStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Side(StrEnum):
    """Who asks for the change: the State (the agency) or the contractor."""

    STATE = "state"
    CONTRACTOR = "contractor"


PENDING = (ChangeStatus.SUBMITTED, ChangeStatus.UNDER_REVIEW)  # awaiting a decision
OPEN_CHANGE = (ChangeStatus.DRAFT, *PENDING)


class ChangeRequest(Versioned, SQLModel, table=True):
    __tablename__ = "change_request"
    __table_args__ = (
        UniqueConstraint("project_id", "code"),
        Index("ix_change_request_project_status", "project_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    code: str = Field(max_length=20)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=8000)
    reason: str = Field(default="", max_length=4000)  # why the change is needed
    requested_by: str = Field(default=Side.STATE, max_length=12)
    cost_impact: Decimal = Field(
        default=Decimal("0.00"), sa_column=Column(Numeric(14, 2), nullable=False, server_default="0")
    )
    schedule_impact: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # business days, + is later
    scope_impact: str = Field(default="", max_length=4000)
    status: str = Field(default=ChangeStatus.DRAFT, max_length=14)
    rationale: str = Field(default="", max_length=4000)  # the decider's reasons
    raised_on: date
    submitted_on: date | None = None
    decided_on: date | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    raised_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()


class ChangeDeliverable(SQLModel, table=True):
    """A deliverable the change affects; once approved, what the change did to it."""

    __tablename__ = "change_deliverable"

    change_id: int = Field(foreign_key="change_request.id", primary_key=True)
    deliverable_id: int = Field(foreign_key="deliverable.id", primary_key=True, index=True)
    due_before: date | None = None
    due_after: date | None = None
    amount_before: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2), nullable=True))
    amount_after: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2), nullable=True))
