"""User accounts, API tokens, login-failure counters, multi-factor authentication and the sign-in log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
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
    # How times and dates read for this person (tracker.core.web): an IANA zone ("" = none chosen) and a format key.
    timezone: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    date_format: str = Field(default="d_mon_y", max_length=16, sa_column_kwargs={"server_default": "d_mon_y"})
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


class UserMfa(SQLModel, table=True):
    """A person's TOTP authenticator: the secret (Fernet-encrypted with a key derived from TRACKER_SECRET_KEY),
    confirmed once a code from it was entered; until then enrolment is only started."""

    __tablename__ = "user_mfa"

    user_id: int = Field(primary_key=True, foreign_key="app_user.id")
    secret: str = Field(max_length=255)
    confirmed_at: datetime | None = None
    last_step: int | None = None  # the newest time step whose code was accepted: it and older are refused
    created_at: datetime = Field(default_factory=utcnow)


class RecoveryCode(SQLModel, table=True):
    """A one-time recovery code: only its keyed hash is kept (HMAC-SHA256 with a key derived from the secret key)."""

    __tablename__ = "recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    used_at: datetime | None = None


class SignIn(SQLModel, table=True):
    """One sign-in attempt, kept for the admins' sign-in log (TRACKER_SIGNIN_RETENTION_DAYS, then deleted)."""

    __tablename__ = "sign_in"
    __table_args__ = (
        Index("ix_sign_in_at", "at"),
        Index("ix_sign_in_username_at", "username", "at"),
        Index("ix_sign_in_outcome_at", "outcome", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    username: str = Field(max_length=64)  # as typed, lower case: an unknown user's too
    address: str = Field(max_length=64)
    user_agent: str = Field(default="", max_length=300)
    method: str = Field(max_length=20)  # accounts.signin.Method
    outcome: str = Field(max_length=20)  # accounts.signin.Outcome
