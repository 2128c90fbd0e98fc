"""Who a provider's sign-in makes signed in: the linked identity (by `sub`), else the account with that verified
e-mail, else a new account when the e-mail's domain is allowed; the groups' mappings applied at each sign-in; the
sign-in policy (passwords off for all but break-glass admins); each step on the audit trail."""

from __future__ import annotations

import re
import secrets
from typing import Any

from pydantic import Field
from sqlmodel import Session, col, func, select

from tracker.accounts.mfa import REQUIRED_WORDS, Required
from tracker.accounts.models import User
from tracker.accounts.service import USERNAME_PATTERN, Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.clock import utcnow
from tracker.core.errors import Forbidden, FormError, NotFound
from tracker.core.forms import Checkbox, Form, OptionalInt
from tracker.projects.models import ROLE_LABELS, Membership, Project, Role
from tracker.settings import Settings
from tracker.sso import protocol, providers
from tracker.sso.models import GroupMapping, OidcIdentity, OidcProvider, SignInPolicy
from tracker.sso.protocol import Refused
from tracker.sso.providers import Config

ADMIN_GRANT = "admin"  # a mapping's grant that is no project role: the global admin flag
POLICY_ID = 1

history.register(
    nouns={"oidc_group_mapping": "group mapping", "sign_in_policy": "sign-in policy"},
    verbs={
        "sso_link": "linked a single sign-on identity to",
        "sso_create": "joined through single sign-on as",
        "sso_grant": "was made admin by a group mapping:",
        "sso_add_member": "was added through a group mapping as",
        "sso_refused": "was refused a sign-in by",
    },
    terms={
        "sso_grant": history.Terms({"is_admin": "Admin", "group": "Group"}),
        "sso_add_member": history.Terms({"role": "Role", "group": "Group"}, {"role": ROLE_LABELS}),
        "sso_create": history.Terms({"full_name": "Full name", "email": "E-mail"}),
        "sso_link": history.Terms({"email": "E-mail"}),
        "sign_in_policy": history.Terms(
            {
                "local_passwords": "Password sign-in for everyone",
                "break_glass": "Break-glass admins",
                "mfa_required": "Multi-factor authentication required of",
            },
            {"mfa_required": REQUIRED_WORDS},
        ),
    },
)


# --- the sign-in policy ----------------------------------------------------------------------------------------------


def policy(db: Session) -> SignInPolicy:
    """The one row (passwords on, nobody named, before an admin first saves)."""
    return db.get(SignInPolicy, POLICY_ID) or SignInPolicy(id=POLICY_ID, version=1)


def password_allowed(db: Session, user: User) -> bool:
    """Whether `user` may sign in with a password: everyone, unless an admin turned passwords off; then only the
    break-glass admins named."""
    rules = policy(db)
    return rules.local_passwords or (user.is_admin and user.id in rules.break_glass_ids)


class PolicyForm(Form):
    local_passwords: Checkbox = True
    break_glass_ids: list[int] = Field(default_factory=list)
    mfa_required: Required = Required.NOBODY
    version: int | None = None


def _names(db: Session, ids: list[int]) -> list[str]:
    if not ids:
        return []
    return sorted(db.exec(select(User.username).where(col(User.id).in_(ids))).all())


