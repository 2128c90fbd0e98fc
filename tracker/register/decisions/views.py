"""Pages: a project's decision log (register/pages.py gives the list, the record and its forms), and the merged
log of every decision of the project (decisions/log.py)."""

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
from tracker.projects import service as projects
from tracker.projects.service import Access
from tracker.register import common, pages
from tracker.register.decisions import log
from tracker.register.decisions import service as decisions
from tracker.register.kinds import KINDS


class DecisionPages(pages.RegisterPages):
    path = "/projects/{key:str}/decisions"
    kind = KINDS["decisions"]

    def page_context(self, db: Session, access: Access) -> dict[str, Any]:
        return {"choices": {}}  # no statuses: a decision is taken once

    def list_context(self, db: Session, access: Access) -> dict[str, Any]:
        return {"deliverable_choices": common.deliverable_choices(db, access.project.id)}

    def form_context(self, db: Session, access: Access) -> dict[str, Any]:
        return {"sources": decisions.source_choices(db, access.project.id)}


@get("/projects/{key:str}/decision-log", sync_to_thread=True, include_in_schema=False)
def decision_log(request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
    """Every decision of the project the reader may read, newest first, whichever record it is kept on."""
    access = projects.get_for(db, request.user, key)
    wanted = {k: v for k, v in request.query_params.items() if k in log.LogQuery.model_fields}
    errors, status = {}, 200
    try:
        query = parse(log.LogQuery, wanted)
    except FormError as exc:
        errors, status, query = exc.errors, 422, log.LogQuery()
    sources = log.readable(access)
    return render(
        request,
        "decisions/log.html",
        block="log_results",
        status=status,
        access=access,
        project=access.project,
        query=query,
        form=wanted,
        errors=errors,
        entries=log.entries(db, access.project, sources, query) if not errors else [],
        sources=[(s.value, log.SOURCE_LABELS[s]) for s in sources],
        can_edit=access.can(KINDS["decisions"].edit),
    )


handlers = [DecisionPages, decision_log]
