"""Pages: a project's deliverables timeline and the portfolio's, drawn as inline SVG with their data as tables."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlmodel import Session

from tracker.core.errors import FormError
from tracker.core.forms import parse
from tracker.core.web import render
from tracker.deliverables import timeline
from tracker.deliverables.timeline import RangeForm
from tracker.deliverables.workflow import STATUS_LABELS
from tracker.projects import service as projects
from tracker.projects.permissions import Perm

QUERY = ("from", "to", "range", "status")


def _query(request: Request) -> tuple[RangeForm, dict[str, str], dict[str, str]]:
    """The range asked for, what was typed (kept in the fields) and the errors; a bad range falls back to the
    preset, so the page still shows a timeline beside the message."""
    typed = {k: request.query_params[k] for k in QUERY if request.query_params.get(k)}
    try:
        return parse(RangeForm, typed), typed, {}
    except FormError as exc:
        kept = {k: v for k, v in typed.items() if k in ("range", "status") and k not in exc.errors}
        try:
            return parse(RangeForm, kept), typed, exc.errors
        except FormError:
            return RangeForm(), typed, exc.errors


def _page(request: Request, form: RangeForm, typed: dict[str, str], errors: dict[str, str], **context: Any) -> Template:
    span = context["span"]
    return render(
        request,
        "deliverables/timeline.html",
        status=422 if errors else 200,
        form=form,
        typed=typed,
        errors=errors,
        scale=timeline.Scale(span.start, span.end, timeline.LABEL_WIDTH[context["compact"]]),
        presets=timeline.PRESET_LABELS,
        shows={k: label for k, (label, _) in timeline.SHOWS.items()},
        outcomes=timeline.OUTCOMES,
        status_labels=STATUS_LABELS,
        **context,
    )


@get("/projects/{key:str}/timeline", sync_to_thread=True, include_in_schema=False)
def project_timeline(request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
    access = projects.get_for(db, request.user, key, Perm.VIEW)
    form, typed, errors = _query(request)
    span, band = timeline.for_project(db, access, form)
    return _page(
        request, form, typed, errors, access=access, project=access.project, span=span, bands=[band], compact=False
    )


@get("/portfolio/timeline", sync_to_thread=True, include_in_schema=False)
def portfolio_timeline(request: Request, db: NamedDependency[Session]) -> Template:
    form, typed, errors = _query(request)
    span, bands = timeline.for_portfolio(db, request.user, form)
    return _page(request, form, typed, errors, project=None, span=span, bands=bands, compact=True)


handlers = [project_timeline, portfolio_timeline]
