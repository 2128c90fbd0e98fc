"""Webhook rules: who manages a project's webhooks, saving them (URL checked, event kinds from the table, secret made
once), their audit events, the delivery log, turning one off after its failures and sending a delivery again."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from sqlalchemy import delete as sql_delete
from sqlalchemy import update
from sqlmodel import Session, col, func, select

from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.clock import utcnow
from tracker.core.errors import Conflict, FormError, NotFound
from tracker.core.forms import Checkbox, Form
from tracker.dispatch import service as dispatch
from tracker.dispatch.models import DispatchEffect
from tracker.projects import service as projects
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.webhooks import targets
from tracker.webhooks.kinds import DISABLE_AFTER, KINDS, NAMES
from tracker.webhooks.models import Webhook, WebhookDelivery

HANDLER = "webhooks"  # the dispatcher handler that delivers (webhooks.delivery)
LOG_PAGE = 50

# The form's labels; the history reads a webhook's changes with them. Its URL is never written to the trail (a URL
# may carry a token): only its host, which is also the webhook's label.
LABELS = {
    "url": "Payload URL",
    "host": "Host",
    "events": "Events",
    "description": "Description",
    "active": "Active",
    "failures": "Failed attempts in a row",
}
FIELDS = ("host", "events", "description", "active")
history.register(
    nouns={"webhook": "webhook"},
    verbs={"rotate_secret": "made a new secret for", "disable": "turned off after repeated failures"},
    terms={"webhook": history.Terms(LABELS, {})},
)


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "")[:200]


class WebhookForm(Form):
    labels = LABELS

    url: str = Field(min_length=1, max_length=2000)
    events: list[str] = Field(default_factory=list, validate_default=True)
    description: str = Field(default="", max_length=200)
    active: Checkbox = True
    version: int | None = None

    @field_validator("events", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        if isinstance(v, str):  # one checkbox ticked posts a single value
            return [v] if v else []
        return v

    @field_validator("events")
    @classmethod
    def _events(cls, v: list[str]) -> list[str]:
        if any(e not in NAMES for e in v):
            raise ValueError("Choose event kinds from the list: " + ", ".join(f"“{n}”" for n in NAMES) + ".")
        if not v:
            raise ValueError("Choose at least one kind of event.")
        return [n for n in NAMES if n in v]  # in the table's order, once each

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        try:
            targets.parse(v)
        except targets.Refused as exc:
            raise ValueError(str(exc)) from None
        return v


def _check_target(url: str, allow_private: bool) -> None:
    """Public addresses only, unless private ones are allowed (then the name is resolved at delivery alone)."""
    if allow_private:
        return
    try:
        targets.check(url, allow_private)
    except targets.Refused as exc:
        raise FormError({"url": str(exc)}) from None


# --- loading ------------------------------------------------------------------------------------------------------


def list_for(db: Session, access: Access) -> list[Webhook]:
    access.require(Perm.MANAGE_WEBHOOKS)
    return list(db.exec(select(Webhook).where(Webhook.project_id == access.project.id).order_by(Webhook.id)))


def get_for(db: Session, access: Access, webhook_id: int) -> Webhook:
    """A webhook of this project (404 otherwise), for someone who manages them (403 otherwise)."""
    access.require(Perm.MANAGE_WEBHOOKS)
    return projects.record_in(db, access, Webhook, webhook_id, "webhook")


def load_for(db: Session, user: Principal, webhook_id: int) -> tuple[Access, Webhook]:
    """A webhook by id alone (the API): 404 unless `user` sees its project, 403 unless they manage its webhooks."""
    return projects.load_record(db, user, Webhook, webhook_id, Perm.MANAGE_WEBHOOKS, "webhook")


def deliveries(db: Session, webhook: Webhook, limit: int = LOG_PAGE, offset: int = 0) -> list[WebhookDelivery]:
    return list(
        db.exec(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook.id)
            .order_by(col(WebhookDelivery.at).desc(), col(WebhookDelivery.id).desc())
            .limit(limit)
            .offset(offset)
        )
    )


def delivery_of(db: Session, webhook: Webhook, delivery_id: int) -> WebhookDelivery:
    delivery = db.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.webhook_id != webhook.id:
        raise NotFound(detail="No such delivery of this webhook.")
    return delivery


# --- saving -------------------------------------------------------------------------------------------------------


def _state(webhook: Webhook) -> dict[str, Any]:
    return {
        "host": host_of(webhook.url),
        "events": list(webhook.events),
        "description": webhook.description,
        "active": webhook.active,
    }


def _record(db: Session, actor_id: int | None, webhook: Webhook, action: str, changes: dict[str, Any]) -> None:
    audit.record(
        db,
        actor_id=actor_id,
        entity=webhook,
        project_id=webhook.project_id,
        label=host_of(webhook.url),
        action=action,
        changes=changes,
    )


def create(db: Session, actor: Principal, access: Access, form: WebhookForm, allow_private: bool) -> Webhook:
    """The new webhook; its secret is read from it now, and never shown again."""
    access.require(Perm.MANAGE_WEBHOOKS)
    _check_target(form.url, allow_private)
    webhook = Webhook(
        project_id=access.project.id,
        url=form.url,
        events=form.events,
        description=form.description,
        active=form.active,
        secret=new_secret(),
        created_by=actor.id,
    )
    db.add(webhook)
    db.flush()
    _record(db, actor.id, webhook, "create", {k: [None, v] for k, v in _state(webhook).items() if v not in ("", [])})
    return webhook


def update_webhook(
    db: Session, actor: Principal, access: Access, webhook: Webhook, form: WebhookForm, allow_private: bool
) -> Webhook:
    access.require(Perm.MANAGE_WEBHOOKS)
    webhook.check_seen(form.version, {"url": webhook.url, "events": webhook.events, "active": webhook.active})
    if form.url != webhook.url:
        _check_target(form.url, allow_private)
    before, old_url = _state(webhook), webhook.url
    if form.active and not webhook.active:  # turned on again: its count of failures starts over
        webhook.consecutive_failures, webhook.disabled_at = 0, None
    webhook.url, webhook.events = form.url, form.events
    webhook.description, webhook.active = form.description, form.active
    changes = audit.diff(before, _state(webhook))
    if webhook.url != old_url and "host" not in changes:  # the trail never holds a URL (it may carry a token)
        changes["url"] = [None, "changed"]
    if changes:
        webhook.updated_at = utcnow()
        _record(db, actor.id, webhook, "update", changes)
    db.flush()
    return webhook


def rotate_secret(db: Session, actor: Principal, access: Access, webhook: Webhook, expected_version: int) -> str:
    """A new secret in place of the old one, which signs nothing from now on: shown once, like the first."""
    access.require(Perm.MANAGE_WEBHOOKS)
    webhook.check_seen(expected_version, {"url": webhook.url})
    webhook.secret = new_secret()
    webhook.updated_at = utcnow()
    _record(db, actor.id, webhook, "rotate_secret", {})
    db.flush()
    return webhook.secret


def delete(db: Session, actor: Principal, access: Access, webhook: Webhook, expected_version: int) -> None:
    access.require(Perm.MANAGE_WEBHOOKS)
    webhook.check_seen(
        expected_version,
        {"url": webhook.url},
        "This webhook was changed after you loaded it, so it was not deleted. Check it and delete it again.",
    )
    _record(db, actor.id, webhook, "delete", {k: [v, None] for k, v in _state(webhook).items() if v not in ("", [])})
    db.execute(sql_delete(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == webhook.id))
    db.delete(webhook)
    db.flush()


def redeliver(db: Session, access: Access, webhook: Webhook, delivery: WebhookDelivery) -> None:
    """Sends the delivery's event again, as a new attempt the dispatcher makes once this commits (with the same
    webhook-id, so a receiver that already has it can tell)."""
    access.require(Perm.MANAGE_WEBHOOKS)
    if not webhook.active:
        raise Conflict(detail="This webhook is turned off; turn it on before sending a delivery again.")
    prefix = f"{webhook.id}/again/"
    asked = db.exec(
        select(func.count())
        .select_from(DispatchEffect)
        .where(
            DispatchEffect.event_id == delivery.event_id,
            DispatchEffect.handler == HANDLER,
            col(DispatchEffect.recipient).startswith(prefix),
        )
    ).one()
    if not dispatch.ask(db, delivery.event_id, HANDLER, f"{prefix}{asked + 1}"):
        raise Conflict(detail="Someone asked for this delivery again at the same moment; reload the log.")


# --- what each attempt leaves ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    ok: bool
    status_code: int | None
    response: str
    error: str
    duration_ms: int


def log_attempt(
    db: Session, webhook_id: int, event_id: int, event_type: str, message_id: str, again: bool, attempt: Attempt
) -> bool:
    """Logs one attempt and counts it: a success clears the webhook's failures, the DISABLE_AFTER-th failure in a row
    turns it off (on the audit trail). Its own short transaction. True when the webhook is still on."""
    now = utcnow()
    db.add(
        WebhookDelivery(
            webhook_id=webhook_id,
            event_id=event_id,
            event_type=event_type,
            message_id=message_id,
            redelivery=again,
            ok=attempt.ok,
            status_code=attempt.status_code,
            response=attempt.response[:500],
            error=attempt.error[:500],
            duration_ms=attempt.duration_ms,
            at=now,
        )
    )
    # Counted in SQL, so attempts of two processes add up; the version is left alone, so a manager's open edit form
    # is not made stale by the deliveries (turning off moves it, as that changes what the form shows).
    hook = col(Webhook.id) == webhook_id
    if attempt.ok:
        db.execute(
            update(Webhook).where(hook).values(consecutive_failures=0).execution_options(synchronize_session=False)
        )
        return True
    db.execute(
        update(Webhook)
        .where(hook)
        .values(consecutive_failures=Webhook.consecutive_failures + 1)
        .execution_options(synchronize_session=False)
    )
    turned_off = db.execute(
        update(Webhook)
        .where(hook, col(Webhook.active), col(Webhook.consecutive_failures) >= DISABLE_AFTER)
        .values(active=False, disabled_at=now, version=Webhook.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    webhook = db.exec(select(Webhook).where(hook).execution_options(populate_existing=True)).first()
    if turned_off and webhook is not None:
        _record(db, None, webhook, "disable", {"active": [True, False], "failures": [None, DISABLE_AFTER]})
    return webhook is not None and webhook.active


def kinds_help() -> list[tuple[str, str]]:
    return [(k.name, k.help) for k in KINDS]


def last_attempts(db: Session, webhook_ids: list[int]) -> dict[int, datetime]:
    """When each webhook was last tried, in one query."""
    if not webhook_ids:
        return {}
    rows = db.exec(
        select(WebhookDelivery.webhook_id, func.max(WebhookDelivery.at))
        .where(col(WebhookDelivery.webhook_id).in_(webhook_ids))
        .group_by(WebhookDelivery.webhook_id)
    ).all()
    return dict(rows)
