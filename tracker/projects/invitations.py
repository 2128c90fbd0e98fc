"""Invitations by e-mail: a project's managers ask someone to join it in a role. A person who has an account is added
at once; anyone else gets a one-time link (mailed by the dispatcher, tracker/mail/invitations.py) to make their
account and land in the project. The link works until it is used, revoked, sent again or EXPIRES_AFTER has passed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from pydantic import EmailStr, Field
from sqlmodel import Session, col, func, select

from tracker.accounts import service as accounts
from tracker.accounts.models import User
from tracker.accounts.service import MIN_PASSWORD, USERNAME_PATTERN, Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.clock import utcnow
from tracker.core.errors import Conflict, FormError, NotFound
from tracker.core.forms import Form, parse
from tracker.projects.models import ROLE_LABELS, Invitation, Membership, Project, Role
from tracker.projects.permissions import Perm
from tracker.projects.service import Access, is_member, join
from tracker.settings import Settings

EXPIRES_AFTER = timedelta(days=7)  # how long a link works after it was sent (or sent again)
TOKEN_PREFIX = "inv_"
SENT = ("invite", "resend")  # the events whose message carries the link (the mail handler's)


class State(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


STATE_WORDS = {
    State.PENDING: "Waiting",
    State.ACCEPTED: "Accepted",
    State.REVOKED: "Revoked",
    State.EXPIRED: "Expired",
}
LABELS = {
    "email": "E-mail address",
    "full_name": "Name",
    "role": "Role",
    "status": "Status",
    "expires_at": "Link works until",
    "user_id": "Account",
}
history.register(
    nouns={"invitation": "invitation"},
    verbs={"invite": "sent", "resend": "sent again", "accept": "accepted"},
    terms={"invitation": history.Terms(LABELS, {"role": ROLE_LABELS, "status": STATE_WORDS})},
)


# Neither accepted nor revoked: waiting, or expired and waiting to be sent again (state_of tells which).
_OPEN = (col(Invitation.accepted_at).is_(None), col(Invitation.revoked_at).is_(None))


def state_of(invitation: Invitation) -> State:
    if invitation.accepted_at is not None:
        return State.ACCEPTED
    if invitation.revoked_at is not None:
        return State.REVOKED
    return State.PENDING if utcnow() < invitation.expires_at else State.EXPIRED


# --- the link ------------------------------------------------------------------------------------------------------


def _token(settings: Settings, salt: str) -> str:
    digest = hmac.new(settings.derived_key("invitation"), salt.encode(), hashlib.sha256).digest()
    return TOKEN_PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_link(settings: Settings) -> dict[str, Any]:
    """An invitation's fields for a fresh link, sent now: whatever link was sent before stops working."""
    salt, now = secrets.token_hex(16), utcnow()
    return {
        "salt": salt,
        "token_hash": _hash(_token(settings, salt)),
        "sent_at": now,
        "expires_at": now + EXPIRES_AFTER,
    }


def link(settings: Settings, invitation: Invitation) -> str | None:
    """The address the invitee opens; None when the server's key has changed since it was made (send it again)."""
    token = _token(settings, invitation.salt)
    if not hmac.compare_digest(_hash(token), invitation.token_hash):
        return None
    return f"{settings.base_url.rstrip('/')}/invitations/{token}"


def find(db: Session, token: str) -> tuple[Invitation, Project]:
    """The invitation a link opens, whatever its state; 404 for a token that opens none."""
    row = None
    if token.startswith(TOKEN_PREFIX) and len(token) <= 100:
        row = db.exec(
            select(Invitation, Project)
            .join(Project, col(Project.id) == Invitation.project_id)
            .where(Invitation.token_hash == _hash(token))
        ).first()
    if row is None:
        raise NotFound(detail="This invitation link is not valid. Check that the whole address was copied.")
    return row


# --- the managers' side --------------------------------------------------------------------------------------------


