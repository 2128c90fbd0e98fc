"""Pages: a project's status reports (list, live draft with the manager's input, publish, the published snapshot
and its PDF/DOCX/XLSX/CSV), the contractor scorecard, the portfolio rollup, and a project's RAG thresholds and targets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.audit import service as audit
from tracker.core import exports, memo
from tracker.core.db import detach, request_db
from tracker.core.errors import Conflict, FormError, NotFound, StaleEdit
from tracker.core.forms import form_version, parse, stale_fields
from tracker.core.web import flash, redirect, render
from tracker.projects import service as projects
from tracker.projects import views as project_pages
from tracker.projects.calendar import project_today
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.register.lessons import service as lessons
from tracker.register.risks import scoring
from tracker.reports import credits, documents, levels, overview, rag, scorecard, targets, trends
from tracker.reports import service as reports
from tracker.reports.models import ReportStatus, ServiceMeasure, StatusReport
from tracker.reports.periods import Period, last_weeks
from tracker.reports.service import DraftForm, PeriodForm

Form = URLEncodedBody[dict[str, Any]]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
MEDIA = {
    "pdf": "application/pdf",
    "csv": exports.CSV,
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _period_query(request: Request) -> dict[str, str]:
    return {k: request.query_params[k] for k in ("period_start", "period_end") if request.query_params.get(k)}


def _index(
    request: Request, db: Session, access: Access, errors: dict[str, str] | None = None, status: int = 200
) -> Template:
    today = project_today(access.project)
    return render(
        request,
        "reports/index.html",
        status=status,
        access=access,
        project=access.project,
        rows=reports.published(db, access.project.id),
        weeks=last_weeks(today, 8)[::-1],
        form=_period_query(request),
        errors=errors or {},
        period_params=reports.period_params,
    )


def _draft(
    request: Request,
    db: Session,
    access: Access,
    period: Period,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    stale: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    draft = reports.draft_for(db, access.project, period)
    content, kept = reports.kept_build(db, access.project, period, draft)
    versions = [
        r
        for r in reports.published(db, access.project.id)
        if (r.report.period_start, r.report.period_end) == (period.start, period.end)
    ]
    all_url = f"/projects/{access.project.key}/status-reports/draft?{reports.period_params(period)}&all=1"
    return render(
        request,
        "reports/draft.html",
        block="draft",
        status=status,
        access=access,
        project=access.project,
        period=period,
        draft=draft,
        c=content,
        kept=kept,
        form=form or reports.form_values(draft),
        errors=errors or {},
        stale=stale,
        labels=reports.LABELS,
        versions=versions,
        scoring=scoring,
        q=reports.period_params(period),
        can_publish=access.can(Perm.PUBLISH),
        all_url=all_url,
        show_all=_show_all(request),
    )


def _show_all(request: Request) -> bool:
    """A report page shows the first rows of each long list unless asked for all (?all=1)."""
    return request.query_params.get("all") == "1"


def _period(access: Access, data: dict[str, Any]) -> Period:
    return reports.period_of(
        access.project, parse(PeriodForm, {k: data.get(k) for k in ("period_start", "period_end")})
    )


def _download(body: bytes, kind: str, name: str) -> Response:
    return Response(
        content=body, media_type=MEDIA[kind], headers={"content-disposition": f'attachment; filename="{name}"'}
    )


class ReportPages(Controller):
    path = "/projects/{key:str}/status-reports"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def index(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        return _index(request, db, projects.get_for(db, request.user, key, Perm.VIEW_REGISTER))

    @get("/draft", sync_to_thread=True)
    def draft(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        """The live draft of a period (managers and staff; viewers read what is published)."""
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        try:
            period = _period(access, _period_query(request))
        except FormError as exc:
            return _index(request, db, access, exc.errors, status=422)
        return _draft(request, db, access, period)

    @post("/draft", sync_to_thread=True)
    def save(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.PUBLISH)
        period = _period(access, data)
        try:
            reports.save_draft(db, request.user, access, period, parse(DraftForm, data))
        except StaleEdit as exc:
            draft = reports.draft_for(db, access.project, period)
            return _draft(
                request,
                db,
                access,
                period,
                data | {"number": draft.number, "version": reports.seen_version(draft)},
                stale=stale_fields(exc.current, data),
                status=409,
            )
        except FormError as exc:
            return _draft(request, db, access, period, data, exc.errors, status=422)
        if request.headers.get("hx-request"):
            return _draft(request, db, access, period)
        flash(request, "Draft saved.")
        return redirect(f"/projects/{access.project.key}/status-reports/draft?{reports.period_params(period)}")

    @post("/publish", sync_to_thread=True)
    def publish(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.PUBLISH)
        period = _period(access, data)
        try:
            number, version = int(data.get("number") or 0), data.get("version")
            report = reports.publish(db, request.user, access, period, number, int(version) if version else None)
        except StaleEdit:
            flash(
                request,
                "Someone changed this draft or published it after you opened it. Check the report below "
                "as it stands now, then publish again.",
                "error",
            )
            return redirect(f"/projects/{access.project.key}/status-reports/draft?{reports.period_params(period)}")
        except ValueError:
            raise FormError({"number": "Reload the draft and publish again."}) from None
        flash(request, f"Published: {period.label}" + (f", version {report.number}." if report.number > 1 else "."))
        return redirect(f"/projects/{access.project.key}/status-reports/{report.id}")

    def _published(self, db: Session, request: Request, key: str, report_id: int) -> tuple[Access, StatusReport]:
        access = projects.get_for(db, request.user, key, Perm.VIEW_REGISTER)
        report = reports.get_for(db, access, report_id)
        if report.status != ReportStatus.PUBLISHED:
            raise NotFound(detail="No such published status report; drafts are on the draft page.")
        return access, report

    @get("/{report_id:int}", sync_to_thread=True)
    def show(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], report_id: FromPath[int]
    ) -> Template:
        access, report = self._published(db, request, key, report_id)
        period = Period(report.period_start, report.period_end)
        versions = [
            r
            for r in reports.published(db, access.project.id)
            if (r.report.period_start, r.report.period_end) == (period.start, period.end)
        ]
        row = next(r for r in versions if r.report.id == report.id)
        return render(
            request,
            "reports/report.html",
            access=access,
            project=access.project,
            row=row,
            c=report.content,
            versions=versions,
            period=period,
            scoring=scoring,
            tables=documents.TABLES,
            q=reports.period_params(period),
            show_all=_show_all(request),
            all_url=f"/projects/{access.project.key}/status-reports/{report.id}?all=1",
        )

    @get("/{report_id:int}/report.pdf", sync_to_thread=True)
    def pdf(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], report_id: FromPath[int]
    ) -> Response:
        """Rendered from the frozen snapshot, so every download of a report is the same report."""
        access, report = self._published(db, request, key, report_id)
        row = reports.row_of(db, report)
        paper = request.query_params.get("paper", "letter")
        html = documents.render_print(report.content, meta=documents.meta_line(row), scoring=scoring)
        return _download(documents.to_pdf(html, paper), "pdf", documents.filename(report.content, report.number, "pdf"))

    @get("/{report_id:int}/report.docx", sync_to_thread=True)
    def docx(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], report_id: FromPath[int]
    ) -> Response:
        access, report = self._published(db, request, key, report_id)
        body = documents.to_docx(report.content, documents.meta_line(reports.row_of(db, report)))
        return _download(body, "docx", documents.filename(report.content, report.number, "docx"))

    @get("/{report_id:int}/report.xlsx", sync_to_thread=True)
    def xlsx(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], report_id: FromPath[int]
    ) -> Response:
        access, report = self._published(db, request, key, report_id)
        return _download(
            documents.to_xlsx(report.content, report.number, request.user.full_name),
            "xlsx",
            documents.filename(report.content, report.number, "xlsx"),
        )

    @get("/{report_id:int}/tables/{name:str}", sync_to_thread=True)
    def csv(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        report_id: FromPath[int],
        name: FromPath[str],
    ) -> Response:
        access, report = self._published(db, request, key, report_id)
        name = name.removesuffix(".csv")
        if name not in documents.BY_NAME:
            raise NotFound(detail=f"The report has no table '{name}'.")
        return _download(
            documents.to_csv(report.content, name),
            "csv",
            documents.filename(report.content, report.number, "csv", name),
        )


def _scorecard_period(access: Access, request: Request) -> tuple[Period, dict[str, str], int]:
    """The period asked for, else the last complete one; with the period chooser's errors and status."""
    asked = _period_query(request)
    if not asked:
        return scorecard.last_complete(access.project), {}, 200
    try:
        return _period(access, asked), {}, 200
    except FormError as exc:
        return scorecard.last_complete(access.project), exc.errors, 422


