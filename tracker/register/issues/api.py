"""JSON API for the issue register: list, create, read, change, the decision log, and converting a realized risk
into an issue."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from tracker.core.forms import ApiBody, parse
from tracker.projects import service as projects
from tracker.projects.permissions import Perm
from tracker.register import common
from tracker.register.issues import service as issues
from tracker.register.issues.models import EscalationLevel, IssueDeliverable, IssueStatus, Priority
from tracker.register.issues.service import DecisionForm, IssueForm, IssueQuery, IssueRow
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


class IssueIn(ApiBody):
    labels = issues.LABELS
    code: str = Field(default="", max_length=20, description="Blank: the next free I-###", examples=["I-034"])
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=8000)
    impact: str = Field(default="", max_length=4000)
    priority: Priority = Priority.MEDIUM
    owner_id: int | None = None
    need_by: date | None = Field(default=None, description="Not before the day it was raised")
    status: IssueStatus = IssueStatus.OPEN
    escalation_level: EscalationLevel = EscalationLevel.PROJECT
    escalation_reason: str = Field(default="", max_length=2000)
    resolution: str = Field(default="", max_length=8000, description="Required to resolve or close")
    raised_on: date | None = Field(default=None, description="Today or earlier; blank: today")
    deliverable_ids: list[int] = Field(default_factory=list, max_length=200)


class IssuePatch(ApiBody):
    """Only the fields sent change; `version` is the one you read (409 when someone saved since)."""

    labels = issues.LABELS

    code: str | None = None
    title: str | None = None
    description: str | None = None
    impact: str | None = None
    priority: Priority | None = None
    owner_id: int | None = None
    need_by: date | None = None
    status: IssueStatus | None = None
    escalation_level: EscalationLevel | None = None
    escalation_reason: str | None = None
    resolution: str | None = None
    raised_on: date | None = None
    deliverable_ids: list[int] | None = None
    version: int


class IssuePage(BaseModel):
    items: list[IssueOut]
    total: int
    limit: int
    offset: int


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


def _outs(db: Session, rows: list[IssueRow]) -> list[IssueOut]:
    links = common.linked_deliverables(db, IssueDeliverable, "issue_id", [r.issue.id for r in rows])
    return [
        IssueOut(
            **row.issue.model_dump(
                include={
                    "id",
                    "code",
                    "title",
                    "description",
                    "impact",
                    "priority",
                    "owner_id",
                    "need_by",
                    "status",
                    "escalation_level",
                    "escalation_reason",
                    "resolution",
                    "raised_on",
                    "resolved_on",
                    "risk_id",
                    "updated_at",
                    "version",
                }
            ),
            owner_name=row.owner_name,
            age_days=row.age,
            overdue=row.overdue,
            needs_escalation=row.needs_escalation,
            open_actions=row.open_actions,
            risk_code=row.risk_code,
            deliverable_ids=[d for d, _ in links[row.issue.id]],
            deliverable_codes=[c for _, c in links[row.issue.id]],
        )
        for row in rows
    ]


def issue_out(db: Session, access: projects.Access, issue_id: int) -> IssueOut:
    return _outs(db, [issues.row(db, access, issue_id)])[0]


class ProjectIssuesApi(Controller):
    path = "/api/v1/projects/{key:str}/issues"
    tags = ["issues"]

    @get("/", sync_to_thread=True, summary="The issue register, filtered, sorted and paged")
    def list_issues(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        status: FromQuery[str | None] = None,
        priority: FromQuery[str | None] = None,
        owner: FromQuery[str | None] = None,
        overdue: FromQuery[str | None] = None,
        escalation: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        sort: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
        offset: FromQuery[int] = 0,
    ) -> IssuePage:
        """`status` is a status or `unresolved`; `escalation=true` lists issues flagged for escalation;
        `sort` is priority, age, due or code, with `-` for descending."""
        access = projects.get_for(db, request.user, key, Perm.VIEW_REGISTER)
        filters = {
            "status": status,
            "priority": priority,
            "owner": owner,
            "overdue": overdue,
            "escalation": escalation,
            "q": q,
            "sort": sort,
        }
        query = parse(IssueQuery, {k: v for k, v in filters.items() if v is not None})
        limit, offset = min(max(limit, 1), 500), max(offset, 0)
        rows, total = issues.search(db, access, query, limit=limit, offset=offset)
        return IssuePage(items=_outs(db, rows), total=total, limit=limit, offset=offset)

    @post("/", sync_to_thread=True, summary="Record an issue (managers and staff)")
    def create_issue(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: JSONBody[IssueIn]
    ) -> IssueOut:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        issue = issues.create(db, request.user, access, parse(IssueForm, data.model_dump(mode="json")))
        return issue_out(db, access, issue.id)


class IssueApi(Controller):
    path = "/api/v1/issues/{issue_id:int}"
    tags = ["issues"]

    @get("/", sync_to_thread=True, summary="One issue with its age, overdue and escalation flag")
    def get_issue(self, request: Request, db: NamedDependency[Session], issue_id: FromPath[int]) -> IssueOut:
        access, issue = issues.load_for(db, request.user, issue_id)
        return issue_out(db, access, issue.id)

    @patch("/", sync_to_thread=True, summary="Change an issue (send the version you read; 409 if stale)")
    def patch_issue(
        self, request: Request, db: NamedDependency[Session], issue_id: FromPath[int], data: JSONBody[IssuePatch]
    ) -> IssueOut:
        access, issue = issues.load_for(db, request.user, issue_id, Perm.EDIT_REGISTER)
        values: dict[str, Any] = issues.form_values(db, issue) | data.model_dump(mode="json", exclude_unset=True)
        issues.update(db, request.user, access, issue, parse(IssueForm, values))
        return issue_out(db, access, issue.id)

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
    version: int | None = None


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
