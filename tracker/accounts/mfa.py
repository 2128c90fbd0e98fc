"""Multi-factor authentication for local accounts: a TOTP authenticator per person (pyotp, always on the app's clock),
one-time recovery codes, and the site's rule of who must use them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import pyotp
import segno
from cryptography.fernet import Fernet
from sqlalchemy import delete, update
from sqlmodel import Session, col, func, or_, select

from tracker.accounts.models import RecoveryCode, User, UserMfa
from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.clock import utcnow
from tracker.core.errors import Conflict, FormError
from tracker.settings import Settings

ISSUER = "Tracker"  # how authenticator apps name the account
RECOVERY_CODES = 10
DRIFT_STEPS = 1  # a code of the 30-second step before or after now passes too: phones' clocks drift
TOTP_CODE = re.compile(r"\d{6}")


class Required(StrEnum):
    NOBODY = "nobody"
    ADMINS = "admins"
    EVERYONE = "everyone"


REQUIRED_WORDS = {
    Required.NOBODY: "Nobody: each person chooses",
    Required.ADMINS: "Admins",
    Required.EVERYONE: "Everyone with a password",
}

history.register(
    verbs={
        "mfa_enrol": "turned on multi-factor authentication for",
        "mfa_disable": "turned off multi-factor authentication for",
        "mfa_codes": "made new recovery codes for",
        "mfa_recovery": "used a recovery code of",
    },
    terms={"mfa_recovery": history.Terms({"recovery_codes_left": "Recovery codes left"})},
)


@dataclass(frozen=True)
class Keys:
    """The keys derived from TRACKER_SECRET_KEY: one encrypts the TOTP secrets (Fernet), one keys the recovery codes'
    hashes. A copy of the database alone therefore holds no usable secret; changing the secret key makes enrolled
    authenticators unreadable (an admin turns MFA off for each person, who enrols again)."""

    secrets: Fernet
    codes: bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> Keys:
        return cls(
            Fernet(base64.urlsafe_b64encode(settings.derived_key("totp-secret"))), settings.derived_key("recovery")
        )


# --- the rule -------------------------------------------------------------------------------------------------


def must_enrol(rule: str, user: User) -> bool:
    """Whether the sign-in policy's rule (stored with the rest of the policy, sso.models.SignInPolicy) requires a
    second factor of this person's password."""
    return rule == Required.EVERYONE or (rule == Required.ADMINS and user.is_admin)


# --- the authenticator --------------------------------------------------------------------------------------


def authenticator(db: Session, user_id: int) -> UserMfa | None:
    return db.get(UserMfa, user_id)


def enrolled(db: Session, user_id: int) -> bool:
    row = authenticator(db, user_id)
    return row is not None and row.confirmed_at is not None


def start(db: Session, user: User, keys: Keys) -> UserMfa:
    """A new secret waiting for its first code; starting again replaces one not yet confirmed."""
    row = authenticator(db, user.id)
    if row is not None and row.confirmed_at is not None:
        raise Conflict(detail="Multi-factor authentication is already on. Turn it off first to set up another device.")
    secret = keys.secrets.encrypt(pyotp.random_base32().encode()).decode()
    if row is None:
        row = UserMfa(user_id=user.id, secret=secret)
    row.secret, row.last_step, row.created_at = secret, None, utcnow()
    db.add(row)
    db.flush()
    return row


@dataclass(frozen=True)
class Setup:
    """What a person needs to add the account to their app: the secret as text and its QR code."""

    secret: str  # in groups of four, for typing
    qr: str  # an SVG data: URI of the otpauth:// address


