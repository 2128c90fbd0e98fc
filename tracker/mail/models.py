"""Outgoing mail (every message, sent or kept), and what each person wants to be told, how."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow
from tracker.core.models import Versioned, version_field


class Mode(StrEnum):
    IMMEDIATE = "immediate"  # a message of its own when it happens
    DIGEST = "digest"  # in the daily digest
    OFF = "off"


class MailStatus(StrEnum):
    QUEUED = "queued"  # written, being sent (or to be tried again)
    SENT = "sent"
    KEPT = "kept"  # no SMTP server configured: kept here, for the Outgoing mail page
    FAILED = "failed"  # refused for good, or failed every attempt


class OutgoingMail(SQLModel, table=True):
    """One message to one address, written once under (key, address) and sent at most once."""

    __tablename__ = "outgoing_mail"
    __table_args__ = (
        UniqueConstraint("key", "to_address"),
        Index("ix_outgoing_mail_created", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120)  # what it is about: "event:123:submitted", "digest:2026-12-07"
    kind: str = Field(max_length=40)  # the event kind (mail/kinds.py) or "digest"
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    project_id: int | None = Field(default=None, foreign_key="project.id")
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    text: str = Field(max_length=200_000)
    html: str = Field(max_length=400_000)
    message_id: str = Field(max_length=250)
    thread: str = Field(default="", max_length=250)  # the record's thread root: In-Reply-To and References
    attachments: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # [{name, sha256, type}]
    status: str = Field(default=MailStatus.QUEUED, max_length=12)
    attempts: int = 0
    error: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class MailPreference(SQLModel, table=True):
    """How one person wants one kind of event: immediately, in the digest, or not at all. A manager's project
    default is the row with user_id None for that project."""

    __tablename__ = "mail_preference"
    __table_args__ = (UniqueConstraint("user_id", "project_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    project_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    kind: str = Field(max_length=40)
    mode: str = Field(max_length=12)


class MailSettings(Versioned, SQLModel, table=True):
    """A person's digest: the hour it comes, in their profile's time zone (`mail.service.digest_zone`), and the last
    day it came."""

    __tablename__ = "mail_settings"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    digest_hour: int = 7
    last_digest_on: date | None = None
    version: int = version_field()


class ReportRecipient(Versioned, SQLModel, table=True):
    """Someone outside the project (the sponsor, the contractor's account executive) who receives each published
    status report by mail; the project's members receive it by their own preferences."""

    __tablename__ = "report_recipient"
    __table_args__ = (UniqueConstraint("project_id", "address"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    name: str = Field(default="", max_length=120)
    address: str = Field(max_length=254)
    created_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()


class Watch(SQLModel, table=True):
    """Someone watching a record (a deliverable, risk, issue or change request): they are told of its changes."""

    __tablename__ = "watch"
    __table_args__ = (UniqueConstraint("user_id", "record"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    record: str = Field(max_length=60, index=True)  # "deliverable-12", "risks-3": the record's thread name
    created_at: datetime = Field(default_factory=utcnow)


class ReportSchedule(Versioned, SQLModel, table=True):
    """A saved report mailed as XLSX every week or month to chosen members, each reading it as themselves."""

    __tablename__ = "report_schedule"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="saved_report.id", unique=True)
    every: str = Field(max_length=8)  # weekly | monthly
    recipient_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    last_sent_on: date | None = None  # the project's day it last went out
    version: int = version_field()
