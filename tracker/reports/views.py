"""Pages: a project's status reports (list, live draft with the manager's input, publish, the published snapshot
and its PDF/DOCX/XLSX/CSV), the contractor scorecard, the portfolio rollup, and a project's RAG thresholds and targets."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.core import exports
from tracker.core.errors import FormError, NotFound, StaleEdit
from tracker.core.forms import parse, stale_fields
from tracker.core.web import flash, redirect, render
from tracker.projects import service as projects
from tracker.projects.calendar import project_today
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.register.risks import scoring
from tracker.reports import documents, scorecard, targets
from tracker.reports import service as reports
from tracker.reports.models import ReportStatus, StatusReport
from tracker.reports.periods import Period, last_weeks
from tracker.reports.service import DraftForm, PeriodForm

Form = URLEncodedBody[dict[str, Any]]
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
    content = reports.build(db, access.project, period, draft)
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
            documents.to_xlsx(report.content), "xlsx", documents.filename(report.content, report.number, "xlsx")
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


class ScorecardPage(Controller):
    path = "/projects/{key:str}/scorecard"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = projects.get_for(db, request.user, key, Perm.VIEW_REGISTER)
        errors, status = {}, 200
        try:
            period = _period(access, _period_query(request))
        except FormError as exc:
            errors, status = exc.errors, 422
            period = reports.period_of(access.project, PeriodForm())
        metrics = scorecard.scorecard(db, access.project, period)
        weeks = last_weeks(period.end, len(metrics[0].trend))
        return render(
            request,
            "reports/scorecard.html",
            status=status,
            access=access,
            project=access.project,
            period=period,
            metrics=metrics,
            weeks=weeks,
            errors=errors,
            form=_period_query(request),
            issue_days=scorecard.issue_days_for(access.project),
            recent=last_weeks(project_today(access.project), 8)[::-1],
        )


@get("/portfolio", sync_to_thread=True, include_in_schema=False)
def portfolio_page(request: Request, db: NamedDependency[Session]) -> Template:
    sort = request.query_params.get("sort", "-rag")
    rows = reports.portfolio(db, request.user, sort)
    return render(
        request, "reports/portfolio.html", block="portfolio_table", rows=rows, sort=sort, sorts=reports.PORTFOLIO_SORTS
    )


class ReportSettingsPages(Controller):
    path = "/projects/{key:str}/report-targets"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def show(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        return render(
            request,
            "reports/targets.html",
            access=access,
            project=access.project,
            form=targets.form_values(access.project),
            errors={},
            fields=targets.FIELDS,
        )

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
            return render(
                request,
                "reports/targets.html",
                status=422,
                access=access,
                project=access.project,
                form=data,
                errors=exc.errors,
                fields=targets.FIELDS,
            )
        flash(request, "Report settings saved.")
        return redirect(f"/projects/{access.project.key}/status-reports")


handlers = [ReportPages, ScorecardPage, portfolio_page, ReportSettingsPages]
