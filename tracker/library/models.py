"""Saved reports: a named query over one source of a project, stored as a validated definition (never SQL)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow
from tracker.core.models import Versioned, version_field


class SavedReport(Versioned, SQLModel, table=True):
    __tablename__ = "saved_report"
    __table_args__ = (Index("ix_saved_report_project_source", "project_id", "source"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    owner_id: int = Field(foreign_key="app_user.id", index=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    shared: bool = False  # False: only its owner sees it
    # Kept beside the definition so the library can list and guard by source even when the definition has gone
    # stale (refers to a field that no longer exists).
    source: str = Field(max_length=16)
    definition: dict = Field(default_factory=dict, sa_type=JSON)  # library.sources.Definition as JSON
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()