class InviteForm(Form):
    email: EmailStr = Field(max_length=254)
    full_name: str = Field(min_length=1, max_length=120)
    role: Role


InviteForm.labels = {"email": "E-mail address", "full_name": "Name", "role": "Role"}


@dataclass(frozen=True)
class Invited:
    """What an invitation came to: a link sent (`invitation`), or an account that exists added at once."""

    invitation: Invitation | None = None
    membership: Membership | None = None
    user: User | None = None


def invite(db: Session, settings: Settings, actor: Principal, access: Access, form: InviteForm) -> Invited:
    access.require(Perm.MANAGE)
    project, email = access.project, str(form.email).lower()
    users = db.exec(select(User).where(func.lower(User.email) == email)).all()
    if len(users) > 1:
        raise FormError({"email": "Several accounts use this address: add the right one from the members list."})
    if users:
        user = users[0]
        if not user.is_active:
            raise FormError({"email": f"{user.full_name}'s account is deactivated; an admin can activate it again."})
        if is_member(db, project.id, user.id):
            raise FormError({"email": f"{user.full_name} is already a member; change their role in the list."})
        return Invited(membership=join(db, actor.id, project, user, form.role, "add_member"), user=user)
    # The project's row is held until the commit, so two managers inviting one address at once queue here and the
    # second finds the first's invitation (SQLite's write requests queue as they begin; PostgreSQL's need this).
    db.exec(select(Project.id).where(Project.id == project.id).with_for_update()).one()
    waiting = db.exec(
        select(Invitation).where(Invitation.project_id == project.id, func.lower(Invitation.email) == email, *_OPEN)
    ).first()
    if waiting is not None:
        raise FormError({"email": "This address has an invitation already: send it again from the list below."})
    invitation = Invitation(
        project_id=project.id,
        email=email,
        full_name=form.full_name,
        role=form.role.value,
        invited_by_id=actor.id,
        **_new_link(settings),
    )
    db.add(invitation)
    db.flush()
    values = {"email": email, "full_name": form.full_name, "role": form.role.value, "expires_at": invitation.expires_at}
    _record(db, actor.id, invitation, "invite", {k: [None, v] for k, v in values.items()})
    return Invited(invitation=invitation)


def _record(db: Session, actor_id: int, invitation: Invitation, action: str, changes: dict) -> None:
    audit.record(
        db,
        actor_id=actor_id,
        entity=invitation,
        project_id=invitation.project_id,
        label=invitation.email,
        action=action,
        changes=changes,
    )


def get_for(db: Session, access: Access, invitation_id: int) -> Invitation:
    access.require(Perm.MANAGE)
    invitation = db.get(Invitation, invitation_id)
    if invitation is None or invitation.project_id != access.project.id:
        raise NotFound(detail="No such invitation in this project.")
    return invitation


def _still_open(invitation: Invitation, version: int) -> State:
    state = state_of(invitation)
    invitation.check_seen(
        version, {"status": state.value}, "This invitation changed since the page was loaded; here it is now."
    )
    if state in (State.ACCEPTED, State.REVOKED):
        raise Conflict(detail=f"This invitation is {STATE_WORDS[state].lower()} already.")
    return state


def resend(
    db: Session, settings: Settings, actor: Principal, access: Access, invitation_id: int, version: int
) -> Invitation:
    """A new link with a new expiry, mailed again; the link sent before stops working."""
    invitation = get_for(db, access, invitation_id)
    _still_open(invitation, version)
    before = invitation.expires_at
    for name, value in _new_link(settings).items():
        setattr(invitation, name, value)
    db.flush()
    _record(db, actor.id, invitation, "resend", {"expires_at": [before, invitation.expires_at]})
    return invitation


def revoke(db: Session, actor: Principal, access: Access, invitation_id: int, version: int) -> Invitation:
    invitation = get_for(db, access, invitation_id)
    state = _still_open(invitation, version)
    invitation.revoked_at = utcnow()
    db.flush()
    _record(db, actor.id, invitation, "revoke", {"status": [state.value, State.REVOKED.value]})
    return invitation


