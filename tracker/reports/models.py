"""Status reports: a draft per project and period (the manager's narrative and RAG overrides), frozen into a
published snapshot that is never edited; a correction is the next version of the same period."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Index, UniqueConstraint
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
