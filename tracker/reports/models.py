"""Status reports: a draft per project and period (the manager's narrative and RAG overrides), frozen into a
published snapshot that is never edited; a correction is the next version of the same period. And the service levels
the contractor reports itself, month by month, with the State's verification."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow
from tracker.core.models import Versioned, version_field


class ReportStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class StatusReport(Versioned, SQLModel, table=True):
    """While a draft, only the manager's input is stored and the figures are computed live; publishing stores the
    complete content as shown (content), after which the database itself refuses any change to the row."""

    __tablename__ = "status_report"
    __table_args__ = (
        UniqueConstraint("project_id", "period_start", "period_end", "number"),
        Index("ix_status_report_project_end", "project_id", "period_end"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    period_start: date
    period_end: date  # inclusive
    number: int = Field(default=1, sa_column_kwargs={"server_default": "1"})  # version 1, 2 (a correction), ...
    status: str = Field(default=ReportStatus.DRAFT, max_length=10)
    summary: str = Field(default="", max_length=8000)
    decisions: str = Field(default="", max_length=8000)  # key decisions needed
    next_steps: str = Field(default="", max_length=8000)
    overrides: dict = Field(default_factory=dict, sa_type=JSON)  # {area: {"rag": ..., "rationale": ...}}
    content: dict | None = Field(default=None, sa_type=JSON)  # the published snapshot; None while a draft
    rag: str = Field(default="", max_length=5)  # overall RAG as published, for lists without reading content
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    published_at: datetime | None = None
    published_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    version: int = version_field()


class FigureStatus(StrEnum):
    PENDING = "pending"  # awaiting the State's verification
    VERIFIED = "verified"
    DISPUTED = "disputed"


class ServiceMeasure(Versioned, SQLModel, table=True):
    """A service level the contractor reports itself each month (e.g. "System uptime %" at least 99.5)."""

    __tablename__ = "service_measure"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    name: str = Field(max_length=120)
    unit: str = Field(default="", max_length=40)
    target: Decimal = Field(sa_column=Column(Numeric(14, 4), nullable=False))
    higher_is_better: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()


class ServiceFigure(Versioned, SQLModel, table=True):
    """One month's figure of a measure, as the contractor reported it, and the State's verification of it. A correction
    rewrites value and note (revision + 1, back to pending); the audit trail keeps every earlier value."""

    __tablename__ = "service_figure"
    __table_args__ = (
        UniqueConstraint("measure_id", "month"),
        Index("ix_service_figure_project_month", "project_id", "month"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    measure_id: int = Field(foreign_key="service_measure.id")
    month: date  # its first day
    value: Decimal = Field(sa_column=Column(Numeric(14, 4), nullable=False))
    note: str = Field(default="", max_length=2000)  # the contractor's
    status: str = Field(default=FigureStatus.PENDING, max_length=10)
    revision: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    entered_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    entered_at: datetime = Field(default_factory=utcnow)
    decided_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = None
    decision_note: str = Field(default="", max_length=2000)  # the State's, on verifying or disputing
    version: int = version_field()
