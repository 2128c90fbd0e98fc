"""JSON API for the risk register: list, create, read, change, review, score history, heat map, and the project's
register settings. Conversion into an issue lives with the issues API, action items with theirs."""

from __future__ import annotations

from datetime import date, datetime

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel, Field
from sqlmodel import Session

from tracker.core.forms import ApiBody, parse
from tracker.projects import service as projects
from tracker.projects.permissions import Perm
from tracker.register import api as register_api
from tracker.register import common
from tracker.register.kinds import KINDS
from tracker.register.risks import scoring
from tracker.register.risks import service as risks
from tracker.register.risks.models import Category, Proximity, RiskStatus, Strategy
from tracker.register.risks.scoring import Level
from tracker.register.risks.service import SettingsForm


class RiskOut(BaseModel):
    id: int
    code: str
    title: str
    statement: str
    category: Category
    probability: int
    impact: int
    score: int
    level: Level
    proximity: Proximity
    trigger: str
    owner_id: int | None
    owner_name: str | None
    response: Strategy
    residual_probability: int | None
    residual_impact: int | None
    residual_score: int | None
    mitigation_plan: str
    contingency_plan: str
    next_review_date: date | None
    last_reviewed_on: date | None
    due_for_review: bool
    overdue: bool = Field(description="Has open action items past their due date")
    open_actions: int
    status: RiskStatus
    raised_on: date
    deliverable_ids: list[int]
    deliverable_codes: list[str]
    updated_at: datetime
    version: int


# What the API's readers are told about the risk's fields; the fields themselves are the form's (register/api.py).
HELP = {
    "code": "Blank: the next free R-###",
    "probability": "1 rare … 5 almost certain",
    "impact": "1 negligible … 5 severe",
    "owner_id": "Required while the risk is open, mitigating or monitoring",
    "residual_probability": (
        "Expected after mitigation; with the residual impact, scores no higher than probability × impact"
    ),
    "next_review_date": "Blank: from the review cadence of the level",
    "raised_on": "Today or earlier; blank: today",
}
LIST_HELP = """`status` is a status or `active`; `due=true` lists risks due for review; `overdue=true` those with overdue
action items; `sort` is score, age, due or code, with `-` for descending."""

ProjectRisks, OneRisk = register_api.controllers(KINDS["risks"], RiskOut, HELP, LIST_HELP)


class VersionIn(ApiBody):
    version: int = Field(description="The version you read (409 when someone saved since)")


class ScoreOut(BaseModel):
    at: datetime
    probability: int
    impact: int
    score: int
    level: Level
    changed_by: str | None


class HeatCell(BaseModel):
    probability: int
    impact: int
    count: int


class HeatMapOut(BaseModel):
    now: list[HeatCell]
    then: list[HeatCell]
    then_as_of: date
    moved_up: int
    moved_down: int
    new: int


class SettingsIO(ApiBody):
    labels = risks.SETTING_LABELS
    review_days_critical: int
    review_days_high: int
    review_days_medium: int
    review_days_low: int
    escalate_days_critical: int
    escalate_days_high: int
    escalate_days_medium: int
    escalate_days_low: int
    version: int | None = None


def _one(db: Session, access: projects.Access, risk_id: int) -> RiskOut:
    return register_api.one(KINDS["risks"], RiskOut, db, access, risk_id)


def _cells(cells: dict[tuple[int, int], int]) -> list[HeatCell]:
    return [HeatCell(probability=p, impact=i, count=n) for (p, i), n in sorted(cells.items())]


class ProjectRisksApi(Controller):
    path = "/api/v1/projects/{key:str}"
    tags = ["risks"]

    @get("/risks/heatmap", sync_to_thread=True, summary="Active risks by probability × impact, now and a period ago")
    def heatmap(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> HeatMapOut:
        access = projects.get_for(db, request.user, key, Perm.VIEW_REGISTER)
        heat = risks.heat_map(db, access)
        return HeatMapOut(
            now=_cells(heat.now),
            then=_cells(heat.then),
            then_as_of=heat.as_of,
            moved_up=heat.up,
            moved_down=heat.down,
            new=heat.new,
        )

    @get("/register-settings", sync_to_thread=True, summary="Review cadence by level and escalation age by priority")
    def get_settings(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> SettingsIO:
        access = projects.get_for(db, request.user, key, Perm.VIEW_REGISTER)
        return SettingsIO.model_validate(common.settings_for(db, access.project.id), from_attributes=True)

    @put(
        "/register-settings",
        sync_to_thread=True,
        summary="Change the register settings (the project's managers and admins)",
    )
    def put_settings(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: JSONBody[SettingsIO]
    ) -> SettingsIO:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        saved = risks.update_settings(db, request.user, access, parse(SettingsForm, data.model_dump()))
        return SettingsIO.model_validate(saved, from_attributes=True)


class RiskApi(OneRisk):
    @post("/review", sync_to_thread=True, status_code=200, summary="Mark reviewed: the next review moves on")
    def review(
        self, request: Request, db: NamedDependency[Session], risk_id: FromPath[int], data: JSONBody[VersionIn]
    ) -> RiskOut:
        access, risk = risks.load_for(db, request.user, risk_id, Perm.EDIT_REGISTER)
        risks.mark_reviewed(db, request.user, access, risk, data.version)
        return _one(db, access, risk.id)

    @get("/history", sync_to_thread=True, summary="Every probability/impact the risk has had")
    def history(self, request: Request, db: NamedDependency[Session], risk_id: FromPath[int]) -> list[ScoreOut]:
        _, risk = risks.load_for(db, request.user, risk_id)
        return [
            ScoreOut(
                at=h.at,
                probability=h.probability,
                impact=h.impact,
                score=scoring.score(h.probability, h.impact),
                level=scoring.level(h.probability, h.impact),
                changed_by=who,
            )
            for h, who in risks.history_of(db, risk.id)
        ]


handlers = [ProjectRisks, ProjectRisksApi, RiskApi]
