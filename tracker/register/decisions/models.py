"""Decisions of the project's decision log and the deliverables each concerns. (`Decision` is a deliverable's
acceptance decision, deliverables/models.py: these are the decisions the project logs itself.)"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow
from tracker.core.models import Versioned, version_field


class LoggedDecision(Versioned, SQLModel, table=True):
    __tablename__ = "logged_decision"
    __table_args__ = (
        UniqueConstraint("project_id", "code"),
        Index("ix_logged_decision_project_decided_on", "project_id", "decided_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    code: str = Field(max_length=20)
    title: str = Field(max_length=200)  # the decision, in one line
    context: str = Field(default="", max_length=8000)  # why a decision was needed
    options: str = Field(default="", max_length=4000)  # the options considered
    decided_by: str = Field(default="", max_length=200)  # a person or a body, e.g. "Steering committee"
    decided_by_id: int | None = Field(default=None, foreign_key="app_user.id")  # the member who decided, if one did
    decided_on: date
    # where it came from: the issue, risk or change request it settles
    issue_id: int | None = Field(default=None, foreign_key="issue.id", index=True)
    risk_id: int | None = Field(default=None, foreign_key="risk.id", index=True)
    change_id: int | None = Field(default=None, foreign_key="change_request.id", index=True)
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", index=True)  # recorded in its minutes
    recorded_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()


class LoggedDecisionDeliverable(SQLModel, table=True):
    __tablename__ = "logged_decision_deliverable"

    decision_id: int = Field(foreign_key="logged_decision.id", primary_key=True)
    deliverable_id: int = Field(foreign_key="deliverable.id", primary_key=True, index=True)
