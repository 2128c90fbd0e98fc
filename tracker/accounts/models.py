"""User accounts, API tokens and login-failure counters."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow
from tracker.core.models import Versioned, version_field


class User(Versioned, SQLModel, table=True):
    __tablename__ = "app_user"  # "user" is reserved on PostgreSQL

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    full_name: str = Field(max_length=120)
    email: str = Field(max_length=254)
    title: str = Field(default="", max_length=120)
    organization: str = Field(default="", max_length=120)
    password_hash: str = Field(max_length=255)
    is_admin: bool = Field(default=False)
    is_active: bool = Field(default=True)
    # Bumped on password change / "sign out everywhere": every older session cookie stops working.
    session_epoch: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    version: int = version_field()


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    name: str = Field(max_length=80)
    prefix: str = Field(max_length=12)  # first characters, shown so users can tell tokens apart
    token_hash: str = Field(max_length=64, unique=True, index=True)  # sha256 hex of the secret
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class LoginThrottle(SQLModel, table=True):
    """Failed logins per key ("user:<name>" or "ip:<addr>") inside a sliding window."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=200)
    failures: int = 0
    window_start: datetime = Field(default_factory=utcnow)
    locked_until: datetime | None = None
