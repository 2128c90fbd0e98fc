"""A webhook (a URL subscribed to some of a project's event kinds, with its signing secret) and the log of each
attempt to deliver an event to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow
from tracker.core.models import Versioned, version_field


class Webhook(Versioned, SQLModel, table=True):
    __tablename__ = "webhook"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    url: str = Field(max_length=2000)
    events: list = Field(default_factory=list, sa_type=JSON)  # public event names (webhooks.kinds.KINDS)
    description: str = Field(default="", max_length=200)
    # Needed in clear to sign each delivery (HMAC), so it cannot be hashed; shown once, at creation or rotation.
    secret: str = Field(max_length=100)
    active: bool = True
    consecutive_failures: int = 0  # attempts failed since the last success; at kinds.DISABLE_AFTER it is turned off
    disabled_at: datetime | None = None  # turned off by the failures (not by a person)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()


class WebhookDelivery(SQLModel, table=True):
    """One attempt to deliver one event to one webhook: by the dispatcher, or again by hand."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_webhook_at", "webhook_id", "at"),)  # a webhook's log, newest first

    id: int | None = Field(default=None, primary_key=True)
    webhook_id: int = Field(foreign_key="webhook.id")
    event_id: int = Field(foreign_key="audit_event.id")
    event_type: str = Field(max_length=60)  # the public name it was sent as
    message_id: str = Field(max_length=80)  # the webhook-id header: the same for every attempt at one event
    redelivery: bool = False  # asked for by hand
    ok: bool = False
    status_code: int | None = None
    response: str = Field(default="", max_length=500)  # the start of the receiver's answer
    error: str = Field(default="", max_length=500)
    duration_ms: int = 0
    at: datetime = Field(default_factory=utcnow)
