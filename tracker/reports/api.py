"""JSON API for status reports (published list, live draft, saving the manager's input, publishing, snapshots), the
contractor scorecard and the portfolio rollup. The same service functions as the pages, so the same rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from pydantic import BaseModel, Field, create_model
from sqlmodel import Session

from tracker.core.errors import Conflict, FormError, NotFound
from tracker.core.forms import ApiBody, ExpectedVersion, parse
from tracker.projects import service as projects
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.reports import credits, levels, rag, scorecard, targets
from tracker.reports import service as reports
from tracker.reports.models import FigureStatus, ReportStatus, ServiceMeasure, StatusReport
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


class FigureOut(BaseModel):
    value: float | None
    count: int
    met: bool | None


class MetricOut(BaseModel):
    key: str
    label: str
    unit: str
    value: float | None
    count: int
    target: float
    met: bool | None
    explanation: str
    trend: list[float | None] = Field(description="The last 13 periods ending with this one, oldest first")
    higher_is_better: bool
    rolling: FigureOut = Field(description="The 13 weeks ending with the period")
    to_date: FigureOut = Field(description="From the contract's start to the period's end")


class CreditLineOut(BaseModel):
    rule: str
    value: str = Field(description="The measure's value in the rule's unit; — when nothing counts (or not verified)")
    applies: bool
    amount: Decimal
    note: str


class CreditsOut(BaseModel):
    invoiced: Decimal = Field(description="What the period's deliverable decisions approved for payment")
    total: Decimal = Field(description="Credits due in the period, after any cap")
    capped: bool
    lines: list[CreditLineOut]


class ScorecardOut(BaseModel):
    period_start: date
    period_end: date
    metrics: list[MetricOut]
    credits: CreditsOut | None = Field(description="None when the project has no service-credit table")


class MeasureOut(BaseModel):
    id: int
    name: str
    unit: str
    target: Decimal
    higher_is_better: bool
    version: int


class ServiceFigureOut(BaseModel):
    id: int
    measure_id: int
    measure: str
    month: date = Field(description="The month's first day")
    value: Decimal
    notes: str
    status: FigureStatus = Field(description="pending (awaiting verification), verified or disputed")
    met: bool
    revision: int = Field(description="1, and one more for each correction")
    reason: str = Field(description="The State's note on verifying or disputing")
    entered_by: str | None
    decided_by: str | None
    version: int = Field(description="Send it back when correcting or deciding (409 when stale)")


class ServiceLevelsOut(BaseModel):
    measures: list[MeasureOut]
    figures: list[ServiceFigureOut]


class MeasureIn(ApiBody):
    name: str = Field(min_length=1, max_length=120)
    unit: str = Field(default="", max_length=40)
    target: Decimal
    higher_is_better: bool = True


class MeasurePatch(ApiBody):
    """Only the fields sent change; `version` is the one you read (409 when someone saved since). A new target or
    direction decides met or missed for every month's figure, earlier months included."""

    labels = levels.LABELS
    name: str | None = Field(default=None, min_length=1, max_length=120)
    unit: str | None = Field(default=None, max_length=40)
    target: Decimal | None = None
    higher_is_better: bool | None = None
    version: int


class FigureIn(ApiBody):
    measure_id: int
    month: str = Field(description="YYYY-MM", examples=["2026-10"], max_length=10)
    value: Decimal
    notes: str = Field(default="", max_length=2000)


class CorrectionIn(ApiBody):
    value: Decimal
    notes: str = Field(default="", max_length=2000)
    version: int


class VerdictIn(ApiBody):
    verdict: Literal["verify", "dispute"]
    reason: str = Field(default="", max_length=2000)
    version: int


class PortfolioOut(BaseModel):
    project_key: str
    project_name: str
    sponsor: str
    contractor: str
    report_id: int | None
    period_label: str
    rag: rag.Rag | None
    areas: dict[str, str] = Field(description="RAG by area: overall, deliverables, risks, issues")
    trend: str = Field(description="better, worse or same than the report before; new; none (nothing published)")
    rag_history: list[rag.Rag | None] = Field(description="Overall RAG of each of the last 13 weeks, oldest first")
    counts: dict[str, int]
    contract_value: Decimal = Field(description="The deliverables' payments, withdrawn ones left out")
    holdback_withheld: Decimal
    holdback_released: Decimal
    service_credits: Decimal | None = Field(
        description="The service credits of the latest report's period; null when the project had no credit table"
    )
    slo_met: int
    slo_measured: int
    scorecard: str = Field(description='e.g. "4 of 6 service levels met"; empty when nothing was measured')


