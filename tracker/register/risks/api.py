"""JSON API for the risk register: list, create, read, change, review, score history, heat map, and the project's
register settings. Conversion into an issue lives with the issues API, action items with theirs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from litestar import Controller, Request, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from pydantic import BaseModel, Field
from sqlmodel import Session

from tracker.core.forms import ApiBody, parse
from tracker.projects import service as projects
from tracker.projects.permissions import Perm
from tracker.register import common
from tracker.register.risks import scoring
from tracker.register.risks import service as risks
from tracker.register.risks.models import Category, Proximity, RiskDeliverable, RiskStatus, Strategy
from tracker.register.risks.scoring import Level
from tracker.register.risks.service import RiskForm, RiskQuery, RiskRow, SettingsForm


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


class RiskIn(ApiBody):
    labels = risks.LABELS
    code: str = Field(default="", max_length=20, description="Blank: the next free R-###", examples=["R-012"])
    title: str = Field(max_length=200)
    statement: str = Field(
        default="", max_length=4000, examples=["If the legacy data is dirtier than sampled, then go-live slips"]
    )
    category: Category = Category.OTHER
    probability: int = Field(description="1 rare … 5 almost certain")
    impact: int = Field(description="1 negligible … 5 severe")
    proximity: Proximity = Proximity.MID
    trigger: str = Field(default="", max_length=2000)
    owner_id: int | None = Field(default=None, description="Required while the risk is open, mitigating or monitoring")
    response: Strategy = Strategy.MITIGATE
    residual_probability: int | None = Field(
        default=None,
        description="Expected after mitigation; with the residual impact, scores no higher than probability × impact",
    )
    residual_impact: int | None = None
    mitigation_plan: str = Field(default="", max_length=8000)
    contingency_plan: str = Field(default="", max_length=8000)
    next_review_date: date | None = Field(default=None, description="Blank: from the review cadence of the level")
    status: RiskStatus = RiskStatus.OPEN
    raised_on: date | None = Field(default=None, description="Today or earlier; blank: today")
    deliverable_ids: list[int] = Field(default_factory=list, max_length=200)


class RiskPatch(ApiBody):
    """Only the fields sent change; `version` is the one you read (409 when someone saved since)."""

    labels = risks.LABELS

    code: str | None = None
    title: str | None = None
    statement: str | None = None
    category: Category | None = None
    probability: int | None = None
    impact: int | None = None
    proximity: Proximity | None = None
    trigger: str | None = None
    owner_id: int | None = None
    response: Strategy | None = None
    residual_probability: int | None = None
    residual_impact: int | None = None
    mitigation_plan: str | None = None
    contingency_plan: str | None = None
    next_review_date: date | None = None
    status: RiskStatus | None = None
    raised_on: date | None = None
    deliverable_ids: list[int] | None = None
    version: int


class VersionIn(ApiBody):
    version: int | None = None


class RiskPage(BaseModel):
    items: list[RiskOut]
    total: int
    limit: int
    offset: int


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


def _outs(db: Session, rows: list[RiskRow]) -> list[RiskOut]:
    links = common.linked_deliverables(db, RiskDeliverable, "risk_id", [r.risk.id for r in rows])
    out = []
    for row in rows:
        r = row.risk
        residual = (
            scoring.score(r.residual_probability, r.residual_impact)
            if r.residual_probability and r.residual_impact
            else None
        )
        out.append(
            RiskOut(
                **r.model_dump(
                    include={
                        "id",
                        "code",
                        "title",
                        "statement",
                        "category",
                        "probability",
                        "impact",
                        "proximity",
                        "trigger",
                        "owner_id",
                        "response",
                        "residual_probability",
                        "residual_impact",
                        "mitigation_plan",
                        "contingency_plan",
                        "next_review_date",
                        "last_reviewed_on",
                        "status",
                        "raised_on",
                        "updated_at",
                        "version",
                    }
                ),
                score=row.score,
                level=row.level,
                owner_name=row.owner_name,
                residual_score=residual,
                due_for_review=row.due_for_review,
                overdue=row.overdue,
                open_actions=row.open_actions,
                deliverable_ids=[d for d, _ in links[r.id]],
                deliverable_codes=[c for _, c in links[r.id]],
            )
        )
    return out


def _one(db: Session, access: projects.Access, risk_id: int) -> RiskOut:
    return _outs(db, [risks.row(db, access, risk_id)])[0]


def _cells(cells: dict[tuple[int, int], int]) -> list[HeatCell]:
    return [HeatCell(probability=p, impact=i, count=n) for (p, i), n in sorted(cells.items())]


class ProjectRisksApi(Controller):
    path = "/api/v1/projects/{key:str}"
    tags = ["risks"]

    @get("/risks", sync_to_thread=True, summary="The risk register, filtered, sorted and paged")
    def list_risks(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        status: FromQuery[str | None] = None,
        level: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        owner: FromQuery[str | None] = None,
        probability: FromQuery[str | None] = None,
        impact: FromQuery[str | None] = None,
        overdue: FromQuery[str | None] = None,
        due: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        sort: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
        offset: FromQuery[int] = 0,
    ) -> RiskPage:
        """`status` is a status or `active`; `due=true` lists risks due for review; `overdue=true` those with
        overdue action items; `sort` is score, age, due or code, with `-` for descending."""
        access = projects.get_for(db, request.user, key, Perm.VIEW_REGISTER)
        filters = {
            "status": status,
            "level": level,
            "category": category,
            "owner": owner,
            "probability": probability,
            "impact": impact,
            "overdue": overdue,
            "due": due,
            "q": q,
            "sort": sort,
        }
        query = parse(RiskQuery, {k: v for k, v in filters.items() if v is not None})
        limit, offset = min(max(limit, 1), 500), max(offset, 0)
        rows, total = risks.search(db, access, query, limit=limit, offset=offset)
        return RiskPage(items=_outs(db, rows), total=total, limit=limit, offset=offset)

    @post("/risks", sync_to_thread=True, summary="Record a risk (managers and staff)")
    def create_risk(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: JSONBody[RiskIn]
    ) -> RiskOut:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        risk = risks.create(db, request.user, access, parse(RiskForm, data.model_dump(mode="json")))
        return _one(db, access, risk.id)

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

    @put("/register-settings", sync_to_thread=True, summary="Change the register settings (admins)")
    def put_settings(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: JSONBody[SettingsIO]
    ) -> SettingsIO:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        saved = risks.update_settings(db, request.user, access, parse(SettingsForm, data.model_dump()))
        return SettingsIO.model_validate(saved, from_attributes=True)


class RiskApi(Controller):
    path = "/api/v1/risks/{risk_id:int}"
    tags = ["risks"]

    @get("/", sync_to_thread=True, summary="One risk with its score, level and review state")
    def get_risk(self, request: Request, db: NamedDependency[Session], risk_id: FromPath[int]) -> RiskOut:
        access, risk = risks.load_for(db, request.user, risk_id)
        return _one(db, access, risk.id)

    @patch("/", sync_to_thread=True, summary="Change a risk (send the version you read; 409 if stale)")
    def patch_risk(
        self, request: Request, db: NamedDependency[Session], risk_id: FromPath[int], data: JSONBody[RiskPatch]
    ) -> RiskOut:
        access, risk = risks.load_for(db, request.user, risk_id, Perm.EDIT_REGISTER)
        values: dict[str, Any] = risks.form_values(db, risk) | data.model_dump(mode="json", exclude_unset=True)
        risks.update(db, request.user, access, risk, parse(RiskForm, values))
        return _one(db, access, risk.id)

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
