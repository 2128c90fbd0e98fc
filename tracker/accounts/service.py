"""Account rules: password hashing, login throttling, API tokens, user administration."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import EmailStr, Field, field_validator
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, func, or_, select

from tracker.accounts.models import ApiToken, LoginThrottle, User
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.clock import utcnow
from tracker.core.errors import Forbidden, FormError, NotFound
from tracker.core.forms import Checkbox, Form, refuse_controls
from tracker.core.web import ALL_ZONES, DATE_FORMATS, DEFAULT_DATE_FORMAT
from tracker.settings import Settings

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("timing-equaliser")
MIN_PASSWORD = 10


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user as the request sees it: a plain value, not an ORM row."""

    id: int
    username: str
    full_name: str
    is_admin: bool
    via_token: bool = False
    timezone: str = ""  # how times and dates read for them (tracker.core.web)
    date_format: str = ""


def principal(user: User, via_token: bool = False) -> Principal:
    return Principal(user.id, user.username, user.full_name, user.is_admin, via_token, user.timezone, user.date_format)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


# --- login throttling -------------------------------------------------------------------------


@dataclass
class ThrottleLimits:
    max_failures: int
    window: timedelta
    lockout: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottleLimits:
        return cls(
            settings.login_max_failures,
            timedelta(seconds=settings.login_window_seconds),
            timedelta(seconds=settings.login_lockout_seconds),
        )


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt counted before its password is checked."""

    keys: list[str]  # the account's key first, then the address's
    wait: int = 0  # seconds until these keys may try again; 0 = this attempt may be checked
    locked: dict[str, datetime] = field(default_factory=dict)  # the lockouts this attempt started

    @property
    def refusal(self) -> str:
        """What a refused attempt is told (with Retry-After: wait), beside the password or the code."""
        return f"Too many failed sign-in attempts. Wait {self.wait} seconds, then try again."


def _throttle_rows(db: Session, keys: list[str], now: datetime) -> list[LoginThrottle]:
    """The keys' counters, created when missing and locked until the transaction ends (PostgreSQL; SQLite's writers
    take turns anyway), so parallel attempts count one after another and none is lost."""
    insert = (pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert)(LoginThrottle)
    db.execute(insert.values([{"key": k, "failures": 0, "window_start": now} for k in keys]).on_conflict_do_nothing())
    stmt = select(LoginThrottle).where(col(LoginThrottle.key).in_(keys)).order_by(LoginThrottle.key)
    return list(db.exec(stmt.with_for_update().execution_options(populate_existing=True)))


def count_attempt(db: Session, keys: list[str], limits: ThrottleLimits, now: datetime | None = None) -> Attempt:
    """Counts an attempt as a failure before its password is checked, or refuses it while a key is locked out. The
    count goes first so that of many parallel attempts only the allowed number is ever checked."""
    now = now or utcnow()
    rows = _throttle_rows(db, keys, now)
    waits = [(r.locked_until - now).total_seconds() for r in rows if r.locked_until and r.locked_until > now]
    if waits:
        return Attempt(keys, wait=int(max(waits) + 0.999))
    locked = {}
    for row in rows:
        if now - row.window_start > limits.window:
            row.failures, row.window_start = 0, now
        row.failures += 1
        if row.failures >= limits.max_failures:
            # Each failure past the limit doubles the wait, capped at the window.
            extra = row.failures - limits.max_failures
            row.locked_until = locked[row.key] = now + min(limits.lockout * (2**extra), limits.window)
    db.flush()
    return Attempt(keys, locked=locked)


def find_user(db: Session, username: str) -> User | None:
    return db.exec(select(User).where(func.lower(User.username) == username.strip().lower())).first()


def rehashed(user: User, password: str) -> str | None:
    """The password's hash under today's parameters, when the stored one was made with older ones; slow on
    purpose, so computed before any transaction begins (store_hash stores it)."""
    return hash_password(password) if _hasher.check_needs_rehash(user.password_hash) else None


def forgive(db: Session, attempt: Attempt, account: bool = True) -> None:
    """The attempt passed: the address gets back the failure counted in advance (and the lockout, if that count
    started one), and, with `account`, the account's failures are forgotten. A password that waits for its second
    factor forgives the address only, so a thief with the password cannot clear the account's count between guesses
    of the code."""
    for row in _throttle_rows(db, attempt.keys, utcnow()):
        if row.key == attempt.keys[0]:
            if account:
                db.delete(row)
            continue
        row.failures = max(row.failures - 1, 0)
        if row.key in attempt.locked and row.locked_until == attempt.locked[row.key]:
            row.locked_until = None


def store_hash(db: Session, user: User, new_hash: str | None) -> None:
    """The password's new hash (rehashed), as a plain UPDATE, not through the ORM: signing in must not bump the
    row's version and make an admin's open edit form of this user stale."""
    if new_hash is not None:
        db.execute(update(User).where(col(User.id) == user.id).values(password_hash=new_hash))


def end_sessions(db: Session, user_id: int, epoch: int) -> None:
    """Sign-out: every session cookie of this epoch stops working. A plain UPDATE, so the row's version (and an
    admin's open edit form) is untouched; only a session still current may end them."""
    db.execute(
        update(User)
        .where(col(User.id) == user_id, col(User.session_epoch) == epoch)
        .values(session_epoch=User.session_epoch + 1)
    )