def save_policy(db: Session, actor: Principal, form: PolicyForm) -> SignInPolicy:
    if not actor.is_admin:
        raise Forbidden(detail="Only admins set the sign-in policy.")
    rules = policy(db)
    rules.check_seen(form.version, {"local_passwords": rules.local_passwords, "mfa_required": rules.mfa_required})
    ids = sorted(set(form.break_glass_ids))
    admins = set(db.exec(select(User.id).where(col(User.id).in_(ids), col(User.is_admin), col(User.is_active))).all())
    if set(ids) - admins:
        raise FormError({"break_glass_ids": "Only active admins can be break-glass admins."})
    if not form.local_passwords and not ids:
        raise FormError({"break_glass_ids": "Name at least one break-glass admin before turning password sign-in off."})

    def stated() -> dict[str, Any]:
        return {
            "local_passwords": rules.local_passwords,
            "break_glass": _names(db, rules.break_glass_ids),
            "mfa_required": rules.mfa_required,
        }

    before = stated()
    rules.local_passwords, rules.break_glass_ids = form.local_passwords, ids
    rules.mfa_required = form.mfa_required.value
    db.add(rules)
    db.flush()
    changes = audit.diff(before, stated())
    if changes:
        audit.record(db, actor_id=actor.id, entity=rules, label="Sign-in policy", action="update", changes=changes)
    return rules


# --- group mappings --------------------------------------------------------------------------------------------------


class MappingForm(Form):
    provider_id: int
    group_name: str = Field(min_length=1, max_length=200)
    project_id: OptionalInt = None
    grant: str = Field(min_length=1, max_length=16)


def grants(mapping: GroupMapping, project_key: str | None) -> str:
    """What a mapping grants, in words: "Admin", or "Staff in CWS"."""
    if mapping.project_id is None:
        return "Admin"
    return f"{ROLE_LABELS[Role(mapping.role)]} in {project_key}"


def mappings(db: Session) -> list[tuple[GroupMapping, str, str | None]]:
    """Every mapping with its provider's name and its project's key, in one query."""
    stmt = (
        select(GroupMapping, OidcProvider.name, Project.key)
        .join(OidcProvider, col(OidcProvider.id) == GroupMapping.provider_id)
        .outerjoin(Project, col(Project.id) == GroupMapping.project_id)
        .order_by(OidcProvider.name, GroupMapping.group_name, col(GroupMapping.id))
    )
    return list(db.exec(stmt).all())


def add_mapping(db: Session, actor: Principal, form: MappingForm) -> GroupMapping:
    if not actor.is_admin:
        raise Forbidden(detail="Only admins map groups.")
    provider = db.get(OidcProvider, form.provider_id)
    if provider is None:
        raise FormError({"provider_id": "Choose a provider from the list."})
    group = form.group_name.strip()
    if not group:
        raise FormError({"group_name": "Enter the group's name as the provider sends it."})
    project = db.get(Project, form.project_id) if form.project_id else None
    if form.grant == ADMIN_GRANT:
        if form.project_id:
            raise FormError({"project_id": "Admin rights cover every project: leave the project empty."})
        role = None
    else:
        if form.grant not in {r.value for r in Role}:
            raise FormError({"grant": "Choose what the group grants from the list."})
        if project is None:
            raise FormError({"project_id": "Choose the project the role is in."})
        role = Role(form.grant).value
    same = select(GroupMapping.id).where(
        GroupMapping.provider_id == provider.id,
        GroupMapping.group_name == group,
        GroupMapping.project_id == project.id if project else col(GroupMapping.project_id).is_(None),
    )
    if db.exec(same).first() is not None:
        raise FormError({"group_name": "This group already has a mapping for that; remove it first."})
    mapping = GroupMapping(provider_id=provider.id, group_name=group, project_id=project and project.id, role=role)
    db.add(mapping)
    db.flush()
    audit.record(
        db,
        actor_id=actor.id,
        entity=mapping,
        label=group,
        action="create",
        changes={"provider": [None, provider.name], "grants": [None, grants(mapping, project and project.key)]},
    )
    return mapping


def delete_mapping(db: Session, actor: Principal, mapping_id: int) -> GroupMapping:
    if not actor.is_admin:
        raise Forbidden(detail="Only admins map groups.")
    mapping = db.get(GroupMapping, mapping_id)
    if mapping is None:
        raise NotFound(detail="No such group mapping.")
    project = db.get(Project, mapping.project_id) if mapping.project_id else None
    provider = db.get(OidcProvider, mapping.provider_id)
    audit.record(
        db,
        actor_id=actor.id,
        entity=mapping,
        label=mapping.group_name,
        action="delete",
        changes={"provider": [provider.name, None], "grants": [grants(mapping, project and project.key), None]},
    )
    db.delete(mapping)
    db.flush()
    return mapping


