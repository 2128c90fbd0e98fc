"""The OpenID providers people may sign in with: one from the environment (TRACKER_OIDC_*), any number set by admins,
each a row (the environment's mirrored into one, so identities, mappings and the trail can name it)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import Field, field_validator
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, func, select

from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.errors import Conflict, Forbidden, FormError, NotFound
from tracker.core.forms import Checkbox, Form
from tracker.settings import Settings
from tracker.sso import protocol
from tracker.sso.models import ENV_KEY, GroupMapping, OidcIdentity, OidcProvider

KEY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class Config:
    """A provider as sign-in uses it."""

    key: str
    name: str
    issuer: str
    client_id: str
    client_secret: str
    allowed_domains: frozenset[str]
    groups_claim: str
    from_env: bool = False
    scopes: str = protocol.SCOPES

    @property
    def client(self) -> protocol.Client:
        return protocol.Client(self.name, self.issuer, self.client_id, self.client_secret, self.scopes)


def domains(text: str) -> list[str]:
    return [d for d in re.split(r"[\s,;]+", text.strip().lower()) if d]


def from_env(settings: Settings) -> Config | None:
    if not (settings.oidc_issuer and settings.oidc_client_id):
        return None
    return Config(
        ENV_KEY,
        settings.oidc_name,
        settings.oidc_issuer,
        settings.oidc_client_id,
        settings.oidc_client_secret,
        frozenset(domains(settings.oidc_allowed_domains)),
        settings.oidc_groups_claim,
        from_env=True,
        scopes=" ".join(settings.oidc_scopes.split()),
    )


def _config(row: OidcProvider) -> Config:
    return Config(
        row.key,
        row.name,
        row.issuer,
        row.client_id,
        row.client_secret,
        frozenset(domains(row.allowed_domains)),
        row.groups_claim,
        scopes=row.scopes,
    )


def enabled(db: Session, settings: Settings) -> list[Config]:
    """Every provider the sign-in page offers: the environment's first, then the admins' by name."""
    rows = db.exec(
        select(OidcProvider).where(col(OidcProvider.enabled), ~col(OidcProvider.from_env)).order_by(OidcProvider.name)
    )
    env = from_env(settings)
    return ([env] if env else []) + [_config(r) for r in rows]


def find(db: Session, settings: Settings, key: str) -> Config:
    """An enabled provider by its key; NotFound otherwise."""
    for config in enabled(db, settings):
        if config.key == key:
            return config
    raise NotFound(detail="No such sign-in provider, or it is turned off.")


def row_of(db: Session, config: Config) -> OidcProvider:
    """The provider's row; the environment's made (or brought up to date) on first use, as several processes may do
    at once: an insert that yields to another's."""
    if not config.from_env:
        return db.exec(select(OidcProvider).where(OidcProvider.key == config.key)).one()
    values = {
        "name": config.name,
        "issuer": config.issuer,
        "client_id": config.client_id,
        "allowed_domains": " ".join(sorted(config.allowed_domains)),
        "groups_claim": config.groups_claim,
        "scopes": config.scopes,
    }
    insert = (pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert)(OidcProvider)
    db.execute(
        insert.values(key=ENV_KEY, from_env=True, enabled=True, client_secret="", **values).on_conflict_do_nothing()
    )
    row = db.exec(select(OidcProvider).where(OidcProvider.key == ENV_KEY)).one()
    for field, value in values.items():
        if getattr(row, field) != value:
            setattr(row, field, value)
    db.flush()
    return row


# --- administration -------------------------------------------------------------------------------------------------

SECRET_SHOWN = 4  # the last characters of a client secret an admin sees: enough to tell two apart


class ProviderForm(Form):
    key: str = Field(min_length=1, max_length=40, pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=80)
    issuer: str = Field(min_length=1, max_length=500)
    client_id: str = Field(min_length=1, max_length=255)
    client_secret: str = Field(default="", max_length=500)  # empty when editing: keep the stored one
    allowed_domains: str = Field(default="", max_length=2000)
    groups_claim: str = Field(default="groups", max_length=100)
    scopes: str = Field(default=protocol.SCOPES, max_length=500)
    enabled: Checkbox = True
    version: int | None = None

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, v: str) -> str:
        v = v.strip()
        if problem := protocol.issuer_problem(v):
            raise ValueError(problem)
        return v

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, v: str) -> str:
        if problem := protocol.scopes_problem(v):
            raise ValueError(problem)
        return " ".join(v.split())

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, v: str) -> str:
        found = domains(v)
        if bad := [d for d in found if not DOMAIN.match(d)]:
            raise ValueError(f"Not an e-mail domain: {', '.join(bad)}. List domains such as agency.gov")
        return " ".join(found)