def active_user(db: Session, user_id: int, epoch: int) -> User | None:
    user = db.get(User, user_id)
    if user is None or not user.is_active or user.session_epoch != epoch:
        return None
    return user


# --- API tokens ---------------------------------------------------------------------------------

TOKEN_PREFIX = "trk_"


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(db: Session, user: Principal, name: str) -> tuple[ApiToken, str]:
    """Returns the row and the secret; the secret is shown once and only its hash is kept."""
    if user.via_token:  # a leaked token must not be able to mint others that outlive its revocation
        raise Forbidden(detail="An API token cannot create API tokens: sign in and create it on your profile page.")
    name = name.strip()
    refuse_controls({"name": name})
    if not name:
        raise FormError({"name": "Give the token a name, e.g. the script that will use it."})
    if len(name) > 80:
        raise FormError({"name": "At most 80 characters."})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, prefix=secret[:10], token_hash=_token_hash(secret))
    db.add(token)
    db.flush()
    audit.record(db, actor_id=user.id, entity=token, label=name, action="create", changes={"name": [None, name]})
    return token, secret


def revoke_token(db: Session, user: Principal, token_id: int) -> ApiToken:
    token = db.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(detail="No such token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(db, actor_id=user.id, entity=token, label=token.name, action="revoke", changes={})
    return token


def tokens_of(db: Session, user_id: int) -> list[ApiToken]:
    return list(db.exec(select(ApiToken).where(ApiToken.user_id == user_id).order_by(col(ApiToken.id).desc())))


def user_for_token(db: Session, secret: str) -> User | None:
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = db.exec(select(ApiToken).where(ApiToken.token_hash == _token_hash(secret))).first()
    if token is None or token.revoked_at is not None:
        return None
    user = db.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now  # coarse, so API calls do not each cost a write
    return user


# --- user administration -----------------------------------------------------------------------

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$"


class UserForm(Form):
    username: str = Field(min_length=1, max_length=64, pattern=USERNAME_PATTERN)
    full_name: str = Field(min_length=1, max_length=120)
    email: EmailStr = Field(max_length=254)
    title: str = Field(default="", max_length=120)
    organization: str = Field(default="", max_length=120)
    is_admin: Checkbox = False
    is_active: Checkbox = True
    password: str = Field(default="", max_length=200)
    version: int | None = None

    @field_validator("password")
    @classmethod
    def _strong_enough(cls, v: str) -> str:
        if v and len(v) < MIN_PASSWORD:
            raise ValueError(f"Use at least {MIN_PASSWORD} characters")
        return v


USER_FIELDS = ("username", "full_name", "email", "title", "organization", "is_admin", "is_active")
# The user form's labels; the history (audit/history.py) reads a user's and their tokens' changes with them.
USER_LABELS = {
    "username": "Username",
    "full_name": "Full name",
    "email": "Email",
    "title": "Title",
    "organization": "Organization",
    "is_admin": "Admin",
    "is_active": "Active",
}
LABELS = USER_LABELS | {"password": "Password", "name": "Name"}
WORDS = {"password": {"(hidden)": "", "(reset)": "reset"}}  # never shown, only that it changed
history.register(
    nouns={"app_user": "user", "api_token": "API token"},
    verbs={"revoke": "revoked", "password": "changed the password of", "sign_out_all": "signed out every session of"},
    terms={"app_user": history.Terms(LABELS, WORDS), "api_token": history.Terms(LABELS)},
)
audit.name_people(User.id, User.full_name)


def list_users(db: Session, q: str = "", limit: int = 500) -> list[User]:
    stmt = select(User).order_by(func.lower(User.full_name))
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(User.username).like(like),
                func.lower(User.full_name).like(like),
                func.lower(User.email).like(like),
                func.lower(User.organization).like(like),
            )
        )
    return list(db.exec(stmt.limit(limit)))


