"""create_app(settings): the Litestar application with its controllers, middleware and templates."""

from __future__ import annotations

import gc
import logging
from typing import Any

from litestar import Litestar, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

import tracker.domains  # noqa: F401  each domain tells the audit trail its wording as it is imported
from tracker.accounts import api as accounts_api
from tracker.accounts import mfa_views, security_views
from tracker.accounts import views as accounts_views
from tracker.accounts.auth import PUBLIC_PATHS, AuthMiddleware
from tracker.audit import history
from tracker.calendars import views as calendars_views
from tracker.core import assets
from tracker.core import db as dbmod
from tracker.core.errors import ClosedBodiesSchemaPlugin, document_api_errors, handle_exception
from tracker.core.security import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    SessionConfig,
    TokenAwareCSRFMiddleware,
    request_limits_middleware,
    security_headers_middleware,
)
from tracker.core.web import get_flashes, make_environment
from tracker.deliverables import api as deliverables_api
from tracker.deliverables import records as deliverables_records
from tracker.deliverables import timeline_views
from tracker.deliverables import views as deliverables_views
from tracker.home import api as home_api
from tracker.home import views as home_views
from tracker.library import api as library_api
from tracker.library import views as library_views
from tracker.mail import views as mail_views
from tracker.projects import api as projects_api
from tracker.projects import invitation_views
from tracker.projects import views as projects_views
from tracker.projects.models import ROLE_LABELS
from tracker.register.actions import api as actions_api
from tracker.register.actions import views as actions_views
from tracker.register.attachments import api as attachments_api
from tracker.register.changes import api as changes_api
from tracker.register.changes import views as changes_views
from tracker.register.custom import api as custom_api
from tracker.register.custom import views as custom_views
from tracker.register.decisions import api as decisions_api
from tracker.register.decisions import views as decisions_views
from tracker.register.issues import api as issues_api
from tracker.register.issues import views as issues_views
from tracker.register.lessons import api as lessons_api
from tracker.register.lessons import views as lessons_views
from tracker.register.meetings import api as meetings_api
from tracker.register.meetings import views as meetings_views
from tracker.register.risks import api as risks_api
from tracker.register.risks import views as risks_views
from tracker.reports import api as reports_api
from tracker.reports import documents as report_documents
from tracker.reports import views as reports_views
from tracker.search import views as search_views
from tracker.settings import Settings, get_settings
from tracker.sso import views as sso_views
from tracker.transfer import api as transfer_api
from tracker.transfer import views as transfer_views
from tracker.webhooks import api as webhooks_api
from tracker.webhooks import views as webhooks_views


def _current_user(context: dict[str, Any]) -> Any:
    return context["request"].scope.get("user")


