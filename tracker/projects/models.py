"""Projects and who may do what in them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow
from tracker.core.models import Versioned, version_field


class Role(StrEnum):
    MANAGER = "manager"
    STAFF = "staff"
    CONTRACTOR = "contractor"
    VIEWER = "viewer"


ROLE_LABELS = {
    Role.MANAGER: "Manager",
    Role.STAFF: "Staff",
    Role.CONTRACTOR: "Contractor",
    Role.VIEWER: "Viewer",
}


class DeemedPolicy(StrEnum):
    NEVER = "never"  # an overdue review escalates
    DEEMED = "deemed"  # deemed accepted after N business days of silence


class Project(Versioned, SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=10, unique=True, index=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=4000)
    sponsor: str = Field(default="", max_length=120)
    contractor: str = Field(default="", max_length=200)
    contract_number: str = Field(default="", max_length=60)
    start_date: date | None = None
    end_date: date | None = None
    timezone: str = Field(default="America/Los_Angeles", max_length=64)
    review_days: int = Field(default=10, sa_column_kwargs={"server_default": "10"})
    resubmit_days: int = Field(default=10, sa_column_kwargs={"server_default": "10"})
    deemed_policy: str = Field(default=DeemedPolicy.NEVER, max_length=16)
    deemed_days: int = Field(default=15, sa_column_kwargs={"server_default": "15"})
    # Official public holidays come from the `holidays` package ("US", "US-CA"); the project adds its own dates.
    holiday_calendar: str = Field(default="US", max_length=16)
    extra_holidays: list = Field(default_factory=list, sa_type=JSON)  # [{"date": "2026-12-24", "name": "..."}]
    slo_targets: dict = Field(default_factory=dict, sa_type=JSON)  # overrides of reports.scorecard.DEFAULT_TARGETS
    rag_thresholds: dict = Field(default_factory=dict, sa_type=JSON)  # overrides of reports.rag.THRESHOLDS
    archived: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()


class Membership(Versioned, SQLModel, table=True):
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    role: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()
