"""Settings, read once from the environment (TRACKER_ prefix; DATABASE_URL also accepted)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-secret-do-not-use-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRACKER_", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    database_url: str = Field(
        default=f"sqlite:///{ROOT / 'var' / 'tracker.db'}",
        validation_alias=AliasChoices("DATABASE_URL", "TRACKER_DATABASE_URL"),
    )
    secret_key: str = DEV_SECRET
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    session_max_age: int = 8 * 3600  # seconds; absolute lifetime of a login
    secure_cookies: bool | None = None  # cookies over HTTPS only; unset: true in prod (false there: plain-HTTP dev)
    upload_dir: Path = ROOT / "var" / "uploads"
    max_upload_mb: int = 50
    login_max_failures: int = 5  # per account and per address, inside the window
    login_window_seconds: int = 15 * 60
    login_lockout_seconds: int = 60
    mfa_pending_seconds: int = 10 * 60  # how long a right password waits for its second factor (or enrolment)
    signin_retention_days: int = 365  # the sign-in log's rows are deleted after this (the audit trail keeps its own)
    dispatch_seconds: float = 5  # how often `tracker serve` runs the dispatcher (side effects, clocks); 0: never
    base_url: str = "http://127.0.0.1:8000"  # where links in mail, feeds and webhooks point
    smtp_url: str = ""  # smtp://user:pass@host:587, smtp+starttls://…, smtps://…; empty: mail is kept, not sent
    mail_from: str = "Tracker <tracker@localhost>"
    webhooks_allow_private: bool = False  # let webhooks call loopback, link-local and private addresses (tests, dev)
    webhook_timeout_seconds: float = 10
    # One OpenID Connect provider from the environment (more on /admin/sign-in): README "Sign-in".
    oidc_issuer: str = ""  # e.g. https://login.example.gov/realms/staff (discovery: .well-known/openid-configuration)
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_name: str = "Single sign-on"  # the button reads "Sign in with <name>"
    oidc_allowed_domains: str = ""  # e-mail domains that may get an account at first sign-in, comma-separated
    oidc_groups_claim: str = "groups"  # the ID token claim that lists the person's groups
    oidc_scopes: str = "openid email profile"  # what sign-in asks the provider for, space-separated (openid first)
    debug: bool = False
    bench_routes: bool = False  # serve /bench/minimal, the load benchmark's ceiling page (bench/load.py sets it)

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.env == "prod" and (self.secret_key == DEV_SECRET or len(self.secret_key) < 32):
            raise ValueError("TRACKER_SECRET_KEY must be set to a random string of 32+ characters in prod")
        return self

    @model_validator(mode="after")
    def _secure_cookies_in_prod(self) -> Settings:
        if self.secure_cookies is None:
            self.secure_cookies = self.env == "prod"
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def derived_key(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose (session cookie, CSRF), so one secret serves all."""
        return hashlib.sha256(f"{purpose}:{self.secret_key}".encode()).digest()


@lru_cache
def get_settings() -> Settings:
    return Settings()