@get("/healthz", include_in_schema=False, sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_app(settings: Settings | None = None, session_factory: dbmod.SessionFactory | None = None) -> Litestar:
    settings = settings or get_settings()
    logging.basicConfig(level=logging.INFO if settings.env != "test" else logging.WARNING)
    engine = None
    if session_factory is None:
        engine = dbmod.make_engine(settings.database_url)
        session_factory = dbmod.session_factory_for(engine)

    def engine_callback(engine_: JinjaTemplateEngine) -> None:
        engine_.register_template_callable("current_user", _current_user)
        engine_.register_template_callable("get_flashes", get_flashes)
        engine_.register_template_callable("menu_offers", reports_views.menu_offers)

    template_config = TemplateConfig(
        engine=JinjaTemplateEngine.from_environment(
            make_environment(
                {**report_documents.FILTERS, "audit_describe": history.describe, "audit_lines": history.lines},
                {"ROLE_LABELS": ROLE_LABELS},
                reload=settings.env == "dev",
            )
        ),
        engine_callback=engine_callback,
    )
    session_config = SessionConfig(
        secret=settings.derived_key("session"),
        key=SESSION_COOKIE,
        max_age=settings.session_max_age,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        exclude=["^/static/", "^/vendor/", "^/healthz", "^/calendars/"],
    )
    csrf_config = CSRFConfig(
        secret=settings.derived_key("csrf").hex(),
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_httponly=True,
        cookie_secure=settings.secure_cookies,
        cookie_samesite="lax",
        # one-click unsubscribe (RFC 8058): a mail client POSTs it with no page and no cookie; the link is signed.
        # A calendar feed is read by calendar apps with no session at all.
        exclude=["^/static/", "^/vendor/", "^/healthz", "^/mail/unsubscribe/", "^/calendars/"],
    )
    openapi = OpenAPIConfig(
        title="Tracker API",
        version="1.0.0",
        description="Deliverable acceptance, risk and issue register, status reports. "
        "Authenticate with `Authorization: Bearer <token>` (create tokens on your profile page).",
        path="/schema",
        render_plugins=[SwaggerRenderPlugin()],
        components=Components(
            security_schemes={"BearerToken": SecurityScheme(type="http", scheme="bearer", description="API token")}
        ),
        security=[{"BearerToken": []}],
    )

    def on_startup() -> None:
        deliverables_records.warm()

    def on_shutdown() -> None:
        if engine is not None:
            engine.dispose()

    app = Litestar(
        route_handlers=[
            healthz,
            *assets.routers(),
            *accounts_views.handlers,
            *mfa_views.handlers,
            *security_views.handlers,
            *sso_views.handlers,
            *home_views.handlers,
            *(home_views.bench_handlers if settings.bench_routes else []),
            *projects_views.handlers,
            *invitation_views.handlers,
            *deliverables_views.handlers,
            *timeline_views.handlers,
            *risks_views.handlers,
            *issues_views.handlers,
            *changes_views.handlers,
            *lessons_views.handlers,
            *meetings_views.handlers,
            *decisions_views.handlers,
            *custom_views.handlers,
            *actions_views.handlers,
            *transfer_views.handlers,
            *library_views.handlers,
            *mail_views.handlers,
            *reports_views.handlers,
            *webhooks_views.handlers,
            *calendars_views.handlers,
            *search_views.handlers,
            accounts_api.MeController,
            home_api.MyWorkApi,
            projects_api.ProjectApi,
            deliverables_api.ProjectDeliverablesApi,
            deliverables_api.DeliverableApi,
            deliverables_api.HoldbackApi,
            *risks_api.handlers,
            *issues_api.handlers,
            *changes_api.handlers,
            *attachments_api.handlers,
            *lessons_api.handlers,
            *meetings_api.handlers,
            *decisions_api.handlers,
            *custom_api.handlers,
            actions_api.ActionApi,
            actions_api.RiskActionsApi,
            actions_api.IssueActionsApi,
            *transfer_api.handlers,
            *library_api.handlers,
            reports_api.ProjectReportsApi,
            reports_api.ReportApi,
            reports_api.PortfolioApi,
            *webhooks_api.handlers,
        ],
        dependencies={"db": Provide(dbmod.provide_db)},
        middleware=[
            security_headers_middleware,
            request_limits_middleware,
            session_config.middleware,
            DefineMiddleware(TokenAwareCSRFMiddleware, config=csrf_config),
            DefineMiddleware(AuthMiddleware, exclude=PUBLIC_PATHS),
        ],
        exception_handlers={Exception: handle_exception},
        template_config=template_config,
        plugins=[ClosedBodiesSchemaPlugin(), HTMXPlugin()],
        openapi_config=openapi,
        state=State({"settings": settings, "session_factory": session_factory}),
        request_max_body_size=settings.max_upload_mb * 1024 * 1024 + 1024 * 1024,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        debug=settings.debug,
    )
    document_api_errors(app)
    return app


def app_factory() -> Litestar:
    """Entry point for uvicorn --factory (several workers each build their own app). No app runs the dispatcher (side
    effects, contract clocks): `tracker serve` runs it once, in its own process. The objects built at start-up
    live as long as the worker: frozen out of the garbage collector, so its full passes during a large page only
    walk what requests allocate (shorter pauses at p99)."""
    app = create_app()
    gc.collect()
    gc.freeze()
    return app
