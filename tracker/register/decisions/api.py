"""JSON API for the decision log: a project's list, create, read and change (register/api.py), and the merged log
of every decision of the project (decisions/log.py)."""

from __future__ import annotations

from datetime import date

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from pydantic import BaseModel
from sqlmodel import Session

from tracker.core.forms import parse
from tracker.projects import service as projects
from tracker.register import api as register_api
from tracker.register.decisions import log
from tracker.register.kinds import KINDS


class DecisionOut(register_api.Recorded):
    id: int
    code: str
    title: str
    context: str
    options: str
    decided_by: str
    decided_by_id: int | None
    decided_by_name: str | None
    decided_on: date
    issue_id: int | None
    issue_code: str | None
    risk_id: int | None
    risk_code: str | None
    change_id: int | None
    change_code: str | None
    meeting_id: int | None


# What the API's readers are told about the decision's fields; the fields themselves are the form's (register/api.py).
HELP = {
    "code": "Blank: the next free D-###",
    "title": "The decision, in one line",
    "context": "Why a decision was needed",
    "options": "The options considered",
    "decided_by": "A person or a body, e.g. Steering committee (or give decided_by_id)",
    "decided_by_id": "The member who decided, if one did",
    "decided_on": "Today or earlier; blank: today",
    "issue_id": "The issue it came from (an issue of the project)",
    "risk_id": "The risk it came from",
    "change_id": "The change request it came from",
}
LIST_HELP = """`since` and `until` are days (YYYY-MM-DD) the decision was taken on or after, on or before; `deliverable`
is a deliverable's id; `owner` the member who decided; `q` searches code, decision, context, options and decided by;
`sort` is decided or code, with `-` for descending."""

ProjectDecisions, OneDecision = register_api.controllers(KINDS["decisions"], DecisionOut, HELP, LIST_HELP)


class LogEntryOut(BaseModel):
    day: date
    source: log.Source
    source_label: str
    code: str
    title: str
    path: str
    outcome: str
    detail: str
    decided_by: str


class DecisionLogApi(Controller):
    path = "/api/v1/projects/{key:str}/decision-log"
    tags = ["decisions"]

    @get(
        "/",
        sync_to_thread=True,
        summary="Every decision of the project, newest first: the decision log, deliverables, change requests, issues",
        description="`source` is decision, deliverable, change or issue; `since` and `until` are days; `q` words. "
        "Only the sources the caller may read are listed.",
    )
    def decision_log(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> list[LogEntryOut]:
        access = projects.get_for(db, request.user, key)
        query = parse(log.LogQuery, {k: v for k, v in request.query_params.items() if k in log.LogQuery.model_fields})
        return [LogEntryOut(**e.as_json()) for e in log.for_reader(db, access, query)]


handlers = [ProjectDecisions, OneDecision, DecisionLogApi]