def _measure_out(m: ServiceMeasure) -> MeasureOut:
    return MeasureOut(
        id=m.id, name=m.name, unit=m.unit, target=m.target, higher_is_better=m.higher_is_better, version=m.version
    )


def _row(db: Session, access: Access, figure_id: int) -> levels.Row:
    return next(r for r in levels.figures(db, access.project.id) if r.figure.id == figure_id)


def _figure_out(r: levels.Row) -> ServiceFigureOut:
    f = r.figure
    return ServiceFigureOut(
        id=f.id,
        measure_id=r.measure.id,
        measure=r.measure.name,
        month=f.month,
        value=f.value,
        notes=f.note,
        status=FigureStatus(f.status),
        met=r.met,
        revision=f.revision,
        reason=f.decision_note,
        entered_by=r.entered_by,
        decided_by=r.decided_by,
        version=f.version,
    )


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


# A project's RAG thresholds and service-level targets (reports/targets.py), one field each: a number, or null for the
# default; rates in percent, as on the page.
TargetsIO = create_model(
    "TargetsIO",
    __base__=ApiBody,
    version=(int | None, Field(default=None, description="The version you read; a stale one answers 409")),
    **{s.name: (float | None, Field(default=None, description=s.label)) for s in targets.FIELDS},
)
TargetsIO.labels = targets.LABELS


def _targets_out(project: Any) -> Any:
    return TargetsIO(**{k: None if v == "" else v for k, v in targets.form_values(project).items()})