def _scorecard_context(db: Session, access: Access, period: Period) -> dict[str, Any]:
    """Everything the scorecard page and its export show, in a fixed number of queries."""
    project = access.project
    card = scorecard.card(db, project, period)

    def reported() -> tuple[list, list]:  # kept with the card: what it reads is the same project's record
        measures = levels.measures(db, project.id)
        rows = levels.figures(db, project.id, since=card.periods[0].start - timedelta(days=31), until=period.end)
        labels = credits.choices(measures)
        earned, latest = credits.for_card(db, project, card, rows, labels), levels.latest(measures, rows, period)
        detach(db, [*measures, *(r.measure for r in rows), *(r.figure for r in rows)])  # shared with other requests
        return earned, latest

    earned, latest = memo.kept(("credits",) + card.kept, reported)
    return {
        "card": card,
        "metrics": card.metrics,
        "weeks": card.periods,
        "credits": earned,
        "reported": latest,
        "table": credits.table_of(project),
    }


class ScorecardPage(Controller):
    path = "/projects/{key:str}/scorecard"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = projects.get_for(db, request.user, key, Perm.VIEW_REGISTER)
        period, errors, status = _scorecard_period(access, request)
        return render(
            request,
            "reports/scorecard.html",
            status=status,
            access=access,
            project=access.project,
            period=period,
            errors=errors,
            form=_period_query(request),
            issue_days=scorecard.issue_days_for(access.project),
            recent=last_weeks(project_today(access.project), 8)[::-1],
            q=reports.period_params(period),
            **_scorecard_context(db, access, period),
        )

    @get("/scorecard.xlsx", sync_to_thread=True)
    def xlsx(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Response:
        access = projects.get_for(db, request.user, key, Perm.VIEW_REGISTER)
        period, errors, _ = _scorecard_period(access, request)
        if errors:
            raise FormError(errors)
        body = documents.scorecard_xlsx(access.project, period, _scorecard_context(db, access, period))
        return _download(body, "xlsx", f"{access.project.key}-scorecard-{period.end}.xlsx")


def _portfolio_query(request: Request) -> dict[str, str]:
    """The portfolio's sort and filters as the address gives them (kept in the form, the headers and the exports)."""
    return {k: request.query_params.get(k, "") for k in ("sort", *reports.PORTFOLIO_FILTERS)}


def _portfolio_args(q: dict[str, str]) -> dict[str, str]:
    return {"sort": q["sort"] or "-rag", **{k: q[k] for k in reports.PORTFOLIO_FILTERS}}


@dataclass(frozen=True)
class Offers:
    portfolio: bool = False
    lessons: bool = False


def menu_offers(context: dict[str, Any]) -> Offers:
    """For the menu (a template callable): the cross-project pages the signed-in reader has a line in (never a
    contractor's), from what they may do in some project, in one query."""
    request = context["request"]
    user = request.scope.get("user")
    if user is None:
        return Offers()
    with request_db(request) as db:
        can = projects.perms_anywhere(db, user)
    return Offers(portfolio=reports.PORTFOLIO in can.live, lessons=lessons.READ in can.ever)


@get("/portfolio", sync_to_thread=True, include_in_schema=False)
def portfolio_page(request: Request, db: NamedDependency[Session]) -> Template:
    q = _portfolio_query(request)
    view = reports.portfolio_view(db, request.user, **_portfolio_args(q))
    return render(
        request,
        "reports/portfolio.html",
        block="portfolio_table",
        p=view,
        rows=view.rows,
        sort=q["sort"] or "-rag",
        q=q,
        filters=urlencode({k: q[k] for k in reports.PORTFOLIO_FILTERS if q[k]}),
    )


@get("/portfolio.pdf", sync_to_thread=True, include_in_schema=False)
def portfolio_pdf(request: Request, db: NamedDependency[Session]) -> Response:
    """One landscape page: the table with each project's RAG history, for leadership's pack."""
    q = _portfolio_query(request)
    view = reports.portfolio_view(db, request.user, **_portfolio_args(q))
    html = documents.render_portfolio(view, q)
    return _download(documents.to_pdf(html, documents.LANDSCAPE), "pdf", documents.portfolio_filename(view, "pdf"))


@get("/portfolio.xlsx", sync_to_thread=True, include_in_schema=False)
def portfolio_xlsx(request: Request, db: NamedDependency[Session]) -> Response:
    q = _portfolio_query(request)
    view = reports.portfolio_view(db, request.user, **_portfolio_args(q))
    chosen = [(k.capitalize(), q[k]) for k in reports.PORTFOLIO_FILTERS if q[k]]
    about = exports.About(request.user.full_name, [*chosen, ("Sort", q["sort"] or "-rag")])
    return _download(documents.portfolio_xlsx(view, about), "xlsx", documents.portfolio_filename(view, "xlsx"))


@get("/projects/{key:str}/trends", sync_to_thread=True, include_in_schema=False)
def trends_page(request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
    access = projects.get_for(db, request.user, key, Perm.VIEW_REGISTER)
    return render(
        request,
        "reports/trends.html",
        access=access,
        project=access.project,
        t=trends.project_trends(db, access.project),
        buckets=trends.AGE_BUCKETS,
        areas=[("overall", "Overall"), *rag.AREAS.items()],
    )


@get("/projects/{key:str}", sync_to_thread=True, include_in_schema=False)
def project_overview(request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
    """The project's page: its dashboard above its terms, members and recent history."""
    access = projects.get_for(db, request.user, key)
    return project_pages.overview_page(
        request, db, access, ov=overview.overview(db, access), scoring=scoring, soon_days=overview.SOON_DAYS
    )


def _settings(
    request: Request,
    db: Session,
    access: Access,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    credit_form: dict[str, Any] | None = None,
    credit_errors: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    """The report settings page: RAG thresholds and targets, and the service-credit table."""
    measures = levels.measures(db, access.project.id)
    credit_form = credit_form or credits.form_values(access.project)
    rows = credit_form.get("rows") or credits.BLANK_ROWS + sum(
        1 for k in credit_form if k.startswith("credit-") and k.endswith("-metric")
    )
    return render(
        request,
        "reports/targets.html",
        status=status,
        access=access,
        project=access.project,
        form=form or targets.form_values(access.project),
        errors=errors or {},
        fields=targets.FIELDS,
        credit_form=credit_form,
        credit_errors=credit_errors or {},
        credit_rows=int(rows),
        metric_choices=list(credits.choices(measures).items()),
        comparisons=list(credits.COMPARISONS.items()),
    )


class ReportSettingsPages(Controller):
    path = "/projects/{key:str}/report-targets"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        return _settings(request, db, projects.get_for(db, request.user, key, Perm.MANAGE))

    @post("/", sync_to_thread=True)
    def save(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        try:
            targets.update(db, request.user, access, data)
        except StaleEdit:
            flash(request, "Someone else changed this project's settings first; here are theirs.", "error")
            return redirect(f"/projects/{access.project.key}/report-targets")
        except FormError as exc:
            return _settings(request, db, access, form=data, errors=exc.errors, status=422)
        flash(request, "Report settings saved.")
        return redirect(f"/projects/{access.project.key}/status-reports")

    @post("/credits", sync_to_thread=True)
    def save_credits(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        labels = credits.choices(levels.measures(db, access.project.id))
        try:
            credits.update(db, request.user, access, data, labels)
        except StaleEdit:
            flash(request, "Someone else changed this project's settings first; here are theirs.", "error")
            return _settings(request, db, access, status=409)
        except FormError as exc:
            return _settings(request, db, access, credit_form=data, credit_errors=exc.errors, status=422)
        flash(request, "Service credits saved.")
        return redirect(f"/projects/{access.project.key}/report-targets#credits")


MAX_IMPORT_BYTES = 2 * 1024 * 1024


def _reported(
    request: Request,
    db: Session,
    access: Access,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    import_errors: list[tuple[int, str]] | None = None,
    measure_form: dict[str, Any] | None = None,
    measure_errors: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    measures = levels.measures(db, access.project.id)
    return render(
        request,
        "reports/reported.html",
        status=status,
        access=access,
        project=access.project,
        measures=measures,
        measure_options=[(m.id, m.name) for m in measures],
        rows=levels.figures(db, access.project.id),
        form=form or {"month": f"{project_today(access.project).replace(day=1) - timedelta(days=1):%Y-%m}"},
        errors=errors or {},
        import_errors=import_errors or [],
        measure_form=measure_form or {"higher_is_better": "true"},
        measure_errors=measure_errors or {},
        columns=levels.IMPORT_COLUMNS,
    )


def _figure_page(
    request: Request,
    db: Session,
    access: Access,
    figure_id: int,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    verdict: dict[str, Any] | None = None,
    verdict_errors: dict[str, str] | None = None,
    stale: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    figure = levels.get_for(db, access, figure_id)
    row = next(r for r in levels.figures(db, access.project.id) if r.figure.id == figure.id)
    return render(
        request,
        "reports/figure.html",
        status=status,
        access=access,
        project=access.project,
        row=row,
        form=form or {"value": f"{figure.value.normalize():f}", "notes": figure.note, "version": figure.version},
        errors=errors or {},
        verdict=verdict or {"version": figure.version},
        verdict_errors=verdict_errors or {},
        stale=stale,
        labels=levels.LABELS,
        correctable=figure.status in levels.CORRECTABLE,
        history=audit.for_entity(db, "service_figure", figure.id),
    )


def _measure_page(
    request: Request,
    db: Session,
    access: Access,
    measure: ServiceMeasure,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    stale: dict[str, Any] | None = None,
    refused: str = "",
    status: int = 200,
) -> Template:
    """A measure's page: its form, whether it may be removed, and its history."""
    return render(
        request,
        "reports/measure.html",
        status=status,
        access=access,
        project=access.project,
        measure=measure,
        form=form or levels.measure_values(measure) | {"version": measure.version},
        errors=errors or {},
        stale=stale,
        labels=levels.LABELS,
        refused=refused,
        refusals=levels.removal_refusals(db, access.project, measure),
        history=audit.for_entity(db, "service_measure", measure.id),
    )


class ReportedPages(Controller):
    """The service levels the contractor reports: read by the State's readers and the contractor, entered and corrected
    by the contractor, verified or disputed by the State; their measures added, changed and removed by the project's
    managers."""

    path = "/projects/{key:str}/scorecard/reported"
    include_in_schema = False

    def _access(self, db: Session, request: Request, key: str) -> Access:
        access = projects.get_for(db, request.user, key, Perm.VIEW)
        levels.require_any(access, *levels.READ)
        return access

    @get("/", sync_to_thread=True)
    def index(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        return _reported(request, db, self._access(db, request, key))

    @post("/", sync_to_thread=True)
    def enter(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.DELIVER)
        try:
            levels.report(db, request.user, access, parse(levels.FigureForm, data))
        except FormError as exc:
            return _reported(request, db, access, form=data, errors=exc.errors, status=422)
        flash(request, "Figure reported; it awaits the State's verification.")
        return redirect(f"/projects/{access.project.key}/scorecard/reported")

    @post("/import", sync_to_thread=True)
    def upload(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Multipart
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.DELIVER)
        upload = data.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return _reported(request, db, access, errors={"file": "Choose a file to upload."}, status=422)
        content = upload.file.read(MAX_IMPORT_BYTES + 1)
        if len(content) > MAX_IMPORT_BYTES:
            return _reported(request, db, access, errors={"file": "The file may be at most 2 MB."}, status=413)
        try:
            result = levels.import_figures(db, request.user, access, upload.filename, content)
        except FormError as exc:
            return _reported(request, db, access, errors=exc.errors, status=422)
        if result.errors:
            return _reported(
                request, db, access, errors={"file": "Nothing was imported."}, import_errors=result.errors, status=422
            )
        flash(request, f"Imported {result.added} figure{'s' if result.added != 1 else ''}; they await verification.")
        return redirect(f"/projects/{access.project.key}/scorecard/reported")

    @post("/measures", sync_to_thread=True)
    def add_measure(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        try:
            levels.add_measure(db, request.user, access, parse(levels.MeasureForm, data))
        except FormError as exc:
            return _reported(request, db, access, measure_form=data, measure_errors=exc.errors, status=422)
        flash(request, "Measure added.")
        return redirect(f"/projects/{access.project.key}/scorecard/reported")

    @get("/measures/{measure_id:int}", sync_to_thread=True)
    def measure(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], measure_id: FromPath[int]
    ) -> Template:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        return _measure_page(request, db, access, levels.get_measure_for(db, access, measure_id))

    @post("/measures/{measure_id:int}", sync_to_thread=True)
    def edit_measure(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], measure_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        measure = levels.get_measure_for(db, access, measure_id)
        try:
            levels.edit_measure(db, request.user, access, measure, parse(levels.MeasureForm, data), form_version(data))
        except StaleEdit as exc:
            # the input is kept, the version is the stored one: saving again is a deliberate overwrite
            stale = stale_fields(exc.current, data) or exc.current
            if "higher_is_better" in stale:
                stale["higher_is_better"] = "yes" if stale["higher_is_better"] in (True, "true") else "no"
            form = data | {"version": measure.version}
            return _measure_page(request, db, access, measure, form=form, stale=stale, status=409)
        except FormError as exc:
            return _measure_page(request, db, access, measure, form=data, errors=exc.errors, status=422)
        flash(request, f"Measure saved: {measure.name}.")
        return redirect(f"/projects/{access.project.key}/scorecard/reported")

    @post("/measures/{measure_id:int}/delete", sync_to_thread=True)
    def remove_measure(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], measure_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        measure = levels.get_measure_for(db, access, measure_id)
        try:
            levels.remove_measure(db, request.user, access, measure, form_version(data))
        except Conflict as exc:  # changed since it was read, or figures or a credit rule rest on it
            return _measure_page(request, db, access, measure, refused=exc.detail, status=409)
        flash(request, f"Measure removed: {measure.name}.")
        return redirect(f"/projects/{access.project.key}/scorecard/reported")

    @get("/{figure_id:int}", sync_to_thread=True)
    def show(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], figure_id: FromPath[int]
    ) -> Template:
        return _figure_page(request, db, self._access(db, request, key), figure_id)

    @post("/{figure_id:int}", sync_to_thread=True)
    def correct(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], figure_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.DELIVER)
        figure = levels.get_for(db, access, figure_id)
        try:
            levels.correct(db, request.user, access, figure, parse(levels.CorrectionForm, data), form_version(data))
        except StaleEdit as exc:
            # the input is kept, the version is the stored one: saving again is a deliberate overwrite
            stale = stale_fields(exc.current, data) or {k: exc.current[k] for k in ("status",)}
            form = data | {"version": figure.version}
            return _figure_page(request, db, access, figure_id, form=form, stale=stale, status=409)
        except FormError as exc:
            return _figure_page(request, db, access, figure_id, form=data, errors=exc.errors, status=422)
        flash(request, "Figure corrected; it awaits the State's verification again.")
        return redirect(f"/projects/{access.project.key}/scorecard/reported/{figure_id}")

    @post("/{figure_id:int}/verdict", sync_to_thread=True)
    def decide(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], figure_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.VERIFY_FIGURES)
        figure = levels.get_for(db, access, figure_id)
        try:
            levels.decide(db, request.user, access, figure, parse(levels.VerdictForm, data), form_version(data))
        except StaleEdit as exc:  # what the figure says now, so the verdict is given on it
            stale = {k: exc.current[k] for k in ("value", "status", "reason") if exc.current.get(k)}
            fresh = {"version": figure.version}
            return _figure_page(request, db, access, figure_id, verdict=data | fresh, stale=stale, status=409)
        except FormError as exc:
            return _figure_page(request, db, access, figure_id, verdict=data, verdict_errors=exc.errors, status=422)
        flash(
            request,
            "Figure verified." if figure.status == "verified" else "Figure disputed; the contractor is told why.",
        )
        return redirect(f"/projects/{access.project.key}/scorecard/reported/{figure_id}")


handlers = [
    ReportPages,
    ScorecardPage,
    ReportedPages,
    portfolio_page,
    portfolio_pdf,
    portfolio_xlsx,
    trends_page,
    project_overview,
    ReportSettingsPages,
]