def read_claims(config: Config) -> tuple[str, ...]:
    """The claims sign-in reads of a person (the provider's userinfo is asked for those its ID token leaves out)."""
    return ("email", "email_verified", "name", config.groups_claim)


def _groups(claims: dict[str, Any], claim: str) -> set[str]:
    value = claims.get(claim)
    if isinstance(value, str):
        return {value}
    return {g for g in value if isinstance(g, str)} if isinstance(value, list) else set()


def apply_groups(db: Session, provider: OidcProvider, user: User, groups: set[str]) -> None:
    """What the person's groups grant, added: admin rights and memberships they lack. Nothing is taken away, and a
    membership they have keeps its role (README: "Sign-in")."""
    if not groups:
        return
    found = db.exec(
        select(GroupMapping).where(GroupMapping.provider_id == provider.id, col(GroupMapping.group_name).in_(groups))
    ).all()
    order = list(Role)
    best: dict[int, GroupMapping] = {}
    for m in found:
        if m.project_id is None:
            if not user.is_admin:
                user.is_admin = True
                db.add(user)
                audit.record(
                    db,
                    actor_id=user.id,
                    entity=user,
                    label=user.username,
                    action="sso_grant",
                    changes={"is_admin": [False, True], "group": [None, m.group_name]},
                )
        elif m.project_id not in best or order.index(Role(m.role)) < order.index(Role(best[m.project_id].role)):
            best[m.project_id] = m
    if not best:
        return
    member_of = set(
        db.exec(
            select(Membership.project_id).where(
                Membership.user_id == user.id, col(Membership.project_id).in_(list(best))
            )
        ).all()
    )
    for project_id, m in sorted(best.items()):
        if project_id in member_of:
            continue
        membership = Membership(project_id=project_id, user_id=user.id, role=m.role)
        db.add(membership)
        db.flush()
        audit.record(
            db,
            actor_id=user.id,
            entity=membership,
            project_id=project_id,
            label=user.full_name,
            action="sso_add_member",
            changes={"role": [None, m.role], "group": [None, m.group_name]},
        )
    db.flush()


# --- signing in ------------------------------------------------------------------------------------------------------


def refused(db: Session, provider: OidcProvider, message: str, claims: dict[str, Any] | None = None) -> None:
    """A refused sign-in, on the provider's trail (and the person's, when they are known)."""
    claims = claims or {}
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    identity = _identity(db, provider, claims.get("sub")) if isinstance(claims.get("sub"), str) else None
    audit.record(
        db,
        actor_id=identity.user_id if identity else None,
        entity=provider,
        label=provider.name,
        action="sso_refused",
        changes={"reason": [None, message[:500]], "email": [None, (email or "")[:254]]},
    )


def _identity(db: Session, provider: OidcProvider, subject: str) -> OidcIdentity | None:
    return db.exec(
        select(OidcIdentity).where(OidcIdentity.provider_id == provider.id, OidcIdentity.subject == subject)
    ).first()


def _verified(claims: dict[str, Any]) -> bool:
    return claims.get("email_verified") in (True, "true")  # some providers send the word


def _free_username(db: Session, claims: dict[str, Any], email: str) -> str:
    wanted = claims.get("preferred_username")
    base = wanted if isinstance(wanted, str) and re.match(USERNAME_PATTERN, wanted) else email.split("@")[0]
    base = (re.sub(r"[^A-Za-z0-9._-]", "", base).lstrip("._-") or "user")[:56].ljust(2, "0")
    taken = {
        name.lower()
        for name in db.exec(select(User.username).where(func.lower(User.username).like(f"{base.lower()}%"))).all()
    }
    candidate, n = base, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{base}{n}"
    return candidate


