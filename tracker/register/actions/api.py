"""JSON API for action items: list and add them under a risk (/api/v1/risks/{id}/actions), an issue
(/api/v1/issues/{id}/actions) or a meeting (/api/v1/meetings/{id}/actions); read, change or mark done one item
(/api/v1/action-items/{id})."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

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
    meeting_id: int | None
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
            include={
                "id",
                "risk_id",
                "issue_id",
                "meeting_id",
                "plan",
                "description",
                "owner_id",
                "due_date",
                "done_at",
                "version",
            }
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


def parent_actions(plural: str, key: str, load_for: Callable[..., Any], summary: str, add: str) -> type[Controller]:
    """The action items of one kind of parent (/api/v1/{plural}/{id}/actions): list them, add one."""

    class ParentActionsApi(Controller):
        path = f"/api/v1/{plural}/{{parent_id:int}}/actions"
        tags = ["action items"]

        @get("/", sync_to_thread=True, summary=summary)
        def list_actions(
            self, request: Request, db: NamedDependency[Session], parent_id: FromPath[int]
        ) -> list[ActionOut]:
            access, parent = load_for(db, request.user, parent_id)
            rows = actions.for_parent(db, project_today(access.project), **{key: parent.id})
            return [action_out(r) for r in rows]

        @post("/", sync_to_thread=True, summary=add)
        def add_action(
            self, request: Request, db: NamedDependency[Session], parent_id: FromPath[int], data: JSONBody[ActionIn]
        ) -> ActionOut:
            access, parent = load_for(db, request.user, parent_id, Perm.EDIT_REGISTER)
            item = actions.add(db, request.user, access, parent, parse(ActionForm, data.model_dump(mode="json")))
            return action_out(actions.row_of(db, item, project_today(access.project)))

    ParentActionsApi.__name__ = ParentActionsApi.__qualname__ = f"{plural.capitalize()}ActionsApi"
    return ParentActionsApi


RiskActionsApi = parent_actions(
    "risks",
    "risk_id",
    risks.load_for,
    "Action items of the risk's mitigation and contingency plans",
    "Add an action item to the mitigation or contingency plan",
)
IssueActionsApi = parent_actions(
    "issues", "issue_id", issues.load_for, "The issue's action items", "Add an action item to the issue"
)
