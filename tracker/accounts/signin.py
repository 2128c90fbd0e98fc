"""Signing in: the one last step of every way in (`complete`), the password step's wait for a second factor, and
the sign-in log with its audit events."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from litestar import Request
from sqlalchemy import update
from sqlmodel import Session, col

from tracker.accounts import service
from tracker.accounts.models import SignIn, User
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.clock import utcnow
from tracker.core.text import strip_controls


class Method(StrEnum):
    PASSWORD = "password"
    PASSWORD_MFA = "password_mfa"
    RECOVERY_CODE = "recovery_code"
    OIDC = "oidc"
    INVITATION = "invitation"  # the account just made from an invitation's link, with the password chosen there


class Outcome(StrEnum):
    SIGNED_IN = "signed_in"
    WRONG_PASSWORD = "wrong_password"
    UNKNOWN_USER = "unknown_user"
    DEACTIVATED = "deactivated"
    LOCKED_OUT = "locked_out"
    WRONG_CODE = "wrong_code"
    REUSED_CODE = "reused_code"
    PASSWORDS_OFF = "passwords_off"


METHOD_WORDS = {
    Method.PASSWORD: "Password",
    Method.PASSWORD_MFA: "Password and authenticator code",
    Method.RECOVERY_CODE: "Password and recovery code",
    Method.OIDC: "Single sign-on (OIDC)",
    Method.INVITATION: "Invitation link and a new password",
}
OUTCOME_WORDS = {
    Outcome.SIGNED_IN: "Signed in",
    Outcome.WRONG_PASSWORD: "Wrong password",
    Outcome.UNKNOWN_USER: "Unknown user",
    Outcome.DEACTIVATED: "Account deactivated",
    Outcome.LOCKED_OUT: "Locked out",
    Outcome.WRONG_CODE: "Wrong code",
    Outcome.REUSED_CODE: "Code used already",
    Outcome.PASSWORDS_OFF: "Password sign-in turned off",
}
# Recorded on the sign-in's log row: "Maria Rivera signed in to account mrivera", "System refused a sign-in to
# account mrivera · Reason: Wrong code"; a sign-out on the person ("… signed out user mrivera").
history.register(
    nouns={"sign_in": "account"},
    verbs={"sign_in": "signed in to", "sign_in_failed": "refused a sign-in to", "sign_out": "signed out"},
    terms={
        "sign_in": history.Terms(
            {"method": "How", "outcome": "Reason", "address": "From", "provider": "Provider"},
            {"method": METHOD_WORDS, "outcome": OUTCOME_WORDS},
        )
    },
)

USER_AGENT_MAX = 300


def address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def throttle_keys(username: str, request: Request) -> list[str]:
    """The login throttle's keys for an attempt at this account from this address (the account's first)."""
    return [f"user:{username.strip().lower()}", f"ip:{address(request)}"]


def record(
    db: Session,
    request: Request,
    username: str,
    user: User | None,
    method: Method,
    outcome: Outcome,
    provider: str = "",
) -> SignIn:
    """A row of the sign-in log and its audit event: by the person when they got in, by nobody when refused."""
    row = SignIn(
        user_id=user.id if user else None,
        username=(user.username if user else username).strip().lower()[:64],
        address=address(request)[:64],
        user_agent=strip_controls(request.headers.get("user-agent", ""))[:USER_AGENT_MAX],
        method=method.value,
        outcome=outcome.value,
    )
    db.add(row)
    db.flush()
    success = outcome == Outcome.SIGNED_IN
    changes = {"method": [None, method.value], "address": [None, row.address]}
    if provider:
        changes["provider"] = [None, provider]
    if not success:
        changes["outcome"] = [None, outcome.value]
    audit.record(
        db,
        actor_id=user.id if user and success else None,
        entity=row,
        label=row.username,
        action="sign_in" if success else "sign_in_failed",
        changes=changes,
    )
    return row


def complete(
    request: Request, db: Session, user: User, method: Method, provider: str = "", session: dict | None = None
) -> None:
    """The person is now signed in, however they proved it (password, password and second factor, single sign-on
    with `provider`): a new session cookie (fresh nonce, issue time and the account's epoch, plus what `session`
    adds) replaces whatever the browser had, their last sign-in is stamped, and the sign-in is logged and audited."""
    request.clear_session()
    now = int(utcnow().timestamp())
    request.set_session((session or {}) | {"uid": user.id, "epoch": user.session_epoch, "iat": now})
    # A plain UPDATE, not through the ORM: signing in must not bump the row's version (an admin's open edit form).
    db.execute(update(User).where(col(User.id) == user.id).values(last_login_at=utcnow()))
    record(db, request, user.username, user, method, Outcome.SIGNED_IN, provider)


def sign_out(request: Request, db: Session) -> None:
    """The session lives in the cookie, so a copy of it would outlive a mere clearing: the user's session epoch moves
    on, which ends every session of theirs (this browser's and any copy of its cookie)."""
    uid, epoch = request.session.get("uid"), request.session.get("epoch")
    if isinstance(uid, int) and isinstance(epoch, int) and (user := service.active_user(db, uid, epoch)) is not None:
        service.end_sessions(db, uid, epoch)
        audit.record(db, actor_id=uid, entity=user, label=user.username, action="sign_out", changes={})
    request.clear_session()


# --- between the password and the second factor ---------------------------------------------------------------

PENDING = "pending"


def await_second_factor(request: Request, user: User, next_: str, enrol: bool) -> None:
    """The password was right and a second factor is due (or, with `enrol`, must first be set up): the session holds
    only this marker, which signs nobody in (auth reads "uid" alone) and lasts TRACKER_MFA_PENDING_SECONDS."""
    request.clear_session()
    marker = {"uid": user.id, "epoch": user.session_epoch, "at": int(utcnow().timestamp()), "next": next_}
    request.set_session({PENDING: marker | {"enrol": enrol}})


@dataclass(frozen=True)
class Pending:
    user: User
    next: str
    enrol: bool


def pending(request: Request, db: Session) -> Pending | None:
    """Whose password step this browser passed, while it is fresh and the account still active and not signed out
    everywhere since; None otherwise (`waited` tells an expired step from none)."""
    marker = request.session.get(PENDING) if request.session else None
    if not isinstance(marker, dict):
        return None
    uid, epoch, at = marker.get("uid"), marker.get("epoch"), marker.get("at")
    if not (isinstance(uid, int) and isinstance(epoch, int) and isinstance(at, int)):
        return None
    max_age = request.app.state.settings.mfa_pending_seconds
    if not 0 <= utcnow().timestamp() - at <= max_age:
        return None
    user = service.active_user(db, uid, epoch)
    return Pending(user, str(marker.get("next") or ""), bool(marker.get("enrol"))) if user else None


def waited(request: Request) -> bool:
    """The browser holds a password step, but no longer a valid one (expired, or the account changed)."""
    return bool(request.session) and isinstance(request.session.get(PENDING), dict)
