"""JSON API for a project's webhooks: list and create under the project, read, change and delete by id, a new
secret, the delivery log and sending a delivery again."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from pydantic import BaseModel, Field
from sqlmodel import Session

from tracker.core.forms import ApiBody, ExpectedVersion, parse
from tracker.projects import service as projects
from tracker.projects.permissions import Perm
from tracker.webhooks import service
from tracker.webhooks.kinds import NAMES
from tracker.webhooks.models import Webhook, WebhookDelivery

EVENTS_HELP = "Event kinds, any of: " + ", ".join(NAMES)


class WebhookIn(ApiBody):
    url: str = Field(description="http(s) URL of a public address", examples=["https://example.com/hooks/tracker"])
    events: list[str] = Field(description=EVENTS_HELP, examples=[["deliverable.submitted", "deliverable.decided"]])
    description: str = ""
    active: bool = True


class WebhookPatch(ApiBody):
    """Only the fields sent change; `version` is the one you read (409 when someone saved since)."""

    url: str | None = None
    events: list[str] | None = None
    description: str | None = None
    active: bool | None = None
    version: int


class WebhookOut(BaseModel):
    id: int
    project: str
    url: str
    events: list[str]
    description: str
    active: bool
    consecutive_failures: int
    disabled_at: datetime | None = Field(description="When repeated failures turned it off")
    created_at: datetime
    updated_at: datetime
    version: int


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret (Standard Webhooks): shown now, never again")


class SecretOut(BaseModel):
    secret: str = Field(description="The new signing secret: shown now, never again; the old one no longer signs")
    version: int


class DeliveryOut(BaseModel):
    id: int
    event_id: int
    event_type: str
    message_id: str = Field(description="The webhook-id header, the same on every attempt at one event")
    redelivery: bool
    ok: bool
    status_code: int | None
    response: str
    error: str
    duration_ms: int
    at: datetime


class Redelivery(BaseModel):
    detail: str


def _out(webhook: Webhook, key: str) -> WebhookOut:
    return WebhookOut(**webhook.model_dump(exclude={"project_id", "secret", "created_by"}), project=key)


def _delivery(d: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(**d.model_dump(exclude={"webhook_id"}))


def _allow_private(request: Request) -> bool:
    return request.app.state.settings.webhooks_allow_private


class ProjectWebhooksApi(Controller):
    path = "/api/v1/projects/{key:str}/webhooks"
    tags = ["webhooks"]

    @get("/", sync_to_thread=True, summary="The project's webhooks (managers and admins)")
    def list_webhooks(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> list[WebhookOut]:
        access = projects.get_for(db, request.user, key, Perm.MANAGE_WEBHOOKS)
        return [_out(w, access.project.key) for w in service.list_for(db, access)]

    @post("/", sync_to_thread=True, summary="Subscribe a URL to event kinds; the answer holds its secret, once")
    def create_webhook(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: JSONBody[WebhookIn]
    ) -> WebhookCreated:
        access = projects.get_for(db, request.user, key, Perm.MANAGE_WEBHOOKS)
        form = parse(service.WebhookForm, data.model_dump())
        webhook = service.create(db, request.user, access, form, _allow_private(request))
        return WebhookCreated(**_out(webhook, access.project.key).model_dump(), secret=webhook.secret)


class WebhookApi(Controller):
    path = "/api/v1/webhooks/{webhook_id:int}"
    tags = ["webhooks"]

    @get("/", sync_to_thread=True, summary="One webhook (never its secret)")
    def get_webhook(self, request: Request, db: NamedDependency[Session], webhook_id: FromPath[int]) -> WebhookOut:
        access, webhook = service.load_for(db, request.user, webhook_id)
        return _out(webhook, access.project.key)

    @patch("/", sync_to_thread=True, summary="Change a webhook (send the version you read)")
    def patch_webhook(
        self, request: Request, db: NamedDependency[Session], webhook_id: FromPath[int], data: JSONBody[WebhookPatch]
    ) -> WebhookOut:
        access, webhook = service.load_for(db, request.user, webhook_id)
        current = {k: getattr(webhook, k) for k in ("url", "events", "description", "active")}
        form = parse(service.WebhookForm, current | data.model_dump(exclude_unset=True))
        service.update_webhook(db, request.user, access, webhook, form, _allow_private(request))
        return _out(webhook, access.project.key)

    @delete("/", sync_to_thread=True, summary="Delete a webhook and its log (send the version you read as ?version=)")
    def delete_webhook(
        self, request: Request, db: NamedDependency[Session], webhook_id: FromPath[int], version: ExpectedVersion
    ) -> None:
        access, webhook = service.load_for(db, request.user, webhook_id)
        service.delete(db, request.user, access, webhook, version)

    @post("/secret", sync_to_thread=True, status_code=200, summary="A new secret in place of the old one, shown once")
    def rotate_secret(
        self, request: Request, db: NamedDependency[Session], webhook_id: FromPath[int], version: ExpectedVersion
    ) -> SecretOut:
        access, webhook = service.load_for(db, request.user, webhook_id)
        secret = service.rotate_secret(db, request.user, access, webhook, version)
        db.flush()
        return SecretOut(secret=secret, version=webhook.version)

    @get("/deliveries", sync_to_thread=True, summary="The delivery log, newest first")
    def deliveries(
        self,
        request: Request,
        db: NamedDependency[Session],
        webhook_id: FromPath[int],
        limit: FromQuery[int] = service.LOG_PAGE,
        offset: FromQuery[int] = 0,
    ) -> list[DeliveryOut]:
        _, webhook = service.load_for(db, request.user, webhook_id)
        rows = service.deliveries(db, webhook, min(max(limit, 1), 500), max(offset, 0))
        return [_delivery(d) for d in rows]

    @post(
        "/deliveries/{delivery_id:int}/redeliver",
        sync_to_thread=True,
        status_code=202,
        summary="Send a delivery's event again: a new attempt, made by the dispatcher once this is answered",
    )
    def redeliver(
        self, request: Request, db: NamedDependency[Session], webhook_id: FromPath[int], delivery_id: FromPath[int]
    ) -> Redelivery:
        access, webhook = service.load_for(db, request.user, webhook_id)
        service.redeliver(db, access, webhook, service.delivery_of(db, webhook, delivery_id))
        return Redelivery(detail="Queued: the new attempt appears in the log once it is made.")


handlers = [ProjectWebhooksApi, WebhookApi]
