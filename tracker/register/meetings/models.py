"""Meetings, their member attendees, and the deliverables they discussed."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow
from tracker.core.models import Versioned, version_field


class MeetingType(StrEnum):
    """What kind of meeting it was: a fixed list, so the weekly status meetings of every project can be found alike."""

    WEEKLY_STATUS = "weekly_status"
    STEERING = "steering"
    REVIEW = "review"
    OTHER = "other"


class Meeting(Versioned, SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("project_id", "code"),
        Index("ix_meeting_project_held_on", "project_id", "held_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    code: str = Field(max_length=20)
    title: str = Field(max_length=200)
    held_on: date
    meeting_type: str = Field(default=MeetingType.OTHER, max_length=20)
    # People who are not members (the sponsor's deputy, a vendor's engineer): names only, one a line, never mailed
    external_attendees: str = Field(default="", max_length=4000)
    agenda: str = Field(default="", max_length=8000)  # one item a line
    notes: str = Field(default="", max_length=20000)
    owner_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)  # who chairs it
    recorded_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()


class MeetingAttendee(SQLModel, table=True):
    """A member of the project who attended: the minutes are mailed to them."""

    __tablename__ = "meeting_attendee"

    meeting_id: int = Field(foreign_key="meeting.id", primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", primary_key=True, index=True)


class MeetingDeliverable(SQLModel, table=True):
    __tablename__ = "meeting_deliverable"

    meeting_id: int = Field(foreign_key="meeting.id", primary_key=True)
    deliverable_id: int = Field(foreign_key="deliverable.id", primary_key=True, index=True)