def get_user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(detail="No such user.")
    return user


def _check_unique_username(db: Session, username: str, exclude_id: int | None = None) -> None:
    stmt = select(User.id).where(func.lower(User.username) == username.lower())
    if exclude_id:
        stmt = stmt.where(User.id != exclude_id)
    if db.exec(stmt).first() is not None:
        raise FormError({"username": "That username is taken."})


def create_user(db: Session, actor: Principal | None, form: UserForm) -> User:
    if not form.password:
        raise FormError({"password": f"Set an initial password of at least {MIN_PASSWORD} characters."})
    _check_unique_username(db, form.username)
    user = User(**form.model_dump(include=set(USER_FIELDS)), password_hash=hash_password(form.password))
    db.add(user)
    db.flush()
    audit.record(
        db,
        actor_id=actor.id if actor else None,
        entity=user,
        label=user.username,
        action="create",
        changes={f: [None, getattr(user, f)] for f in USER_FIELDS},
    )
    return user


def update_user(db: Session, actor: Principal, user: User, form: UserForm) -> User:
    user.check_seen(form.version, {f: getattr(user, f) for f in USER_FIELDS})
    _check_unique_username(db, form.username, exclude_id=user.id)
    if user.id == actor.id and (not form.is_admin or not form.is_active):
        raise FormError({"is_admin": "You cannot remove your own admin rights or deactivate yourself."})
    before = audit.snapshot(user, USER_FIELDS)
    for f in USER_FIELDS:
        setattr(user, f, getattr(form, f))
    changes = audit.diff(before, audit.snapshot(user, USER_FIELDS))
    if form.password:
        user.password_hash = hash_password(form.password)
        user.session_epoch += 1
        changes["password"] = ["(hidden)", "(reset)"]
    if changes:
        audit.record(db, actor_id=actor.id, entity=user, label=user.username, action="update", changes=changes)
    if not form.is_active and "is_active" in changes:
        _end_access(db, actor, user)
    db.flush()
    return user


def _end_access(db: Session, actor: Principal, user: User) -> None:
    """Deactivation ends everything the person holds at once: every session cookie (the epoch moves on; auth checks it
    on each request) and every API token, revoked for good, so reactivating the account revives none of them."""
    user.session_epoch += 1
    now = utcnow()
    for token in db.exec(select(ApiToken).where(ApiToken.user_id == user.id, col(ApiToken.revoked_at).is_(None))):
        token.revoked_at = now
        audit.record(db, actor_id=actor.id, entity=token, label=token.name, action="revoke", changes={})


class PasswordForm(Form):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=MIN_PASSWORD, max_length=200)
    confirm_password: str = Field(min_length=1, max_length=200)


class PreferencesForm(Form):
    """What a person sets about themselves: the title letters sign with, and how times and dates read for them."""

    title: str = Field(default="", max_length=120)
    timezone: str = Field(default="", max_length=64)
    date_format: str = DEFAULT_DATE_FORMAT

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        if v and v not in ALL_ZONES:
            raise ValueError("Choose a time zone from the list: an IANA name such as America/Los_Angeles")
        return v

    @field_validator("date_format")
    @classmethod
    def _known_format(cls, v: str) -> str:
        if v not in DATE_FORMATS:
            raise ValueError("Choose one of the date formats offered")
        return v


def save_preferences(db: Session, user: User, form: PreferencesForm) -> None:
    user.title, user.timezone, user.date_format = form.title.strip(), form.timezone, form.date_format
    db.add(user)


def change_password(db: Session, user: User, form: PasswordForm) -> None:
    if not verify_password(user, form.current_password):
        raise FormError({"current_password": "That is not your current password."})
    if form.new_password != form.confirm_password:
        raise FormError({"confirm_password": "The two new passwords differ."})
    if form.new_password == form.current_password:
        raise FormError({"new_password": "Choose a password different from the current one."})
    user.password_hash = hash_password(form.new_password)
    user.session_epoch += 1  # signs out every other browser
    audit.record(db, actor_id=user.id, entity=user, label=user.username, action="password", changes={})
    db.flush()


def sign_out_everywhere(db: Session, user: User) -> None:
    user.session_epoch += 1
    audit.record(db, actor_id=user.id, entity=user, label=user.username, action="sign_out_all", changes={})
    db.flush()
