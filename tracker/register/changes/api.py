"""JSON API for change requests: the register's list, create, read and change (register/api.py), and the workflow's
moves: submit, start the review, approve, reject, withdraw."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel, Field
from sqlmodel import Session

from tracker.core.errors import NotFound
from tracker.core.forms import ApiBody, parse
from tracker.register import api as register_api
from tracker.register.changes import service as changes
from tracker.register.changes.models import ChangeStatus, Side
from tracker.register.changes.workflow import Move
from tracker.register.kinds import KINDS


class ChangeOut(BaseModel):
    id: int
    code: str
    title: str
    description: str
    reason: str
    requested_by: Side
    cost_impact: Decimal
    schedule_impact: int = Field(description="Business days; positive moves the affected deliverables later")
    scope_impact: str
    status: ChangeStatus
    rationale: str
    raised_on: date
    submitted_on: date | None
    decided_on: date | None
    raised_by_id: int | None
    raised_by_name: str | None
    decided_by_id: int | None
    decided_by_name: str | None
    deliverable_ids: list[int]
    deliverable_codes: list[str]
    updated_at: datetime
    version: int


HELP = {
    "code": "Blank: the next free CR-###",
    "requested_by": "The contractor's staff always request as the contractor",
    "cost_impact": "Added to (or, negative, taken from) the affected deliverables' payments on approval",
    "schedule_impact": "Business days the affected deliverables' due dates move on approval; negative: earlier",
    "raised_on": "Today or earlier; blank: today",
}
LIST_HELP = """`status` is a status or `open` (draft, submitted or under review); `requested_by` is state or contractor;
`overdue=true` lists those awaiting a decision; `sort` is raised, cost, schedule or code, with `-` for descending.
The contractor sees its own requests and the State's once submitted."""

ProjectChanges, OneChange = register_api.controllers(KINDS["changes"], ChangeOut, HELP, LIST_HELP)


class MoveIn(ApiBody):
    labels = changes.LABELS
    version: int = Field(description="The version of the request you read (409 when someone saved since)")
    rationale: str = Field(default="", max_length=4000, description="Required to approve or reject")


class ChangeApi(OneChange):
    @post(
        "/{action:str}",
        sync_to_thread=True,
        status_code=200,
        summary="Submit, start_review, approve, reject or withdraw",
    )
    def move(
        self,
        request: Request,
        db: NamedDependency[Session],
        change_id: FromPath[int],
        action: FromPath[str],
        data: JSONBody[MoveIn],
    ) -> ChangeOut:
        """Approving moves the affected deliverables' due dates by the schedule impact (business days) and shares
        the cost impact among their payments. 409 from the wrong status, 403 for the wrong role or side."""
        try:
            step = Move(action)
        except ValueError:
            raise NotFound(detail=f"No step '{action}': use {', '.join(m.value for m in Move)}.") from None
        access, change = changes.load_for(db, request.user, change_id)
        changes.move(db, request.user, access, change, step, parse(changes.DecisionForm, data.model_dump()))
        return register_api.one(KINDS["changes"], ChangeOut, db, access, change.id)


handlers = [ProjectChanges, ChangeApi]