def setup(row: UserMfa, user: User, keys: Keys) -> Setup:
    secret = _secret(row, keys)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=4, dark="#000000", light="#ffffff")
    return Setup(" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)), qr)


def _secret(row: UserMfa, keys: Keys) -> str:
    return keys.secrets.decrypt(row.secret.encode()).decode()


def _step_of(row: UserMfa, code: str, keys: Keys, now: datetime) -> int | None:
    """The time step (of those around now) whose code this is, or None."""
    totp = pyotp.TOTP(_secret(row, keys))
    current = totp.timecode(now)  # the app's clock, never the machine's
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_step(db: Session, user_id: int, step: int) -> bool:
    """Takes the step for this person, once: a conditional UPDATE, so two requests with one code cannot both pass,
    and a code of a step no newer than the last one accepted is refused."""
    taken = db.execute(
        update(UserMfa)
        .where(col(UserMfa.user_id) == user_id, or_(col(UserMfa.last_step).is_(None), col(UserMfa.last_step) < step))
        .values(last_step=step)
    )
    return taken.rowcount == 1


class Check(StrEnum):
    TOTP = "totp"
    RECOVERY = "recovery"
    WRONG = "wrong"
    REUSED = "reused"


WRONG_CODE = "That code is not right. Enter the 6-digit code your app shows now, or one of your recovery codes."
REUSED_CODE = "That code has been used already. Wait for your app to show the next one, then enter it."


def check_totp(db: Session, user: User, code: str, keys: Keys) -> Check:
    """A current code of the person's confirmed authenticator, each accepted once."""
    row, code = authenticator(db, user.id), plain(code)
    if row is None or row.confirmed_at is None or not TOTP_CODE.fullmatch(code):
        return Check.WRONG
    step = _step_of(row, code, keys, utcnow())
    if step is None:
        return Check.WRONG
    return Check.TOTP if _use_step(db, user.id, step) else Check.REUSED


def plain(code: str) -> str:
    """A code as typed, without the spaces and dashes people put in (or copy with) it."""
    return re.sub(r"[\s-]", "", code).lower()


def is_totp(code: str) -> bool:
    """Six digits: an authenticator's code (a recovery code has letters and is longer)."""
    return TOTP_CODE.fullmatch(plain(code)) is not None


def check(db: Session, user: User, code: str, keys: Keys) -> Check:
    """A sign-in's second factor: a code from the authenticator or an unused recovery code (then used up)."""
    code = plain(code)
    if TOTP_CODE.fullmatch(code):
        return check_totp(db, user, code, keys)
    if not enrolled(db, user.id):
        return Check.WRONG
    used = db.execute(
        update(RecoveryCode)
        .where(
            col(RecoveryCode.user_id) == user.id,
            col(RecoveryCode.code_hash) == _code_hash(code, keys),
            col(RecoveryCode.used_at).is_(None),
        )
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:
        return Check.WRONG
    left = recovery_codes_left(db, user.id)
    audit.record(
        db,
        actor_id=user.id,
        entity=user,
        label=user.username,
        action="mfa_recovery",
        changes={"recovery_codes_left": [left + 1, left]},
    )
    return Check.RECOVERY


def confirm(db: Session, user: User, code: str, keys: Keys) -> list[str]:
    """Enrolment ends with a current code from the new authenticator; it gives the recovery codes, shown once."""
    row = authenticator(db, user.id)
    if row is None or row.confirmed_at is not None:
        raise Conflict(detail="There is no set-up waiting for a code: start again from your profile.")
    code = plain(code)
    step = _step_of(row, code, keys, utcnow()) if TOTP_CODE.fullmatch(code) else None
    if step is None:
        raise FormError({"code": "That code does not match. Enter the 6-digit code your app shows now."})
    row.confirmed_at, row.last_step = utcnow(), step
    db.add(row)
    codes = _new_codes(db, user.id, keys)
    audit.record(db, actor_id=user.id, entity=user, label=user.username, action="mfa_enrol", changes={})
    return codes


def regenerate_codes(db: Session, user: User, keys: Keys) -> list[str]:
    if not enrolled(db, user.id):
        raise Conflict(detail="Multi-factor authentication is off: there are no recovery codes to replace.")
    codes = _new_codes(db, user.id, keys)
    audit.record(db, actor_id=user.id, entity=user, label=user.username, action="mfa_codes", changes={})
    return codes


def disable(db: Session, actor: Principal, user: User) -> None:
    """Off, by the person (after proving it is them) or by an admin (a lost phone): the secret and codes are gone."""
    row = authenticator(db, user.id)
    if row is None:
        return
    confirmed = row.confirmed_at is not None
    db.delete(row)
    db.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    if confirmed:
        audit.record(db, actor_id=actor.id, entity=user, label=user.username, action="mfa_disable", changes={})
    db.flush()


def recovery_codes_left(db: Session, user_id: int) -> int:
    return db.exec(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, col(RecoveryCode.used_at).is_(None))
    ).one()


def _code_hash(code: str, keys: Keys) -> str:
    return hmac.new(keys.codes, code.encode(), hashlib.sha256).hexdigest()


def _new_codes(db: Session, user_id: int, keys: Keys) -> list[str]:
    """Fresh codes replacing any earlier ones: 80 random bits each, shown as xxxx-xxxx-xxxx-xxxx."""
    db.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    codes = [base64.b32encode(secrets.token_bytes(10)).decode().lower() for _ in range(RECOVERY_CODES)]
    db.add_all(RecoveryCode(user_id=user_id, code_hash=_code_hash(c, keys)) for c in codes)
    db.flush()
    return ["-".join(c[i : i + 4] for i in range(0, 16, 4)) for c in codes]