def _as_field(value: float | None) -> str:
    return "" if value is None else str(int(value)) if float(value).is_integer() else str(value)


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
        """No period: the last complete week ending Friday. Only `period_end`: the week containing it."""
        access = projects.get_for(db, request.user, key, Perm.VIEW_REGISTER)
        asked = period_start or period_end
        period = _period(access, period_start, period_end) if asked else scorecard.last_complete(access.project)
        card = scorecard.card(db, access.project, period)
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
                higher_is_better=m.higher,
                rolling=FigureOut(**vars(m.rolling)),
                to_date=FigureOut(**vars(m.to_date)),
            )
            for m in card.metrics
        ]
        due = None
        if credits.table_of(access.project).rules:
            measures = levels.measures(db, access.project.id)
            rows = levels.figures(db, access.project.id, since=period.start - timedelta(days=62), until=period.end)
            c = credits.for_period(db, access.project, period, card.metrics, rows, credits.choices(measures))
            lines = [
                CreditLineOut(rule=x.text, value=x.shown, applies=x.applies, amount=x.amount, note=x.note)
                for x in c.lines
            ]
            due = CreditsOut(invoiced=c.invoiced, total=c.total, capped=c.capped, lines=lines)
        return ScorecardOut(period_start=period.start, period_end=period.end, metrics=metrics, credits=due)

    @get("/service-levels", sync_to_thread=True, summary="The service levels the contractor reports: measures, figures")
    def service_levels(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> ServiceLevelsOut:
        access = projects.get_for(db, request.user, key, Perm.VIEW)
        levels.require_any(access, *levels.READ)
        return ServiceLevelsOut(
            measures=[_measure_out(m) for m in levels.measures(db, access.project.id)],
            figures=[_figure_out(r) for r in levels.figures(db, access.project.id)],
        )

    @get("/report-targets", sync_to_thread=True, summary="The RAG thresholds and service-level targets in force")
    def get_targets(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> TargetsIO:
        return _targets_out(projects.get_for(db, request.user, key, Perm.VIEW_REGISTER).project)

    @put(
        "/report-targets",
        sync_to_thread=True,
        summary="Set the project's RAG thresholds and targets (its managers and admins; null: the default)",
    )
    def put_targets(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: JSONBody[TargetsIO]
    ) -> TargetsIO:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        values = data.model_dump()
        form = {k: _as_field(v) for k, v in values.items() if k != "version"} | {
            "version": str(values["version"] or "")
        }
        return _targets_out(targets.update(db, request.user, access, form))

    @post("/service-levels/measures", sync_to_thread=True, summary="Add a reported measure (project settings)")
    def add_measure(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: JSONBody[MeasureIn]
    ) -> MeasureOut:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        return _measure_out(levels.add_measure(db, request.user, access, parse(levels.MeasureForm, data.model_dump())))

    @patch(
        "/service-levels/measures/{measure_id:int}",
        sync_to_thread=True,
        summary="Change a reported measure's name, unit, target or direction (managers; send the version you read)",
    )
    def edit_measure(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        measure_id: FromPath[int],
        data: JSONBody[MeasurePatch],
    ) -> MeasureOut:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        measure = levels.get_measure_for(db, access, measure_id)
        changed = data.model_dump(exclude_unset=True, exclude={"version"})
        form = parse(levels.MeasureForm, levels.measure_values(measure) | changed)
        return _measure_out(levels.edit_measure(db, request.user, access, measure, form, data.version))

    @delete(
        "/service-levels/measures/{measure_id:int}",
        sync_to_thread=True,
        summary="Remove a reported measure with no figures and no service-credit rule naming it (managers; send the "
        "version you read as ?version=)",
    )
    def remove_measure(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        measure_id: FromPath[int],
        version: ExpectedVersion,
    ) -> None:
        """409 when it changed since you read it, when figures are reported against it, or when a service-credit
        rule names it (the detail says which)."""
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        levels.remove_measure(db, request.user, access, levels.get_measure_for(db, access, measure_id), version)

    @post("/service-levels/figures", sync_to_thread=True, summary="Report a month's figure (the contractor)")
    def report_figure(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: JSONBody[FigureIn]
    ) -> ServiceFigureOut:
        access = projects.get_for(db, request.user, key, Perm.DELIVER)
        figure = levels.report(db, request.user, access, parse(levels.FigureForm, data.model_dump()))
        return _figure_out(_row(db, access, figure.id))

    @patch(
        "/service-levels/figures/{figure_id:int}", sync_to_thread=True, summary="Correct a pending or disputed figure"
    )
    def correct_figure(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        figure_id: FromPath[int],
        data: JSONBody[CorrectionIn],
    ) -> ServiceFigureOut:
        access = projects.get_for(db, request.user, key, Perm.DELIVER)
        figure = levels.get_for(db, access, figure_id)
        form = parse(levels.CorrectionForm, data.model_dump(exclude={"version"}))
        levels.correct(db, request.user, access, figure, form, data.version)
        return _figure_out(_row(db, access, figure.id))

    @post("/service-levels/figures/{figure_id:int}/verdict", sync_to_thread=True, summary="Verify or dispute a figure")
    def decide_figure(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        figure_id: FromPath[int],
        data: JSONBody[VerdictIn],
    ) -> ServiceFigureOut:
        access = projects.get_for(db, request.user, key, Perm.VERIFY_FIGURES)
        figure = levels.get_for(db, access, figure_id)
        form = parse(levels.VerdictForm, data.model_dump(exclude={"version"}))
        levels.decide(db, request.user, access, figure, form, data.version)
        return _figure_out(_row(db, access, figure.id))


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
        self,
        request: Request,
        db: NamedDependency[Session],
        sort: FromQuery[str] = "-rag",
        sponsor: FromQuery[str] = "",
        contractor: FromQuery[str] = "",
    ) -> list[PortfolioOut]:
        """`sort`: a column (project, rag, deliverables, risks, issues, trend, critical, escalations, overdue,
        contract, withheld, released, credits, scorecard, period), `-` first for descending; `sponsor` and `contractor` keep
        only that one's projects."""
        return [
            PortfolioOut(
                project_key=r.project.key,
                project_name=r.project.name,
                sponsor=r.project.sponsor,
                contractor=r.project.contractor,
                report_id=r.report_id,
                period_label=r.period,
                rag=r.rag,
                areas=r.areas,
                trend=r.trend,
                rag_history=r.history,
                counts=r.counts,
                contract_value=r.money.payment,
                holdback_withheld=r.money.withheld,
                holdback_released=r.money.released,
                service_credits=r.credits,
                slo_met=r.slo_met,
                slo_measured=r.slo_measured,
                scorecard=r.scorecard,
            )
            for r in reports.portfolio(db, request.user, sort, sponsor, contractor)
        ]
