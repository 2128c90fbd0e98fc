"""Pages: a project's webhooks (managers and admins): the list, a new one (its secret shown once), one webhook with
its settings, delivery log, sending a delivery again, a new secret and deleting it."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.core.errors import Conflict, FormError, StaleEdit
from tracker.core.forms import form_version, parse, stale_fields
from tracker.core.web import flash, redirect, render
from tracker.projects import service as projects
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.register.common import as_list
from tracker.webhooks import service
from tracker.webhooks.kinds import DISABLE_AFTER
from tracker.webhooks.models import Webhook

Form = URLEncodedBody[dict[str, Any]]


def _allow_private(request: Request) -> bool:
    return request.app.state.settings.webhooks_allow_private


def _values(data: dict[str, Any]) -> dict[str, Any]:
    """What was posted, as the form shows it again: the event kinds as a list."""
    return data | {"events": as_list(data.get("events"))}


def _state(webhook: Webhook) -> dict[str, Any]:
    return {
        "url": webhook.url,
        "events": list(webhook.events),
        "description": webhook.description,
        "active": webhook.active,
        "version": webhook.version,
    }


class WebhookController(Controller):
    path = "/projects/{key:str}/webhooks"
    include_in_schema = False

    def _access(self, request: Request, db: Session, key: str) -> Access:
        return projects.get_for(db, request.user, key, Perm.MANAGE_WEBHOOKS)

    def _page(
        self,
        request: Request,
        db: Session,
        access: Access,
        webhook: Webhook | None,
        form: dict[str, Any],
        errors: dict[str, str] | None = None,
        status: int = 200,
        **extra: Any,
    ) -> Template:
        """The new webhook's form, or one webhook's page (its form and its log)."""
        return render(
            request,
            "webhooks/detail.html" if webhook else "webhooks/new.html",
            status=status,
            access=access,
            project=access.project,
            webhook=webhook,
            form=form,
            errors=errors or {},
            kinds=service.kinds_help(),
            labels=service.LABELS,
            deliveries=service.deliveries(db, webhook) if webhook else [],
            disable_after=DISABLE_AFTER,
            **extra,
        )

    @get("/", sync_to_thread=True)
    def index(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = self._access(request, db, key)
        hooks = service.list_for(db, access)
        return render(
            request,
            "webhooks/index.html",
            access=access,
            project=access.project,
            webhooks=hooks,
            disable_after=DISABLE_AFTER,
            last=service.last_attempts(db, [w.id for w in hooks]),
        )

    @get("/new", sync_to_thread=True)
    def new(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = self._access(request, db, key)
        return self._page(request, db, access, None, {"url": "", "events": [], "description": "", "active": True})

    @post("/", sync_to_thread=True)
    def create(self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form) -> Template:
        access = self._access(request, db, key)
        try:
            webhook = service.create(
                db, request.user, access, parse(service.WebhookForm, data), _allow_private(request)
            )
        except FormError as exc:
            return self._page(request, db, access, None, _values(data), exc.errors, status=422)
        # Answered here, not after a redirect: the secret is never stored anywhere it could be shown again.
        return render(request, "webhooks/secret.html", access=access, project=access.project, webhook=webhook, new=True)

    @get("/{webhook_id:int}", sync_to_thread=True)
    def detail(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], webhook_id: FromPath[int]
    ) -> Template:
        access = self._access(request, db, key)
        webhook = service.get_for(db, access, webhook_id)
        return self._page(request, db, access, webhook, _state(webhook))

    @post("/{webhook_id:int}", sync_to_thread=True)
    def update(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], webhook_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        access = self._access(request, db, key)
        webhook = service.get_for(db, access, webhook_id)
        try:
            form = parse(service.WebhookForm, data | {"version": form_version(data)})
            service.update_webhook(db, request.user, access, webhook, form, _allow_private(request))
        except StaleEdit as exc:
            stale = stale_fields(exc.current, data)
            values = _values(data) | {"version": webhook.version}
            return self._page(request, db, access, webhook, values, stale=stale, status=409)
        except FormError as exc:
            return self._page(request, db, access, webhook, _values(data), exc.errors, status=422)
        flash(request, "Webhook saved.")
        return redirect(f"/projects/{access.project.key}/webhooks/{webhook.id}")

    @post("/{webhook_id:int}/secret", sync_to_thread=True)
    def rotate_secret(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], webhook_id: FromPath[int], data: Form
    ) -> Template:
        access = self._access(request, db, key)
        webhook = service.get_for(db, access, webhook_id)
        service.rotate_secret(db, request.user, access, webhook, form_version(data))
        return render(
            request, "webhooks/secret.html", access=access, project=access.project, webhook=webhook, new=False
        )

    @post("/{webhook_id:int}/delete", sync_to_thread=True)
    def delete(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], webhook_id: FromPath[int], data: Form
    ) -> Redirect:
        access = self._access(request, db, key)
        webhook = service.get_for(db, access, webhook_id)
        try:
            service.delete(db, request.user, access, webhook, form_version(data))
        except StaleEdit as exc:
            flash(request, exc.detail, "error")
            return redirect(f"/projects/{access.project.key}/webhooks/{webhook_id}")
        flash(request, "Webhook deleted.")
        return redirect(f"/projects/{access.project.key}/webhooks/")

    @post("/{webhook_id:int}/deliveries/{delivery_id:int}/redeliver", sync_to_thread=True)
    def redeliver(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        webhook_id: FromPath[int],
        delivery_id: FromPath[int],
    ) -> Redirect:
        access = self._access(request, db, key)
        webhook = service.get_for(db, access, webhook_id)
        try:
            service.redeliver(db, access, webhook, service.delivery_of(db, webhook, delivery_id))
            flash(request, "Sending it again: the new attempt appears in the log below once it is made.")
        except Conflict as exc:
            flash(request, exc.detail, "error")
        return redirect(f"/projects/{access.project.key}/webhooks/{webhook_id}#deliveries")


handlers = [WebhookController]
