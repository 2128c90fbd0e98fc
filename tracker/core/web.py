"""Rendering: the template environment, full page or one htmx block, flash messages, redirects, and how every
timestamp and date reads.

Times and dates: show_datetime and show_date are the one place a moment or a day becomes text for people (pages,
mails, exports meant for reading; machine formats such as CSV/ICS/API values and <time datetime> stay ISO). They
read the viewer — their time zone preference and date format — from a context variable, `_viewer`, rather than
from every render call: accounts.auth's middleware sets it per request from the signed-in user, mail sets it to
the recipient while it renders a message (`viewing`), and documents stored once for everyone (letters, report
snapshots) are written `as_document()`, as nobody in particular. The zone rule is `display_zone`: the viewer's own
zone when they chose one, else the project's zone on a project's pages (templates pass it from their `project`),
else UTC."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

from jinja2 import Environment, FileSystemLoader, nodes, pass_context, select_autoescape
from jinja2.ext import Extension
from jinja2.parser import Parser
from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Request
from litestar.response import Redirect, Template
from markupsafe import Markup

from tracker.core import memo
from tracker.core.assets import asset
from tracker.core.clock import as_utc
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


# key -> (pattern, the same without the year, an example people choose from); the first is the default.
DATE_FORMATS = {
    "d_mon_y": ("%-d %b %Y", "%-d %b", "6 Dec 2026"),
    "mon_d_y": ("%b %-d, %Y", "%b %-d", "Dec 6, 2026"),
    "iso": ("%Y-%m-%d", "%m-%d", "2026-12-06"),
    "dd_mm_yyyy": ("%d/%m/%Y", "%d/%m", "06/12/2026"),
}
DEFAULT_DATE_FORMAT = next(iter(DATE_FORMATS))
ALL_ZONES = sorted(available_timezones() - {"localtime", "Factory"})
COMMON_ZONES = [  # offered first on the profile; any IANA name is accepted
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Anchorage",
    "Pacific/Honolulu",
    "Europe/London",
    "Europe/Paris",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
]


@dataclass(frozen=True)
class Viewer:
    zone: str = ""  # "": no preference
    date_format: str = DEFAULT_DATE_FORMAT


NOBODY = Viewer()
_viewer: ContextVar[Viewer] = ContextVar("viewer", default=NOBODY)


def set_viewer(zone: str | None, date_format: str | None) -> None:
    """For the rest of this request (the middleware calls it once it knows who signed in)."""
    _viewer.set(Viewer(zone or "", date_format if date_format in DATE_FORMATS else DEFAULT_DATE_FORMAT))


@contextlib.contextmanager
def viewing(zone: str | None = None, date_format: str | None = None) -> Iterator[None]:
    """Inside, times and dates read as `zone` and `date_format` would have them (None: no preference, the default
    format): a mail for its recipient, a stored document for everyone."""
    token = _viewer.set(Viewer(zone or "", date_format if date_format in DATE_FORMATS else DEFAULT_DATE_FORMAT))
    try:
        yield
    finally:
        _viewer.reset(token)


def as_document() -> contextlib.AbstractContextManager[None]:
    return viewing(None, None)


def zone_for(own: str | None, project_zone: str | None = None) -> str:
    """The rule, for anyone: their own zone (their profile's), else the project's (on its pages), else UTC."""
    return own or project_zone or "UTC"


def display_zone(project_zone: str | None = None) -> str:
    """The rule for the viewer: their own zone, else the project's (on its pages), else UTC."""
    return zone_for(_viewer.get().zone, project_zone)


def _in_zone(value: datetime, zone: str | None) -> datetime:
    return as_utc(value).astimezone(ZoneInfo(display_zone(zone)))


def show_date(
    value: date | datetime | None, zone: str | None = None, *, weekday: bool = False, short: bool = False
) -> str:
    """A day in the viewer's format ("6 Dec 2026"); a moment is first moved into the zone `display_zone` picks.
    weekday: "Fri 4 Dec 2026"; short: without the year."""
    if value is None:
        return "—"
    return _day(_in_zone(value, zone) if isinstance(value, datetime) else value, weekday, short)


def _day(value: date, weekday: bool = False, short: bool = False) -> str:
    full, no_year, _ = DATE_FORMATS[_viewer.get().date_format]
    return value.strftime(("%a " if weekday else "") + (no_year if short else full))


def show_month(value: date | None, short: bool = False) -> str:
    """A month ("December 2026", short "Dec 2026"; "2026-12" where the viewer reads ISO dates)."""
    if value is None:
        return "—"
    if _viewer.get().date_format == "iso":
        return f"{value:%Y-%m}"
    return value.strftime("%b %Y" if short else "%B %Y")


def show_datetime(value: datetime | None, zone: str | None = None) -> str:
    """A moment in the viewer's zone and format, naming the zone: "6 Dec 2026 14:05 PST"."""
    if value is None:
        return "—"
    at = _in_zone(value, zone)
    return f"{_day(at)} {at:%H:%M %Z}"


def _page_zone(context: Any) -> str | None:
    return getattr(context.get("project"), "timezone", None)


@pass_context
def _date_filter(context: Any, value: date | datetime | None, *, weekday: bool = False, short: bool = False) -> str:
    return show_date(value, _page_zone(context), weekday=weekday, short=short)


@pass_context
def _datetime_filter(context: Any, value: datetime | None) -> str:
    return show_datetime(value, _page_zone(context))


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


class Kept(Extension):
    """`{% kept key, part, … %}…{% endkept %}`: the enclosed markup rendered once and kept (tracker.core.memo) under
    the key, the parts and the viewer (their zone and date format), for pages whose drawing costs more than their
    figures. `key` is the memo key of the figures the markup is drawn from (it names their data versions); the parts
    name everything else the markup reads (None: drawn every time). A figure's key changes when its data does, so
    the markup is never stale; what the markup reads beyond its figures must be among the parts."""

    tags = {"kept"}

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        key = parser.parse_expression()
        parts = []
        while parser.stream.skip_if("comma"):
            parts.append(parser.parse_expression())
        body = parser.parse_statements(("name:endkept",), drop_needle=True)
        call = self.call_method("_kept", [key, nodes.List(parts)])
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    @staticmethod
    def _kept(key: Any, parts: list[Any], caller: Callable[[], str]) -> Markup:
        if key is None:
            return Markup(caller())
        return memo.kept(("markup", key, tuple(parts), _viewer.get()), lambda: Markup(caller()))


def make_environment(
    filters: dict[str, Callable[..., Any]] | None = None,
    template_globals: dict[str, Any] | None = None,
    reload: bool = False,
) -> Environment:
    """The templates' environment with core's filters. A domain's own filters and globals come from whoever renders
    with them (the app passes every domain's), so core imports no domain. `reload`: look for edited templates at
    every render (a developer's server), not only once (every template read checks its file's time otherwise)."""
    env = Environment(
        loader=FileSystemLoader(ROOT / "templates"),
        auto_reload=reload,
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.do", Kept],
    )
    env.filters.update(
        {
            "date": _date_filter,
            "datetime": _datetime_filter,
            "month": show_month,
            "label": label,
            "money": money,
            **(filters or {}),
        }
    )
    # `is day`: a calendar day, not a moment (a datetime is a date too, to Python)
    env.tests["day"] = lambda v: isinstance(v, date) and not isinstance(v, datetime)
    env.globals.update({"CSRF_HEADER": CSRF_HEADER, "asset": asset, **(template_globals or {})})
    return env
