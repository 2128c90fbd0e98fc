"""JSON API for the saved reports library: the catalog of sources and fields, list, create, read, change, delete,
duplicate, and run (a saved report, or a definition without saving it)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from pydantic import BaseModel, Field
from sqlmodel import Session

from tracker.accounts.models import User
from tracker.core.errors import Conflict
from tracker.core.forms import ApiBody, ExpectedVersion
from tracker.library import service
from tracker.library.models import SavedReport
from tracker.library.service import LibraryQuery, Result
from tracker.library.sources import MAX_COLUMNS, OPERATOR_LABELS, OPERATORS, PAGE_SIZES, SOURCES, parse_definition
from tracker.projects import service as projects
from tracker.projects.permissions import Perm
from tracker.projects.service import Access

DEFINITION_HELP = (
    '{"source": "risks", "columns": ["code", "title", "score"], "filters": [{"field": "level", '
    '"op": "in", "value": ["critical", "high"]}], "sort": [{"field": "score", "desc": true}], '
    '"page_size": 25} — see GET /api/v1/saved-reports/catalog for every field and operator'
)


class ReportIn(ApiBody):
    project: str = Field(description="The project's key", examples=["CWS"])
    name: str
    description: str = ""
    shared: bool = Field(default=False, description="Shared with the project, or private to you")
    definition: dict[str, Any] = Field(description=DEFINITION_HELP)


class ReportPatch(ApiBody):
    """Only the fields sent change; `version` is the one you read (409 when someone saved since)."""

    name: str | None = None
    description: str | None = None
    shared: bool | None = None
    definition: dict[str, Any] | None = None
    version: int


class PreviewIn(ApiBody):
    project: str
    definition: dict[str, Any] = Field(description=DEFINITION_HELP)


class ReportOut(BaseModel):
    id: int
    project: str
    name: str
    description: str
    shared: bool
    source: str
    owner_id: int
    owner_name: str
    definition: dict[str, Any]
    runnable: bool = Field(description="False when the definition no longer validates; `problems` says why")
    problems: dict[str, str]
    can_change: bool
    created_at: datetime
    updated_at: datetime
    version: int


class ColumnOut(BaseModel):
    key: str
    label: str


class RunOut(BaseModel):
    columns: list[ColumnOut]
    rows: list[list[Any]] = Field(
        description="Cells as the report page shows them: dates as YYYY-MM-DD, times as ISO 8601 in the zone the reader"
        " reads times in (their own, else the project's), with its offset"
    )
    links: list[str] = Field(description="Each row's record page")
    total: int
    limit: int
    offset: int


class FieldOut(BaseModel):
    key: str
    label: str
    kind: str
    operators: list[str]
    choices: list[str]
    sortable: bool
    filterable: bool


class SourceOut(BaseModel):
    key: str
    label: str
    fields: list[FieldOut]
    default_columns: list[str]


class CatalogOut(BaseModel):
    sources: list[SourceOut]
    operators: dict[str, str]
    page_sizes: list[int]
    max_columns: int
    relative_dates: str


def _out(db: Session, access: Access, request: Request, report: SavedReport, sources: dict | None = None) -> ReportOut:
    _, problems = service.stored_definition(report, sources or service.sources_of(db, report.project_id))
    owner = db.get(User, report.owner_id)
    return ReportOut(
        **report.model_dump(
            include={
                "id",
                "name",
                "description",
                "shared",
                "source",
                "owner_id",
                "definition",
                "created_at",
                "updated_at",
                "version",
            }
        ),
        project=access.project.key,
        owner_name=owner.full_name if owner else "",
        runnable=not problems,
        problems=problems,
        can_change=service.can_change(access, request.user, report),
    )


def _cell(v: Any) -> Any:
    return float(v) if isinstance(v, Decimal) else v


def _run_out(result: Result, limit: int, offset: int) -> RunOut:
    return RunOut(
        columns=[ColumnOut(key=k, label=h) for k, h in zip(result.keys, result.headers, strict=True)],
        rows=[[_cell(v) for v in row] for row in result.rows],
        links=result.links,
        total=result.total,
        limit=limit,
        offset=offset,
    )


def _runnable(db: Session, report: SavedReport) -> Any:
    definition, problems = service.stored_definition(report, service.sources_of(db, report.project_id))
    if definition is None:
        raise Conflict(
            detail="This report's definition no longer validates; change it before running it.", extra=problems
        )
    return definition


class SavedReportsApi(Controller):
    path = "/api/v1/saved-reports"
    tags = ["saved reports"]

    @get("/", sync_to_thread=True, summary="The reports you may read: yours and the shared ones, every project")
    def list_reports(
        self,
        request: Request,
        db: NamedDependency[Session],
        project: FromQuery[str | None] = None,
        source: FromQuery[str | None] = None,
        whose: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
    ) -> list[ReportOut]:
        """`whose` is `mine` or `shared`; `source` one of the catalog's; `q` searches names and descriptions."""
        if project:
            accesses = [projects.get_for(db, request.user, project)]
        else:
            accesses = service.all_accesses(db, request.user)
        by_id = {a.project.id: a for a in accesses}
        query = LibraryQuery(q=(q or "")[:100], source=source or "", whose=whose or "")
        rows = service.library(db, request.user, accesses, query)
        sources = {p: service.sources_of(db, p) for p in {r.report.project_id for r in rows}}  # one query a project
        return [_out(db, by_id[r.report.project_id], request, r.report, sources[r.report.project_id]) for r in rows]

    @post("/", sync_to_thread=True, summary="Save a report (managers and staff)")
    def create_report(self, request: Request, db: NamedDependency[Session], data: JSONBody[ReportIn]) -> ReportOut:
        access = projects.get_for(db, request.user, data.project)
        form, definition = service.parse_report(
            data.model_dump(include={"name", "description", "shared"}),
            data.definition,
            service.sources_of(db, access.project.id),
        )
        report = service.create(db, request.user, access, form, definition)
        return _out(db, access, request, report)

    @get("/catalog", sync_to_thread=True, summary="Every source, its fields, and the operators each field takes")
    def catalog(self) -> CatalogOut:
        return CatalogOut(
            sources=[
                SourceOut(
                    key=s.key,
                    label=s.label,
                    default_columns=list(s.columns),
                    fields=[
                        FieldOut(
                            key=k,
                            label=f.label,
                            kind=f.kind.value,
                            operators=list(OPERATORS[f.kind]) if f.filterable else [],
                            choices=[v for v, _ in f.choices],
                            sortable=f.sortable,
                            filterable=f.filterable,
                        )
                        for k, f in s.fields.items()
                    ],
                )
                for s in SOURCES.values()
            ],
            operators=OPERATOR_LABELS,
            page_sizes=list(PAGE_SIZES),
            max_columns=MAX_COLUMNS,
            relative_dates="Dates take YYYY-MM-DD or today, today-N, today+N (the project's day when the report runs); "
            'a person filter takes a user id or "me" (whoever runs the report).',
        )

    @post("/preview", sync_to_thread=True, status_code=200, summary="Run a definition without saving it")
    def preview(
        self,
        request: Request,
        db: NamedDependency[Session],
        data: JSONBody[PreviewIn],
        limit: FromQuery[int] = 25,
        offset: FromQuery[int] = 0,
    ) -> RunOut:
        access = projects.get_for(db, request.user, data.project, Perm.BUILD_REPORTS)
        definition = parse_definition(data.definition, service.sources_of(db, access.project.id))
        limit, offset = min(max(limit, 1), 500), max(offset, 0)
        return _run_out(service.run(db, access, request.user, definition, limit, offset), limit, offset)

    @get("/{report_id:int}", sync_to_thread=True, summary="One saved report")
    def get_report(self, request: Request, db: NamedDependency[Session], report_id: FromPath[int]) -> ReportOut:
        access, report = service.load_for(db, request.user, report_id)
        return _out(db, access, request, report)

    @patch("/{report_id:int}", sync_to_thread=True, summary="Change a report (send the version you read)")
    def patch_report(
        self, request: Request, db: NamedDependency[Session], report_id: FromPath[int], data: JSONBody[ReportPatch]
    ) -> ReportOut:
        access, report = service.load_for(db, request.user, report_id)
        sent = data.model_dump(exclude_unset=True)
        values = {"name": report.name, "description": report.description, "shared": report.shared} | {
            k: v for k, v in sent.items() if k in ("name", "description", "shared", "version")
        }
        sources = service.sources_of(db, access.project.id)
        form, definition = service.parse_report(values, sent.get("definition", report.definition), sources)
        service.update(db, request.user, access, report, form, definition)
        return _out(db, access, request, report)

    @delete(
        "/{report_id:int}",
        sync_to_thread=True,
        summary="Delete a report (its owner, or a manager if shared; send the version you read as ?version=)",
    )
    def delete_report(
        self, request: Request, db: NamedDependency[Session], report_id: FromPath[int], version: ExpectedVersion
    ) -> None:
        access, report = service.load_for(db, request.user, report_id)
        service.delete(db, request.user, access, report, version)

    @post("/{report_id:int}/duplicate", sync_to_thread=True, summary="A private copy for you")
    def duplicate(self, request: Request, db: NamedDependency[Session], report_id: FromPath[int]) -> ReportOut:
        access, report = service.load_for(db, request.user, report_id)
        return _out(db, access, request, service.duplicate(db, request.user, access, report))

    @get("/{report_id:int}/run", sync_to_thread=True, summary="Run it: the rows you may see, paged")
    def run(
        self,
        request: Request,
        db: NamedDependency[Session],
        report_id: FromPath[int],
        limit: FromQuery[int | None] = None,
        offset: FromQuery[int] = 0,
    ) -> RunOut:
        """`limit` defaults to the report's page size (at most 500)."""
        access, report = service.load_for(db, request.user, report_id)
        definition = _runnable(db, report)
        limit, offset = min(max(limit or definition.page_size, 1), 500), max(offset, 0)
        return _run_out(service.run(db, access, request.user, definition, limit, offset), limit, offset)


handlers = [SavedReportsApi]
