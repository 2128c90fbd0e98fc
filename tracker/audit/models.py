"""The audit event: who changed what, when, from what to what. Never updated or deleted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_project_at", "project_id", "at"),
        Index("ix_audit_event_entity", "entity_type", "entity_id"),
        Index("ix_audit_event_project_label_at", "project_id", "entity_label", "at"),  # a record's timeline
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    project_id: int | None = Field(default=None, foreign_key="project.id")
    entity_type: str = Field(max_length=40)
    entity_id: int
    entity_label: str = Field(default="", max_length=200)
    action: str = Field(max_length=40)  # create, update, delete, transition, login, ...
    changes: dict = Field(default_factory=dict, sa_type=JSON)  # {"field": [from, to]}
