"""Action items: attached to a risk's mitigation or contingency plan, or to an issue."""

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


class ActionItem(Versioned, SQLModel, table=True):
    __tablename__ = "action_item"
    __table_args__ = (
        CheckConstraint("(risk_id IS NULL) <> (issue_id IS NULL)", name="ck_action_item_one_parent"),
        Index("ix_action_item_owner_open", "owner_id", "done_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    risk_id: int | None = Field(default=None, foreign_key="risk.id", index=True)
    issue_id: int | None = Field(default=None, foreign_key="issue.id", index=True)
    plan: str = Field(max_length=12)  # mitigation or contingency under a risk; issue under an issue
    description: str = Field(max_length=2000)
    owner_id: int | None = Field(default=None, foreign_key="app_user.id")
    due_date: date | None = None
    done_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()
