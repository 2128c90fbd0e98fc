"""Projects and who may do what in them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow
from tracker.core.models import Versioned, version_field


class Role(StrEnum):
    MANAGER = "manager"
    STAFF = "staff"
    CONTRACTOR = "contractor"
    VIEWER = "viewer"


ROLE_LABELS = {
    Role.MANAGER: "Manager",
    Role.STAFF: "Staff",
    Role.CONTRACTOR: "Contractor",
    Role.VIEWER: "Viewer",
}


class DeemedPolicy(StrEnum):
    NEVER = "never"  # an overdue review escalates
    DEEMED = "deemed"  # deemed accepted after N business days of silence


class Project(Versioned, SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=10, unique=True, index=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=4000)
    sponsor: str = Field(default="", max_length=120)
    contractor: str = Field(default="", max_length=200)
    contract_number: str = Field(default="", max_length=60)
    # Whom decision letters are addressed to: the contractor's contact.
    contact_name: str = Field(default="", max_length=120, sa_column_kwargs={"server_default": ""})
    contact_title: str = Field(default="", max_length=120, sa_column_kwargs={"server_default": ""})
    contact_address: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})
    contact_email: str = Field(default="", max_length=254, sa_column_kwargs={"server_default": ""})
    start_date: date | None = None
    end_date: date | None = None
    timezone: str = Field(default="America/Los_Angeles", max_length=64)
    review_days: int = Field(default=10, sa_column_kwargs={"server_default": "10"})
    resubmit_days: int = Field(default=10, sa_column_kwargs={"server_default": "10"})
    deemed_policy: str = Field(default=DeemedPolicy.NEVER, max_length=16)
    deemed_days: int = Field(default=15, sa_column_kwargs={"server_default": "15"})
    # Official public holidays come from the `holidays` package ("US", "US-CA"); the project adds its own dates.
    holiday_calendar: str = Field(default="US", max_length=16)
    extra_holidays: list = Field(default_factory=list, sa_type=JSON)  # [{"date": "2026-12-24", "name": "..."}]
    slo_targets: dict = Field(default_factory=dict, sa_type=JSON)  # overrides of reports.scorecard.DEFAULT_TARGETS
    rag_thresholds: dict = Field(default_factory=dict, sa_type=JSON)  # overrides of reports.rag.THRESHOLDS
    service_credits: dict = Field(default_factory=dict, sa_type=JSON)  # reports.credits: {"rules": [...], "cap": ...}
    archived: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()


class Membership(Versioned, SQLModel, table=True):
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    role: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()


class Organisation(Versioned, SQLModel, table=True):
    """The organisation using the tracker (one row, id 1): its name and logo head every letter."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="", max_length=200)
    logo_sha256: str | None = Field(default=None, max_length=64)  # in the file store (core.files)
    logo_type: str = Field(default="", max_length=40)  # image/png or image/jpeg
    # As uploaded, for the page and the audit trail ("" for a logo set before they were kept).
    logo_name: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    logo_size: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()


class Invitation(Versioned, SQLModel, table=True):
    """Someone asked by e-mail to join a project in a role, who has no account yet: the link in the message lets them
    make one, once, before it expires. The link's token is an HMAC of `salt` under the server's key, so the message
    can be written after the commit (by the dispatcher) while the database alone (a backup, a leak) holds no working
    link, only the token's sha256 to find the invitation by."""

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    email: str = Field(max_length=254)
    full_name: str = Field(max_length=120)
    role: str = Field(max_length=16)
    salt: str = Field(max_length=32)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    invited_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime = Field(default_factory=utcnow)  # the last time it was sent: the link of that message counts
    expires_at: datetime
    accepted_at: datetime | None = None
    user_id: int | None = Field(default=None, foreign_key="app_user.id")  # the account made with it
    revoked_at: datetime | None = None
    version: int = version_field()
