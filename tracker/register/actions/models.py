"""Action items: attached to a risk's mitigation or contingency plan, to an issue, or to the minutes of a meeting."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow
from tracker.core.models import Versioned, version_field


class Plan(StrEnum):
    MITIGATION = "mitigation"
    CONTINGENCY = "contingency"
    ISSUE = "issue"
    MEETING = "meeting"


# Exactly one of its parents: a risk, an issue or a meeting
ONE_PARENT = (
    "(CASE WHEN risk_id IS NULL THEN 0 ELSE 1 END + CASE WHEN issue_id IS NULL THEN 0 ELSE 1 END"
    " + CASE WHEN meeting_id IS NULL THEN 0 ELSE 1 END) = 1"
)


class ActionItem(Versioned, SQLModel, table=True):
    __tablename__ = "action_item"
    __table_args__ = (
        CheckConstraint(ONE_PARENT, name="ck_action_item_one_parent"),
        Index("ix_action_item_owner_open", "owner_id", "done_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    risk_id: int | None = Field(default=None, foreign_key="risk.id", index=True)
    issue_id: int | None = Field(default=None, foreign_key="issue.id", index=True)
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", index=True)
    plan: str = Field(max_length=12)  # mitigation or contingency under a risk; issue under an issue; meeting
    description: str = Field(max_length=2000)
    owner_id: int | None = Field(default=None, foreign_key="app_user.id")
    due_date: date | None = None
    done_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()