def _create(db: Session, config: Config, provider: OidcProvider, claims: dict[str, Any], email: str) -> User:
    name = claims.get("name") if isinstance(claims.get("name"), str) and claims["name"].strip() else email
    user = User(
        username=_free_username(db, claims, email),
        full_name=name.strip()[:120],
        email=email,
        password_hash="!sso-" + secrets.token_hex(8),  # no password signs them in (argon2 reads no hash in it)
    )
    db.add(user)
    db.flush()
    audit.record(
        db,
        actor_id=user.id,
        entity=user,
        label=user.username,
        action="sso_create",
        changes={"full_name": [None, user.full_name], "email": [None, email], "provider": [None, config.name]},
    )
    return user


def sign_in(db: Session, config: Config, provider: OidcProvider, claims: dict[str, Any]) -> User:
    """The account the checked claims sign in, linked (or made) as needed, with its groups applied. Refused, with
    the reason on the trail, when nobody may be signed in."""
    try:
        user = _account(db, config, provider, claims)
    except Refused as exc:
        refused(db, provider, exc.message, claims)
        raise
    apply_groups(db, provider, user, _groups(claims, config.groups_claim))
    return user  # the sign-in itself goes on the record as every sign-in does (accounts.signin.complete)


def _account(db: Session, config: Config, provider: OidcProvider, claims: dict[str, Any]) -> User:
    identity = _identity(db, provider, claims["sub"])
    if identity is not None:
        user = db.get(User, identity.user_id)
        if not user.is_active:
            raise Refused("Your account is deactivated. Ask an admin to turn it on again.", 403)
        identity.last_login_at = utcnow()
        db.add(identity)
        return user
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise Refused(f"{config.name} did not tell us your e-mail address, so no account can be found for you.", 403)
    email = email.strip().lower()
    if not _verified(claims):
        raise Refused(
            f"{config.name} has not verified your e-mail address {email}. Verify it there, then sign in again.", 403
        )
    found = db.exec(select(User).where(func.lower(User.email) == email)).all()
    if len(found) > 1:
        raise Refused(f"Several accounts here use {email}; ask an admin to link yours.", 403)
    if found:
        user = found[0]
        if not user.is_active:
            raise Refused("Your account is deactivated. Ask an admin to turn it on again.", 403)
        action = "sso_link"
    elif email.rsplit("@", 1)[1] in config.allowed_domains:
        user = _create(db, config, provider, claims, email)
        action = None
    else:
        raise Refused(
            f"There is no account for {email}, and {config.name} may not create accounts for its domain. "
            "Ask an admin to add you.",
            403,
        )
    db.add(OidcIdentity(provider_id=provider.id, subject=claims["sub"], user_id=user.id, last_login_at=utcnow()))
    db.flush()
    if action:
        audit.record(
            db,
            actor_id=user.id,
            entity=user,
            label=user.username,
            action=action,
            changes={"provider": [None, config.name], "email": [None, email]},
        )
    return user


def end_session_url(db: Session, settings: Settings, signed_in_with: dict[str, Any]) -> tuple[str, str] | None:
    """Where to send a person signing out after single sign-on, and the provider's name: its end-session page
    (RP-initiated logout), which sends them back to our sign-in page; None when it offers none or is gone."""
    key, id_token = signed_in_with.get("key"), signed_in_with.get("id_token")
    if not (isinstance(key, str) and isinstance(id_token, str)):
        return None
    try:
        config = providers.find(db, settings, key)
    except NotFound:
        return None
    url = protocol.logout_url(config.client, id_token, settings.base_url.rstrip("/") + "/login")
    return (url, config.name) if url else None


def login_options(db: Session, settings: Settings) -> tuple[list[Config], bool]:
    """The providers the sign-in page offers, and whether its password form is for everyone."""
    return providers.enabled(db, settings), policy(db).local_passwords
