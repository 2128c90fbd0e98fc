"""JSON API for action items: list and add them under a risk (/api/v1/risks/{id}/actions) or an issue
(/api/v1/issues/{id}/actions); read, change or mark done one item (/api/v1/action-items/{id})."""

from __future__ import annotations

from datetime import date, datetime

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel, Field
from sqlmodel import Session

from tracker.core.forms import ApiBody, parse
from tracker.projects.calendar import project_today
from tracker.projects.permissions import Perm
from tracker.register.actions import service as actions
from tracker.register.actions.models import Plan
from tracker.register.actions.service import ActionForm, ActionRow
from tracker.register.issues import service as issues
from tracker.register.risks import service as risks


class ActionOut(BaseModel):
    id: int
    risk_id: int | None
    issue_id: int | None
    plan: Plan
    description: str
    owner_id: int | None
    owner_name: str | None
    due_date: date | None
    done_at: datetime | None
    overdue: bool
    version: int


class ActionIn(ApiBody):
    labels = actions.LABELS
    description: str = Field(max_length=2000)
    owner_id: int | None = None
    due_date: date | None = None
    plan: Plan | None = Field(default=None, description="Under a risk: mitigation or contingency")


class ActionPatch(ApiBody):
    labels = actions.LABELS
    description: str | None = None
    owner_id: int | None = None
    due_date: date | None = None
    plan: Plan | None = None
    done: bool | None = None
    version: int


def action_out(row: ActionRow) -> ActionOut:
    item = row.item
    return ActionOut(
        **item.model_dump(
            include={"id", "risk_id", "issue_id", "plan", "description", "owner_id", "due_date", "done_at", "version"}
        ),
        owner_name=row.owner_name,
        overdue=row.overdue,
    )


class ActionApi(Controller):
    path = "/api/v1/action-items/{item_id:int}"
    tags = ["action items"]

    @get("/", sync_to_thread=True, summary="One action item")
    def get_action(self, request: Request, db: NamedDependency[Session], item_id: FromPath[int]) -> ActionOut:
        access, item = actions.load_for(db, request.user, item_id)
        return action_out(actions.row_of(db, item, project_today(access.project)))

    @patch("/", sync_to_thread=True, summary="Change an action item or mark it done (send the version you read)")
    def patch_action(
        self, request: Request, db: NamedDependency[Session], item_id: FromPath[int], data: JSONBody[ActionPatch]
    ) -> ActionOut:
        access, item = actions.load_for(db, request.user, item_id, Perm.EDIT_REGISTER)
        values = actions.as_values(item) | data.model_dump(mode="json", exclude_unset=True)
        actions.update(db, request.user, access, item, parse(ActionForm, values))
        return action_out(actions.row_of(db, item, project_today(access.project)))


class RiskActionsApi(Controller):
    path = "/api/v1/risks/{risk_id:int}/actions"
    tags = ["action items"]

    @get("/", sync_to_thread=True, summary="Action items of the risk's mitigation and contingency plans")
    def list_actions(self, request: Request, db: NamedDependency[Session], risk_id: FromPath[int]) -> list[ActionOut]:
        access, risk = risks.load_for(db, request.user, risk_id)
        return [action_out(r) for r in actions.for_parent(db, project_today(access.project), risk_id=risk.id)]

    @post("/", sync_to_thread=True, summary="Add an action item to the mitigation or contingency plan")
    def add_action(
        self, request: Request, db: NamedDependency[Session], risk_id: FromPath[int], data: JSONBody[ActionIn]
    ) -> ActionOut:
        access, risk = risks.load_for(db, request.user, risk_id, Perm.EDIT_REGISTER)
        item = actions.add(db, request.user, access, risk, parse(ActionForm, data.model_dump(mode="json")))
        return action_out(actions.row_of(db, item, project_today(access.project)))


class IssueActionsApi(Controller):
    path = "/api/v1/issues/{issue_id:int}/actions"
    tags = ["action items"]

    @get("/", sync_to_thread=True, summary="The issue's action items")
    def list_actions(self, request: Request, db: NamedDependency[Session], issue_id: FromPath[int]) -> list[ActionOut]:
        access, issue = issues.load_for(db, request.user, issue_id)
        return [action_out(r) for r in actions.for_parent(db, project_today(access.project), issue_id=issue.id)]

    @post("/", sync_to_thread=True, summary="Add an action item to the issue")
    def add_action(
        self, request: Request, db: NamedDependency[Session], issue_id: FromPath[int], data: JSONBody[ActionIn]
    ) -> ActionOut:
        access, issue = issues.load_for(db, request.user, issue_id, Perm.EDIT_REGISTER)
        item = actions.add(db, request.user, access, issue, parse(ActionForm, data.model_dump(mode="json")))
        return action_out(actions.row_of(db, item, project_today(access.project)))
