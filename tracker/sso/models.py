"""Single sign-on: OpenID providers, the identities they vouch for, group mappings, and the sign-in policy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow
from tracker.core.models import Versioned, version_field

ENV_KEY = "default"  # the provider set by TRACKER_OIDC_* (its row mirrors the environment; see providers.py)


class OidcProvider(Versioned, SQLModel, table=True):
    __tablename__ = "oidc_provider"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40, unique=True)  # in its addresses: /login/oidc/<key>/callback
    name: str = Field(max_length=80)  # "Sign in with <name>"
    issuer: str = Field(max_length=500)
    client_id: str = Field(max_length=255)
    client_secret: str = Field(default="", max_length=500)  # the environment's stays there: "" in its row
    allowed_domains: str = Field(default="", max_length=2000)  # lower case, one space between
    groups_claim: str = Field(default="groups", max_length=100)
    # What sign-in asks the provider for, space-separated: openid and whatever else it needs (groups, offline_access…)
    scopes: str = Field(
        default="openid email profile", max_length=500, sa_column_kwargs={"server_default": "openid email profile"}
    )
    enabled: bool = True
    from_env: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    version: int = version_field()


class OidcIdentity(SQLModel, table=True):
    """A person as a provider knows them (its `sub`): once linked, later sign-ins match by it, never by e-mail."""

    __tablename__ = "oidc_identity"
    __table_args__ = (UniqueConstraint("provider_id", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(foreign_key="oidc_provider.id")
    subject: str = Field(max_length=255)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None


class GroupMapping(SQLModel, table=True):
    """A provider's group grants admin (no project) or a role in one project, at each sign-in."""

    __tablename__ = "oidc_group_mapping"

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(foreign_key="oidc_provider.id", index=True)
    group_name: str = Field(max_length=200)
    project_id: int | None = Field(default=None, foreign_key="project.id")
    role: str | None = Field(default=None, max_length=16)  # a projects Role; None with no project: admin
    created_at: datetime = Field(default_factory=utcnow)


class SignInPolicy(Versioned, SQLModel, table=True):
    """One row (id 1): whether passwords still sign people in, the admins who always may (break-glass), and who must
    add a second factor to their password."""

    __tablename__ = "sign_in_policy"

    id: int | None = Field(default=None, primary_key=True)
    local_passwords: bool = True
    break_glass_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # user ids
    # Who must add a second factor to their password (accounts.mfa.Required): nobody, admins or everyone.
    mfa_required: str = Field(default="nobody", max_length=16, sa_column_kwargs={"server_default": "nobody"})
    version: int = version_field()