PROVIDER_FIELDS = ("key", "name", "issuer", "client_id", "allowed_domains", "groups_claim", "scopes", "enabled")
PROVIDER_LABELS = {
    "key": "Key",
    "name": "Name",
    "issuer": "Issuer",
    "client_id": "Client ID",
    "client_secret": "Client secret",
    "allowed_domains": "Allowed e-mail domains",
    "groups_claim": "Groups claim",
    "scopes": "Scopes",
    "enabled": "Enabled",
}
history.register(
    nouns={"oidc_provider": "sign-in provider"},
    terms={
        "oidc_provider": history.Terms(
            PROVIDER_LABELS | {"reason": "Reason", "email": "E-mail"},
            {"client_secret": {"(hidden)": "", "(changed)": "changed"}},
        )
    },
)


def masked(secret: str) -> str:
    """How a stored client secret shows: its last characters only."""
    return "•" * 8 + secret[-SECRET_SHOWN:] if len(secret) > 2 * SECRET_SHOWN else ("•" * 8 if secret else "")


def admin_rows(db: Session) -> list[OidcProvider]:
    return list(db.exec(select(OidcProvider).order_by(col(OidcProvider.from_env).desc(), OidcProvider.name)))


def get(db: Session, provider_id: int) -> OidcProvider:
    row = db.get(OidcProvider, provider_id)
    if row is None:
        raise NotFound(detail="No such sign-in provider.")
    return row


def _check_key(db: Session, key: str, exclude_id: int | None) -> None:
    stmt = select(OidcProvider.id).where(OidcProvider.key == key)
    if key == ENV_KEY or db.exec(stmt.where(OidcProvider.id != (exclude_id or 0))).first() is not None:
        raise FormError({"key": "That key is taken; choose another (it is part of the callback address)."})


def create(db: Session, actor: Principal, form: ProviderForm) -> OidcProvider:
    if not actor.is_admin:
        raise Forbidden(detail="Only admins set up sign-in providers.")
    _check_key(db, form.key, None)
    if not form.client_secret:
        raise FormError({"client_secret": "Enter the client secret the provider gave this application."})
    row = OidcProvider(**form.model_dump(include=set(PROVIDER_FIELDS)), client_secret=form.client_secret)
    db.add(row)
    db.flush()
    changes = {f: [None, getattr(row, f)] for f in PROVIDER_FIELDS} | {"client_secret": [None, "(hidden)"]}
    audit.record(db, actor_id=actor.id, entity=row, label=row.name, action="create", changes=changes)
    return row


def update(db: Session, actor: Principal, row: OidcProvider, form: ProviderForm) -> OidcProvider:
    if not actor.is_admin:
        raise Forbidden(detail="Only admins set up sign-in providers.")
    if row.from_env:
        raise Forbidden(detail="This provider is set by the environment (TRACKER_OIDC_*); change it there.")
    row.check_seen(form.version, audit.snapshot(row, PROVIDER_FIELDS))
    _check_key(db, form.key, row.id)
    before = audit.snapshot(row, PROVIDER_FIELDS)
    for f in PROVIDER_FIELDS:
        setattr(row, f, getattr(form, f))
    changes = audit.diff(before, audit.snapshot(row, PROVIDER_FIELDS))
    if form.client_secret and form.client_secret != row.client_secret:
        row.client_secret = form.client_secret
        changes["client_secret"] = ["(hidden)", "(changed)"]
    if changes:
        audit.record(db, actor_id=actor.id, entity=row, label=row.name, action="update", changes=changes)
    db.add(row)
    db.flush()
    return row


def users_of(db: Session, row: OidcProvider) -> int:
    """How many people's accounts are linked to the provider (they sign in with it)."""
    return db.exec(select(func.count()).select_from(OidcIdentity).where(OidcIdentity.provider_id == row.id)).one()


def delete(db: Session, actor: Principal, row: OidcProvider, version: int | None) -> None:
    """Removes a provider nobody signs in with, and its group mappings. One that people's accounts are linked to is
    turned off instead: removing it would cut the link the record of their sign-ins rests on."""
    if not actor.is_admin:
        raise Forbidden(detail="Only admins set up sign-in providers.")
    if row.from_env:
        raise Forbidden(detail="This provider is set by the environment (TRACKER_OIDC_*); change it there.")
    row.check_seen(version, audit.snapshot(row, PROVIDER_FIELDS))
    if people := users_of(db, row):
        raise Conflict(
            detail=f"{people} {'person signs' if people == 1 else 'people sign'} in with {row.name}: turn it off "
            "instead (untick Enabled), so their accounts keep their link."
        )
    mappings = db.exec(select(GroupMapping).where(GroupMapping.provider_id == row.id)).all()
    changes = {f: [getattr(row, f), None] for f in PROVIDER_FIELDS} | {
        "group_mappings": [", ".join(sorted(m.group_name for m in mappings)) or None, None]
    }
    audit.record(db, actor_id=actor.id, entity=row, label=row.name, action="delete", changes=changes)
    for m in mappings:
        db.delete(m)
    db.flush()
    db.delete(row)
    db.flush()
