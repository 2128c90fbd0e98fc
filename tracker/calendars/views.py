"""Calendar feeds: the public feed (its token is the credential) and resetting a feed's address."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.calendars import service
from tracker.core.errors import NotFound
from tracker.core.web import flash, redirect, render
from tracker.projects import service as projects

Form = URLEncodedBody[dict[str, Any]]


@get("/calendars/{name:str}", sync_to_thread=True, include_in_schema=False)
def feed(request: Request, db: NamedDependency[Session], name: FromPath[str]) -> Response[bytes]:
    """GET /calendars/<token>.ics: no session, no cookie; calendar apps fetch it on their own schedule."""
    token, dot, extension = name.rpartition(".")
    if not dot or extension != "ics":
        raise NotFound(detail="No such calendar.")
    found = service.find(db, token)
    body = service.feed_ical(db, found, request.app.state.settings.base_url)
    return Response(body, media_type="text/calendar")


def _seen(data: dict[str, Any]) -> int | None:
    try:
        return int(data["version"])
    except (KeyError, TypeError, ValueError):
        return None


def _answer(request: Request, feed: Any, back: str, access: projects.Access | None = None) -> Template | Redirect:
    if request.headers.get("hx-request"):
        url = service.address(request.app.state.settings, feed)
        project = access.project if access else None
        return render(
            request, "calendars/_feed.html", calendar_feed=feed, calendar_url=url, project=project, access=access
        )
    flash(request, "The calendar feed has a new address; the old one no longer works.")
    return redirect(back)


@post("/profile/calendar", sync_to_thread=True, include_in_schema=False)
def reset_mine(request: Request, db: NamedDependency[Session], data: Form) -> Template | Redirect:
    feed = service.reset(db, request.app.state.settings, request.user, None, _seen(data))
    return _answer(request, feed, "/profile#calendar")


@post("/projects/{key:str}/calendar", sync_to_thread=True, include_in_schema=False)
def reset_project(
    request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
) -> Template | Redirect:
    access = projects.get_for(db, request.user, key)
    feed = service.reset(db, request.app.state.settings, request.user, access.project, _seen(data))
    return _answer(request, feed, f"/projects/{access.project.key}#calendar", access)


handlers = [feed, reset_mine, reset_project]
