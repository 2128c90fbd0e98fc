"""JSON API for the issue register: list, create, read, change, the decision log, and converting a realized risk
into an issue."""

from __future__ import annotations

from datetime import date, datetime

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from tracker.core.forms import ApiBody, parse
from tracker.projects import service as projects
from tracker.projects.permissions import Perm
from tracker.register import api as register_api
from tracker.register.issues import service as issues
from tracker.register.issues.models import EscalationLevel, IssueStatus, Priority
from tracker.register.issues.service import DecisionForm
from tracker.register.kinds import KINDS
from tracker.register.risks import service as risks


class IssueOut(BaseModel):
    id: int
    code: str
    title: str
    description: str
    impact: str
    priority: Priority
    owner_id: int | None
    owner_name: str | None
    need_by: date | None
    status: IssueStatus
    escalation_level: EscalationLevel
    escalation_reason: str
    resolution: str
    raised_on: date
    resolved_on: date | None
    age_days: int
    overdue: bool
    needs_escalation: bool = Field(description="Unresolved longer than the project allows for its priority")
    open_actions: int
    risk_id: int | None
    risk_code: str | None
    deliverable_ids: list[int]
    deliverable_codes: list[str]
    updated_at: datetime
    version: int


# What the API's readers are told about the issue's fields; the fields themselves are the form's (register/api.py).
HELP = {
    "code": "Blank: the next free I-###",
    "need_by": "Not before the day it was raised",
    "resolution": "Required to resolve or close",
    "raised_on": "Today or earlier; blank: today",
}
LIST_HELP = """`status` is a status or `unresolved`; `escalation=true` lists issues flagged for escalation; `sort` is
priority, age, due or code, with `-` for descending."""

# resolved_on is the spreadsheet import's, for issues resolved before they were recorded here
ProjectIssues, OneIssue = register_api.controllers(
    KINDS["issues"], IssueOut, HELP, LIST_HELP, leave_out=("resolved_on",)
)


class DecisionIn(ApiBody):
    labels = issues.LABELS
    decided_on: date | None = Field(default=None, description="Blank: today")
    decision: str = Field(max_length=4000)
    decided_by: str = Field(max_length=200, examples=["Steering committee"])
    rationale: str = Field(default="", max_length=4000)


class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    decided_on: date
    decision: str
    decided_by: str
    rationale: str
    recorded_by_id: int | None
    recorded_at: datetime


def issue_out(db: Session, access: projects.Access, issue_id: int) -> IssueOut:
    return register_api.one(KINDS["issues"], IssueOut, db, access, issue_id)


class IssueApi(OneIssue):
    @get("/decisions", sync_to_thread=True, summary="The decision log, newest first")
    def list_decisions(
        self, request: Request, db: NamedDependency[Session], issue_id: FromPath[int]
    ) -> list[DecisionOut]:
        _, issue = issues.load_for(db, request.user, issue_id)
        return [DecisionOut.model_validate(d) for d in issues.decisions_of(db, issue.id)]

    @post("/decisions", sync_to_thread=True, summary="Log a decision taken on the issue")
    def add_decision(
        self, request: Request, db: NamedDependency[Session], issue_id: FromPath[int], data: JSONBody[DecisionIn]
    ) -> DecisionOut:
        access, issue = issues.load_for(db, request.user, issue_id, Perm.EDIT_REGISTER)
        entry = issues.add_decision(db, request.user, access, issue, parse(DecisionForm, data.model_dump(mode="json")))
        return DecisionOut.model_validate(entry)


class ConvertIn(ApiBody):
    version: int = Field(description="The version of the risk you read (409 when someone saved since)")


class RiskConvertApi(Controller):
    path = "/api/v1/risks/{risk_id:int}"
    tags = ["risks"]

    @post("/convert", sync_to_thread=True, summary="The risk happened: open a linked issue; the risk becomes realized")
    def convert(
        self, request: Request, db: NamedDependency[Session], risk_id: FromPath[int], data: JSONBody[ConvertIn]
    ) -> IssueOut:
        access, risk = risks.load_for(db, request.user, risk_id, Perm.EDIT_REGISTER)
        issue = issues.convert(db, request.user, access, risk, data.version)
        return issue_out(db, access, issue.id)


handlers = [ProjectIssues, IssueApi, RiskConvertApi]
