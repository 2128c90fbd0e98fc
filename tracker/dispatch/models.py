"""Where each handler has read the audit trail to (or when each job last ran), and every effect recorded once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow


class DispatchCursor(SQLModel, table=True):
    """One handler's place in the audit trail, or one job's last run; and the process that holds it for now, so
    that of several processes only one runs a handler or a job at a time."""

    __tablename__ = "dispatch_cursor"

    name: str = Field(primary_key=True, max_length=80)  # the handler's or the job's
    last_event_id: int = 0  # a handler: every event up to here has its effects recorded
    ran_at: datetime | None = None  # a job: when its last run began
    holder: str | None = Field(default=None, max_length=120)  # the process running it now ...
    held_until: datetime | None = None  # ... until then at most: a process that stopped lets go of it
    last_error: str = Field(default="", max_length=2000)


class EffectStatus(StrEnum):
    PENDING = "pending"  # to run once due_at has come (again, after a failure)
    DONE = "done"
    FAILED = "failed"  # failed MAX_ATTEMPTS times: left for a person to look at


class DispatchEffect(SQLModel, table=True):
    """One effect of one event for one recipient of one handler (a letter to a person, a call to a webhook):
    recorded once under its unique key, whichever process saw the event, and done once."""

    __tablename__ = "dispatch_effect"
    __table_args__ = (
        UniqueConstraint("event_id", "handler", "recipient"),
        Index("ix_dispatch_effect_status_due", "status", "due_at"),  # the effects due to run
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="audit_event.id")
    handler: str = Field(max_length=80)
    recipient: str = Field(default="", max_length=200)
    status: str = Field(default=EffectStatus.PENDING, max_length=20)
    attempts: int = 0
    due_at: datetime = Field(default_factory=utcnow)  # pushed on by a claim (its lease) and by a failure (its retry)
    last_error: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None
