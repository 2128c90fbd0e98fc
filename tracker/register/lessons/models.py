"""Lessons learned and the deliverables each concerns."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow
from tracker.core.models import Versioned, version_field


class LessonCategory(StrEnum):
    """What a lesson is about: a fixed list, so lessons of every project can be filtered alike."""

    SCOPE = "scope"
    SCHEDULE = "schedule"
    COST = "cost"
    QUALITY = "quality"
    CONTRACTOR_MANAGEMENT = "contractor_management"
    REQUIREMENTS = "requirements"
    TESTING = "testing"
    GOVERNANCE = "governance"
    TECHNICAL = "technical"
    OTHER = "other"


class Lesson(Versioned, SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("project_id", "code"),
        Index("ix_lesson_project_category", "project_id", "category"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    code: str = Field(max_length=20)
    title: str = Field(max_length=200)  # what happened, in one line
    description: str = Field(default="", max_length=8000)  # what happened
    impact: str = Field(default="", max_length=4000)  # what it did to the project
    recommendation: str = Field(default="", max_length=4000)  # what to do next time
    category: str = Field(default=LessonCategory.OTHER, max_length=24)
    phase: str = Field(default="", max_length=100)  # the project's phase it concerns, in its own words: "UAT"
    owner_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)  # who carries it forward
    recorded_on: date
    recorded_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()


class LessonDeliverable(SQLModel, table=True):
    __tablename__ = "lesson_deliverable"

    lesson_id: int = Field(foreign_key="lesson.id", primary_key=True)
    deliverable_id: int = Field(foreign_key="deliverable.id", primary_key=True, index=True)
