"""Rendering: the template environment, full page or one htmx block, flash messages, redirects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Request
from litestar.response import Redirect, Template

from tracker.core.security import CSRF_HEADER
from tracker.settings import ROOT


def render(
    request: Request,
    template: str,
    *,
    block: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    """The whole page, or only `block` when htmx asked for it."""
    if block and request.headers.get("hx-request") and not request.headers.get("hx-boosted"):
        return HTMXBlockTemplate(
            template_name=template, block_name=block, context=context, status_code=status, headers=headers
        )
    return Template(template_name=template, context=context, status_code=status, headers=headers)


def label(value: str | None) -> str:
    """An enum value as words: "contractor_performance" -> "Contractor performance"."""
    return str(value).replace("_", " ").capitalize() if value else "—"


def options(values: list[str], suffix: str = "") -> list[tuple[str, str]]:
    """(value, label) pairs for a select."""
    return [(v, label(v) + suffix) for v in values]


def show_date(value: date | datetime | None, fmt: str = "%b %-d, %Y") -> str:
    """A date as every page shows it: "Mar 11, 2026"."""
    return value.strftime(fmt) if value else "—"


def show_datetime(value: datetime | None) -> str:
    return value.strftime("%b %-d, %Y %H:%M UTC") if value else "—"


def money(value: Decimal | str | None) -> str:
    """$1,250.50, or -$300.00 for a saving."""
    if value in (None, ""):
        return "—"
    amount = Decimal(value)
    return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"


def flash(request: Request, message: str, category: str = "success") -> None:
    request.session.setdefault("_flash", []).append({"message": message, "category": category})


def get_flashes(context: dict[str, Any]) -> list[dict[str, str]]:
    session = context["request"].scope.get("session")
    if not isinstance(session, dict) or not session:  # none, or cleared in this request
        return []
    return session.pop("_flash", [])


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths, so ?next= cannot send a user elsewhere."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def redirect(path: str) -> Redirect:
    return Redirect(path=path, status_code=303)


def make_environment(
    filters: dict[str, Callable[..., Any]] | None = None, template_globals: dict[str, Any] | None = None
) -> Environment:
    """The templates' environment with core's filters. A domain's own filters and globals come from whoever renders
    with them (the app passes every domain's), so core imports no domain."""
    env = Environment(
        loader=FileSystemLoader(ROOT / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.do"],
    )
    env.filters.update(
        {"date": show_date, "datetime": show_datetime, "label": label, "money": money, **(filters or {})}
    )
    env.globals.update({"CSRF_HEADER": CSRF_HEADER, **(template_globals or {})})
    return env
