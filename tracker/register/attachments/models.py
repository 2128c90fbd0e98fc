"""Files attached to register records: each names its record by the kinds table's entity (the record's table) and
id, and its bytes by sha256 in the same content-addressed store as the deliverables' submissions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow


class Attachment(SQLModel, table=True):
    # A record's attachments are read together, by its entity and id (one query per page).
    __table_args__ = (Index("ix_attachment_entity_record", "entity", "record_id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    entity: str = Field(max_length=60)  # the kind's table: "risk", "issue", "change_request"
    record_id: int
    original_name: str = Field(max_length=255)
    sha256: str = Field(max_length=64)  # content address in the file store
    size: int
    content_type: str = Field(default="application/octet-stream", max_length=120)
    uploaded_by_id: int = Field(foreign_key="app_user.id")
    uploaded_at: datetime = Field(default_factory=utcnow)
