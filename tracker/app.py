"""create_app(settings): the Litestar application with its controllers, middleware and templates."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar, get
from litestar.config.csrf import CSRFConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.htmx import HTMXPlugin
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from tracker.accounts import api as accounts_api
from tracker.accounts import views as accounts_views
from tracker.accounts.auth import PUBLIC_PATHS, AuthMiddleware
from tracker.audit import service as audit
from tracker.core import db as dbmod
from tracker.core.errors import handle_exception
from tracker.core.security import TokenAwareCSRFMiddleware, security_headers_middleware
from tracker.core.web import get_flashes
from tracker.deliverables import api as deliverables_api
from tracker.deliverables import views as deliverables_views
from tracker.home import views as home_views
from tracker.projects import api as projects_api
from tracker.projects import views as projects_views
from tracker.projects.models import ROLE_LABELS
from tracker.settings import ROOT, Settings, get_settings

CSRF_COOKIE = "tracker_csrf"
CSRF_HEADER = "x-csrftoken"


def _current_user(context: dict[str, Any]) -> Any:
    return context["request"].scope.get("user")


def _date(value: date | datetime | None, fmt: str = "%b %-d, %Y") -> str:
    return value.strftime(fmt) if value else "—"


def _datetime(value: datetime | None) -> str:
    return value.strftime("%b %-d, %Y %H:%M UTC") if value else "—"


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(ROOT / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.do"],
    )
    env.filters["date"] = _date
    env.filters["datetime"] = _datetime
    env.filters["audit_describe"] = audit.describe
    env.filters["audit_value"] = audit.show_value
    env.globals["ROLE_LABELS"] = ROLE_LABELS
    env.globals["CSRF_HEADER"] = CSRF_HEADER
    return env


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

    template_config = TemplateConfig(
        engine=JinjaTemplateEngine.from_environment(make_environment()),
        engine_callback=engine_callback,
    )
    session_config = CookieBackendConfig(
        secret=settings.derived_key("session"),
        key="tracker_session",
        max_age=settings.session_max_age,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        exclude=["^/static/", "^/vendor/", "^/healthz"],
    )
    csrf_config = CSRFConfig(
        secret=settings.derived_key("csrf").hex(),
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_httponly=True,
        cookie_secure=settings.secure_cookies,
        cookie_samesite="lax",
        exclude=["^/static/", "^/vendor/", "^/healthz"],
    )
    node_modules = ROOT / "node_modules"
    static = create_static_files_router(path="/static", directories=[ROOT / "static"], name="static",
                                        include_in_schema=False)  # fmt: skip
    vendor = create_static_files_router(
        path="/vendor",
        directories=[node_modules / "htmx.org" / "dist", node_modules / "@picocss" / "pico" / "css"],
        name="vendor",
        include_in_schema=False,
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

    def on_shutdown() -> None:
        if engine is not None:
            engine.dispose()

    return Litestar(
        route_handlers=[
            healthz,
            static,
            vendor,
            *accounts_views.handlers,
            *home_views.handlers,
            *projects_views.handlers,
            *deliverables_views.handlers,
            accounts_api.MeController,
            projects_api.ProjectApi,
            deliverables_api.ProjectDeliverablesApi,
            deliverables_api.DeliverableApi,
        ],
        dependencies={"db": Provide(dbmod.provide_db)},
        middleware=[
            security_headers_middleware,
            session_config.middleware,
            DefineMiddleware(TokenAwareCSRFMiddleware, config=csrf_config),
            DefineMiddleware(AuthMiddleware, exclude=PUBLIC_PATHS),
        ],
        exception_handlers={Exception: handle_exception},
        template_config=template_config,
        plugins=[HTMXPlugin()],
        openapi_config=openapi,
        state=State({"settings": settings, "session_factory": session_factory}),
        request_max_body_size=settings.max_upload_mb * 1024 * 1024 + 1024 * 1024,
        on_shutdown=[on_shutdown],
        debug=settings.debug,
    )


def app_factory() -> Litestar:
    """Entry point for uvicorn --factory (several workers each build their own app)."""
    return create_app()


