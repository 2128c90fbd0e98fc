"""Pages: a project's deliverables list and each deliverable's record."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlmodel import Session, col, select

from tracker.accounts.models import User
from tracker.audit import service as audit
from tracker.core import exports
from tracker.core.forms import parse
from tracker.core.web import render
from tracker.deliverables import service
from tracker.deliverables.models import Decision, DeliverableType
from tracker.deliverables.service import ListQuery
from tracker.deliverables.workflow import ACTION_LABELS, STATUS_LABELS, Status, actions_for
from tracker.projects import service as projects
from tracker.projects.permissions import Perm

TYPE_LABELS = {t.value: t.value.replace("_", " ").capitalize() for t in DeliverableType}


class DeliverablePages(Controller):
    path = "/projects/{key:str}/deliverables"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def index(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = projects.get_for(db, request.user, key)
        raw = {k: v for k, v in request.query_params.items() if v not in ("", None)}
        query = parse(ListQuery, raw)
        rows, total = service.list_page(db, access, query)
        pages = max(1, math.ceil(total / service.PAGE_SIZE))
        base = {k: v for k, v in raw.items() if k != "page"}
        return render(request, "deliverables/index.html", block="deliverable_table", access=access,
                      project=access.project, rows=rows, total=total, query=query, page=query.page, pages=pages,
                      base_url=f"/projects/{access.project.key}/deliverables?{urlencode(base)}",
                      sort_base={k: v for k, v in base.items() if k != "sort"},
                      owners=service.reviewers_and_owners(db, access.project.id),
                      status_labels=STATUS_LABELS, type_labels=TYPE_LABELS)  # fmt: skip

    @get("/{deliverable_id:int}", sync_to_thread=True)
    def detail(self, request: Request, db: NamedDependency[Session], key: FromPath[str],
               deliverable_id: FromPath[int]) -> Template:  # fmt: skip
        access = projects.get_for(db, request.user, key)
        d = service.get_for(db, access, deliverable_id)
        submissions = service.submissions_of(db, d.id)
        decisions = list(db.exec(select(Decision).where(Decision.deliverable_id == d.id)
                                 .order_by(col(Decision.id).desc())))  # fmt: skip
        blockers = service.acceptance_blockers(db, d) if d.status == Status.IN_REVIEW else []
        history = audit.for_entity(db, "deliverable", d.id, limit=50) if access.can(Perm.VIEW_HISTORY) else []
        owner = db.get(User, d.owner_id) if d.owner_id else None
        return render(request, "deliverables/detail.html", access=access, project=access.project, d=d, owner=owner,
                      criteria=service.active_criteria(db, d.id), submissions=submissions,
                      comments=service.current_comments(db, d),
                      decisions=decisions, blockers=blockers, history=history,
                      actions=[ACTION_LABELS[a] for a in actions_for(d.status, access.perms)],
                      clock=service.running_clock(d), today=service.project_today(access.project),
                      status_labels=STATUS_LABELS, type_labels=TYPE_LABELS)  # fmt: skip

    @get("/{deliverable_id:int}/comments.csv", sync_to_thread=True)
    def comments_csv(self, request: Request, db: NamedDependency[Session], key: FromPath[str],
                     deliverable_id: FromPath[int]) -> Response:  # fmt: skip
        return _export_comments(request, db, key, deliverable_id, "csv")

    @get("/{deliverable_id:int}/comments.xlsx", sync_to_thread=True)
    def comments_xlsx(self, request: Request, db: NamedDependency[Session], key: FromPath[str],
                      deliverable_id: FromPath[int]) -> Response:  # fmt: skip
        return _export_comments(request, db, key, deliverable_id, "xlsx")


def _export_comments(request: Request, db: Session, key: str, deliverable_id: int, fmt: str) -> Response:
    """The comment log in the form contractors and states exchange: every version, oldest first."""
    access = projects.get_for(db, request.user, key)
    d = service.get_for(db, access, deliverable_id)
    headers, rows = service.comment_log(db, d)
    name = f"{access.project.key}-{d.code}-comments.{fmt}"
    if fmt == "csv":
        body, media = exports.to_csv(headers, rows), "text/csv; charset=utf-8"
    else:
        body = exports.to_xlsx(headers, rows, title=f"{d.code} comments")
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, media_type=media, headers={"content-disposition": f'attachment; filename="{name}"'})

handlers = [DeliverablePages]
