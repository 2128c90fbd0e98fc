"""JSON API for status reports (published list, live draft, saving the manager's input, publishing, snapshots), the
contractor scorecard and the portfolio rollup. The same service functions as the pages, so the same rules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from pydantic import BaseModel, Field
from sqlmodel import Session

from tracker.core.errors import Conflict, FormError, NotFound
from tracker.core.forms import ApiBody, parse
from tracker.projects import service as projects
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.reports import rag, scorecard
from tracker.reports import service as reports
from tracker.reports.models import ReportStatus, StatusReport
from tracker.reports.periods import Period
from tracker.reports.service import DraftForm, PeriodForm, ReportRow


class ReportOut(BaseModel):
    id: int
    project_key: str
    period_start: date
    period_end: date
    period_label: str
    number: int = Field(description="Version: 2 and above are corrections that supersede the one before")
    rag: rag.Rag
    published_at: datetime
    published_by: str | None
    superseded: bool


class SnapshotOut(ReportOut):
    content: dict[str, Any] = Field(description="Every figure and list exactly as published; never changes")


class DraftOut(BaseModel):
    id: int | None = Field(description="None until the draft is first saved")
    number: int
    version: int | None = Field(description="Send it back when saving or publishing (409 when stale)")
    period_start: date
    period_end: date
    period_label: str
    summary: str
    decisions: str
    next_steps: str
    overrides: dict[str, dict[str, str]]
    content: dict[str, Any] = Field(description="Computed live from the record as of the period's end")


class OverrideIn(ApiBody):
    rag: rag.Rag
    rationale: str = Field(default="", max_length=2000)


class DraftIn(ApiBody):
    labels = reports.LABELS
    period_start: date | None = None
    period_end: date | None = None
    number: int
    version: int | None = None
    summary: str = Field(default="", max_length=8000)
    decisions: str = Field(default="", max_length=8000, description="Key decisions needed")
    next_steps: str = Field(default="", max_length=8000)
    overrides: dict[str, OverrideIn] = Field(
        default_factory=dict, description="By area: overall, deliverables, risks, issues"
    )


class PublishIn(ApiBody):
    period_start: date | None = None
    period_end: date | None = None
    number: int
    version: int | None = None


class VersionIn(ApiBody):
    version: int | None = None


class MetricOut(BaseModel):
    key: str
    label: str
    unit: str
    value: float | None
    count: int
    target: float
    met: bool | None
    explanation: str
    trend: list[float | None] = Field(description="The last 12 weeks ending with this period, oldest first")


class ScorecardOut(BaseModel):
    period_start: date
    period_end: date
    metrics: list[MetricOut]


class PortfolioOut(BaseModel):
    project_key: str
    project_name: str
    report_id: int | None
    period_label: str
    rag: rag.Rag | None
    areas: dict[str, str]
    trend: str = Field(description="better, worse or same than the report before; new; none (nothing published)")
    counts: dict[str, int]
    slo_met: int
    slo_measured: int


def _period(access: Access, start: date | str | None, end: date | str | None) -> Period:
    return reports.period_of(access.project, parse(PeriodForm, {"period_start": start, "period_end": end}))


def _out(row: ReportRow, key: str, content: bool = False) -> ReportOut:
    r = row.report
    values = {
        "id": r.id,
        "project_key": key,
        "period_start": r.period_start,
        "period_end": r.period_end,
        "period_label": row.period.label,
        "number": r.number,
        "rag": r.rag,
        "published_at": r.published_at,
        "published_by": row.publisher,
        "superseded": row.superseded,
    }
    return SnapshotOut(**values, content=r.content) if content else ReportOut(**values)


def _draft_out(db: Session, access: Access, period: Period) -> DraftOut:
    draft = reports.draft_for(db, access.project, period)
    return DraftOut(
        id=draft.id,
        number=draft.number,
        version=reports.seen_version(draft),
        period_start=period.start,
        period_end=period.end,
        period_label=period.label,
        summary=draft.summary,
        decisions=draft.decisions,
        next_steps=draft.next_steps,
        overrides=draft.overrides or {},
        content=reports.build(db, access.project, period, draft),
    )


class ProjectReportsApi(Controller):
    path = "/api/v1/projects/{key:str}"
    tags = ["status reports"]

    @get("/status-reports", sync_to_thread=True, summary="Published status reports, latest first")
    def list_reports(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> list[ReportOut]:
        access = projects.get_for(db, request.user, key, Perm.VIEW_REGISTER)
        return [_out(row, access.project.key) for row in reports.published(db, access.project.id)]

    @get("/status-reports/draft", sync_to_thread=True, summary="The live draft of a period (managers and staff)")
    def get_draft(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        period_start: FromQuery[str | None] = None,
        period_end: FromQuery[str | None] = None,
    ) -> DraftOut:
        """No period: the week ending Friday that contains today. Only `period_end`: the week containing it."""
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        return _draft_out(db, access, _period(access, period_start, period_end))

    @put("/status-reports/draft", sync_to_thread=True, summary="Save the narrative and RAG overrides (managers)")
    def put_draft(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: JSONBody[DraftIn]
    ) -> DraftOut:
        access = projects.get_for(db, request.user, key, Perm.PUBLISH)
        period = _period(access, data.period_start, data.period_end)
        values: dict[str, Any] = data.model_dump(include={"number", "version", "summary", "decisions", "next_steps"})
        for area, chosen in data.overrides.items():
            if area not in rag.OVERRIDABLE:
                raise FormError({"overrides": f"No RAG area '{area}'; use {', '.join(rag.OVERRIDABLE)}."})
            values |= {f"rag_{area}": chosen.rag.value, f"why_{area}": chosen.rationale}
        reports.save_draft(db, request.user, access, period, parse(DraftForm, values))
        return _draft_out(db, access, period)

    @post("/status-reports", sync_to_thread=True, summary="Publish the period's draft as a frozen snapshot (managers)")
    def publish(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: JSONBody[PublishIn]
    ) -> SnapshotOut:
        """Publishing a period again publishes a correction: the next version, which supersedes the earlier one."""
        access = projects.get_for(db, request.user, key, Perm.PUBLISH)
        period = _period(access, data.period_start, data.period_end)
        report = reports.publish(db, request.user, access, period, data.number, data.version)
        return _out(reports.row_of(db, report), access.project.key, content=True)

    @get("/scorecard", sync_to_thread=True, summary="The contractor scorecard of a period, with its 12-week trend")
    def get_scorecard(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        period_start: FromQuery[str | None] = None,
        period_end: FromQuery[str | None] = None,
    ) -> ScorecardOut:
        access = projects.get_for(db, request.user, key, Perm.VIEW_REGISTER)
        period = _period(access, period_start, period_end)
        metrics = [
            MetricOut(
                key=m.key,
                label=m.label,
                unit=m.unit,
                value=m.value,
                count=m.count,
                target=m.target,
                met=m.met,
                explanation=m.explanation,
                trend=list(m.trend),
            )
            for m in scorecard.scorecard(db, access.project, period)
        ]
        return ScorecardOut(period_start=period.start, period_end=period.end, metrics=metrics)


class ReportApi(Controller):
    path = "/api/v1/status-reports/{report_id:int}"
    tags = ["status reports"]

    @get("/", sync_to_thread=True, summary="A published report: its snapshot, exactly as published")
    def get_report(self, request: Request, db: NamedDependency[Session], report_id: FromPath[int]) -> SnapshotOut:
        access, report = reports.load_for(db, request.user, report_id)
        if report.status != ReportStatus.PUBLISHED:
            raise NotFound(
                detail="Not published yet; read the draft at "
                f"/api/v1/projects/{access.project.key}/status-reports/draft."
            )
        return _out(reports.row_of(db, report), access.project.key, content=True)

    @post("/publish", sync_to_thread=True, summary="Publish this saved draft (managers)")
    def publish(
        self, request: Request, db: NamedDependency[Session], report_id: FromPath[int], data: JSONBody[VersionIn]
    ) -> SnapshotOut:
        access, report = reports.load_for(db, request.user, report_id, Perm.PUBLISH)
        if report.status != ReportStatus.DRAFT:
            raise Conflict(detail="Already published; a correction is published from the period's draft.")
        period = Period(report.period_start, report.period_end)
        published: StatusReport = reports.publish(db, request.user, access, period, report.number, data.version)
        return _out(reports.row_of(db, published), access.project.key, content=True)


class PortfolioApi(Controller):
    path = "/api/v1/portfolio"
    tags = ["status reports"]

    @get("/", sync_to_thread=True, summary="Every project you may read: latest published RAG, trend and figures")
    def get_portfolio(
        self, request: Request, db: NamedDependency[Session], sort: FromQuery[str] = "-rag"
    ) -> list[PortfolioOut]:
        return [
            PortfolioOut(
                project_key=r.project.key,
                project_name=r.project.name,
                report_id=r.report_id,
                period_label=r.period,
                rag=r.rag,
                areas=r.areas,
                trend=r.trend,
                counts=r.counts,
                slo_met=r.slo_met,
                slo_measured=r.slo_measured,
            )
            for r in reports.portfolio(db, request.user, sort)
        ]