@dataclass(frozen=True)
class InvitationRow:
    invitation: Invitation
    state: State
    invited_by: str | None


def open_invitations(db: Session, project_id: int) -> list[InvitationRow]:
    """Those neither accepted nor revoked (waiting or expired), newest first, with who sent them: one query."""
    stmt = (
        select(Invitation, User.full_name)
        .outerjoin(User, col(User.id) == Invitation.invited_by_id)
        .where(Invitation.project_id == project_id, *_OPEN)
        .order_by(col(Invitation.sent_at).desc(), col(Invitation.id).desc())
    )
    return [InvitationRow(i, state_of(i), name) for i, name in db.exec(stmt)]


def row_of(db: Session, invitation: Invitation) -> InvitationRow:
    inviter = db.get(User, invitation.invited_by_id) if invitation.invited_by_id else None
    return InvitationRow(invitation, state_of(invitation), inviter.full_name if inviter else None)


def count_open(db: Session, project_id: int) -> int:
    return db.exec(select(func.count(Invitation.id)).where(Invitation.project_id == project_id, *_OPEN)).one()


# --- the invitee's side --------------------------------------------------------------------------------------------


class AccountForm(Form):
    """The account an invitee makes where password sign-in is off: they sign in by single sign-on, which finds the
    account by its e-mail address."""

    full_name: str = Field(min_length=1, max_length=120)
    username: str = Field(min_length=2, max_length=64, pattern=USERNAME_PATTERN)


class AcceptForm(AccountForm):
    """The account an invitee makes, with the password they will sign in with."""

    password: str = Field(min_length=MIN_PASSWORD, max_length=200)
    confirm_password: str = Field(min_length=1, max_length=200)


AccountForm.labels = AcceptForm.labels = {
    "full_name": "Your name",
    "username": "Username",
    "password": "Password",
    "confirm_password": "Password again",
}


def closed_reason(invitation: Invitation, project: Project) -> str | None:
    """Why the link no longer opens the way in, in the words its page shows; None while it does."""
    state = state_of(invitation)
    if state == State.ACCEPTED:
        return "This invitation has been used already: its account exists. Sign in with it."
    if state == State.REVOKED:
        return (
            f"This invitation was withdrawn by {project.key}'s managers. Ask them for a new one if you still need it."
        )
    if state == State.EXPIRED:
        return f"This invitation expired. Ask {project.key}'s managers to send it again."
    return None


def accept(db: Session, invitation: Invitation, project: Project, form: AccountForm) -> User:
    """The invitee's account, made from the link, and their membership in the role they were invited to. With an
    AccountForm (password sign-in off) the account's password is one nobody knows: single sign-on signs them in."""
    if (reason := closed_reason(invitation, project)) is not None:
        raise Conflict(detail=reason)
    password = getattr(form, "password", None) or secrets.token_urlsafe(32)
    if isinstance(form, AcceptForm) and form.password != form.confirm_password:
        raise FormError({"confirm_password": "The two passwords differ: type the same password twice."})
    taken = db.exec(select(User.id).where(func.lower(User.email) == invitation.email.lower())).first()
    if taken is not None:
        raise Conflict(
            detail="An account with this e-mail address exists already: sign in with it, and ask the "
            f"managers of {project.key} to add it."
        )
    values = {
        "username": form.username,
        "full_name": form.full_name,
        "email": invitation.email,
        "password": password,
    }
    user = accounts.create_user(db, None, parse(accounts.UserForm, values))
    join(db, user.id, project, user, Role(invitation.role), "join")
    invitation.accepted_at, invitation.user_id = utcnow(), user.id
    db.flush()  # refused (409) if someone used the link in the meantime: the row's version moved
    _record(
        db,
        user.id,
        invitation,
        "accept",
        {"status": [State.PENDING.value, State.ACCEPTED.value], "user_id": [None, user.id]},
    )
    return user
