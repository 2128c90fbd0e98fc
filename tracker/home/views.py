"""My work: what needs the signed-in user now, across their projects."""

from __future__ import annotations

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template
from sqlalchemy import text
from sqlmodel import Session

from tracker.audit import service as audit
from tracker.core.web import render
from tracker.home import service
from tracker.projects import service as projects
from tracker.projects.permissions import Perm, perms_for


@get("/", sync_to_thread=True, include_in_schema=False)
def my_work(request: Request, db: NamedDependency[Session]) -> Template:
    rows = projects.visible_projects(db, request.user)
    # Contractors never see the project-wide trail (it includes the state's internal register).
    history_ids = [r.project.id for r in rows if Perm.VIEW_HISTORY in perms_for(r.role, request.user.is_admin)]
    return render(
        request,
        "home/my_work.html",
        rows=rows,
        activity=audit.recent(db, history_ids, limit=15),
        work=service.kept_work(db, request.user),
    )


@get("/bench/minimal", sync_to_thread=True, include_in_schema=False)
def bench_minimal(request: Request, db: NamedDependency[Session]) -> Template:
    """The load benchmark's ceiling: the whole middleware stack (session, CSRF, auth) and the base layout with one
    trivial query, so every page's figure can be read as a ratio to what the framework alone costs. Served only
    when TRACKER_BENCH_ROUTES is set."""
    return render(request, "home/bench_minimal.html", answer=db.execute(text("SELECT 1")).scalar_one())


handlers = [my_work]
bench_handlers = [bench_minimal]
