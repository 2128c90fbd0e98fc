"""Delivering events to webhooks, through the dispatcher: the handler `webhooks` has one recipient per webhook of the
event's project subscribed to one of its kinds; each effect POSTs the event as JSON, signed per Standard Webhooks,
logs the attempt and raises when it failed, so the dispatcher tries again with its backoff."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from sqlmodel import Session, col, select
from standardwebhooks import Webhook as Signer

from tracker.audit.models import AuditEvent
from tracker.core.clock import utcnow
from tracker.core.db import begin_write, commit
from tracker.dispatch import service as dispatch
from tracker.projects.models import Project
from tracker.settings import Settings
from tracker.webhooks import targets
from tracker.webhooks.kinds import API, PAGES, kinds_of
from tracker.webhooks.models import Webhook
from tracker.webhooks.service import HANDLER, Attempt, log_attempt

USER_AGENT = "Tracker-Webhooks/1"


class DeliveryFailed(Exception):
    """The receiver did not answer 2xx in time (or could not be reached): the dispatcher tries again later."""


def subscribers(db: Session, event: AuditEvent) -> list[str]:
    """The webhooks (by id) of the event's project that are on and subscribed to one of its kinds, and were made
    before it (the dispatcher reads recent events more than once; a new webhook hears of what happens next)."""
    names = kinds_of(event.entity_type, event.action, event.changes)
    if not names or event.project_id is None:
        return []
    hooks = db.exec(
        select(Webhook.id, Webhook.events).where(
            Webhook.project_id == event.project_id, col(Webhook.active), col(Webhook.created_at) <= event.at
        )
    )
    return [str(hook_id) for hook_id, events in hooks if set(names) & set(events or [])]


def message_id(event_id: int, webhook_id: int) -> str:
    """The webhook-id header: one per event and webhook, the same on every attempt, so a receiver can drop repeats."""
    return f"msg_{event_id}_{webhook_id}"


def payload(event: AuditEvent, event_type: str, project_key: str, base_url: str) -> dict[str, Any]:
    """The body: the event's name and moment, the record it is about, its new state and where to read it."""
    ids = {"key": project_key, "id": event.entity_id}
    base = base_url.rstrip("/")
    links = {"project": f"{base}/projects/{project_key}"}
    if event.entity_type in PAGES:
        links |= {
            "page": base + PAGES[event.entity_type].format(**ids),
            "api": base + API[event.entity_type].format(**ids),
        }
    changes = event.changes or {}
    return {
        "type": event_type,
        "timestamp": event.at.isoformat(),
        "data": {
            "event_id": event.id,
            "action": event.action,
            "record": {
                "type": event.entity_type,
                "id": event.entity_id,
                "label": event.entity_label,
                "project": project_key,
            },
            "state": {field: pair[1] for field, pair in changes.items() if isinstance(pair, list) and len(pair) == 2},
            "changes": changes,
            "links": links,
        },
    }


def send(url: str, body: bytes, msg_id: str, secret: str, settings: Settings) -> Attempt:
    """One POST, signed, to the address checked now (never following a redirect); what came of it."""
    started = time.perf_counter()

    def took() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        target = targets.check(url, settings.webhooks_allow_private)
    except targets.Refused as exc:
        return Attempt(False, None, "", f"Refused: {exc}", took())
    at = utcnow()
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "host": target.host_header,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Signer(secret).sign(msg_id, at, body),
    }
    try:
        with (
            httpx.Client(timeout=settings.webhook_timeout_seconds, follow_redirects=False, trust_env=False) as client,
            client.stream(
                "POST", target.pinned_url, content=body, headers=headers, extensions={"sni_hostname": target.host}
            ) as response,
        ):
            start = next(response.iter_bytes(500), b"")[:500]  # a receiver's answer is read no further
            ok = 200 <= response.status_code < 300
            error = (
                ""
                if ok
                else f"Answered {response.status_code}"
                + (" (redirects are not followed)" if response.is_redirect else "")
            )
            return Attempt(ok, response.status_code, start.decode("utf-8", "replace"), error, took())
    except httpx.HTTPError as exc:
        return Attempt(False, None, "", f"{type(exc).__name__}: {exc}"[:500], took())


@dispatch.handler(HANDLER, recipients=subscribers)
def deliver(db: Session, event: AuditEvent, recipient: str, ctx: dispatch.Context) -> None:
    """Recipient "12" is webhook 12's delivery; "12/again/1" the first one asked for again by hand."""
    webhook_id, _, again = recipient.partition("/")
    hook = db.get(Webhook, int(webhook_id))
    if hook is None or not hook.active:
        db.rollback()
        return  # deleted or turned off since: nothing to send
    names = kinds_of(event.entity_type, event.action, event.changes)
    event_type = next(
        (n for n in names if n in hook.events), names[0] if names else f"{event.entity_type}.{event.action}"
    )
    key = db.exec(select(Project.key).where(Project.id == event.project_id)).first() or ""
    body = json.dumps(payload(event, event_type, key, ctx.settings.base_url), separators=(",", ":")).encode()
    msg_id, url, secret, hook_id, event_id = message_id(event.id, hook.id), hook.url, hook.secret, hook.id, event.id
    db.rollback()  # nothing is held open while the receiver answers
    attempt = send(url, body, msg_id, secret, ctx.settings)
    begin_write(db)
    still_on = log_attempt(db, hook_id, event_id, event_type, msg_id, bool(again), attempt)
    commit(db)
    if not attempt.ok and still_on:
        raise DeliveryFailed(attempt.error or f"answered {attempt.status_code}")
