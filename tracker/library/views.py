"""Pages: a project's reports library (search, source, mine or shared), the builder with its live preview, the
report page with its paged table, CSV/XLSX exports, edit, duplicate and delete. The builder is one form: its
buttons (add or remove a filter, change source, preview, save) work as plain POSTs, and htmx swaps the form or
the preview in place."""

from __future__ import annotations

import math
import re
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.core import exports
from tracker.core.errors import Forbidden, FormError, StaleEdit
from tracker.core.forms import form_version, parse, stale_fields
from tracker.core.web import flash, redirect, render
from tracker.library import service
from tracker.library.models import SavedReport
from tracker.library.service import LibraryQuery
from tracker.library.sources import (
    MAX_FILTERS,
    ME,
    OPERATOR_LABELS,
    OPERATORS,
    PAGE_SIZES,
    SOURCES,
    Source,
    describe,
    parse_definition,
)
from tracker.projects import service as projects
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.register.common import as_list

Form = URLEncodedBody[dict[str, Any]]
PREVIEW_ROWS = 10


def _base(access: Access) -> str:
    return f"/projects/{access.project.key}/saved-reports"


_people = service.people_of


# --- the builder's state: what the form shows, from a stored definition or from what was posted -----------------


def _blank_filter() -> dict[str, Any]:
    return {"field": "", "op": "", "value": "", "value2": ""}


def _new_state(source_key: str) -> dict[str, Any]:
    source = SOURCES[source_key]
    return {
        "name": "",
        "description": "",
        "shared": False,
        "version": None,
        "source": source.key,
        "columns": list(source.columns),
        "filters": [],
        "page_size": 25,
        "sort": [{"field": source.sort[0], "desc": source.sort[1]}],
    }


def _text(v: Any) -> Any:
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else v if isinstance(v, list) else str(v)


def _state_of(report: SavedReport) -> dict[str, Any]:
    """A stored report as the form shows it, even when its definition no longer validates."""
    raw = report.definition if isinstance(report.definition, dict) else {}
    filters = []
    for f in raw.get("filters") or []:
        f = f if isinstance(f, dict) else {}
        value, value2 = f.get("value"), ""
        if f.get("op") == "between" and isinstance(value, list) and len(value) == 2:
            value, value2 = value
        filters.append(
            {
                "field": str(f.get("field", "")),
                "op": str(f.get("op", "")),
                "value": _text(value),
                "value2": _text(value2),
            }
        )
    sort = [
        {"field": str(s.get("field", "")), "desc": bool(s.get("desc"))}
        for s in raw.get("sort") or []
        if isinstance(s, dict)
    ]
    return {
        "name": report.name,
        "description": report.description,
        "shared": report.shared,
        "version": report.version,
        "source": report.source,
        "columns": [str(c) for c in raw.get("columns") or []],
        "filters": filters,
        "sort": sort,
        "page_size": raw.get("page_size", 25),
    }


def _state_from_form(data: dict[str, Any], access: Access, sources: dict[str, Source]) -> dict[str, Any]:
    allowed = [s.key for s in service.sources_for(access)]
    source = data.get("source") if data.get("source") in allowed else allowed[0]
    fields = list(sources[source].fields)
    if data.get("previous_source") not in (None, source):  # the source changed: start from its defaults
        return (
            _new_state(source)
            | {k: data.get(k, "") for k in ("name", "description", "version")}
            | {"shared": "true" in as_list(data.get("shared"))}
        )

    def position(key: str) -> tuple[int, int]:
        try:
            wanted = int(data.get(f"order.{key}", ""))
        except ValueError:
            wanted = 1000
        return wanted, fields.index(key) if key in fields else len(fields)

    columns = sorted(dict.fromkeys(str(c) for c in as_list(data.get("columns"))), key=position)
    filters = []
    for i in range(MAX_FILTERS + 5):
        if f"filters.{i}.field" in data:
            filters.append({part: data.get(f"filters.{i}.{part}", "") for part in ("field", "op", "value", "value2")})
    sort = [
        {"field": data.get(f"sort.{i}.field", ""), "desc": data.get(f"sort.{i}.dir") == "desc"}
        for i in range(3)
        if f"sort.{i}.field" in data
    ]
    return {
        "name": data.get("name", ""),
        "description": data.get("description", ""),
        "shared": "true" in as_list(data.get("shared")),
        "version": data.get("version"),
        "source": source,
        "columns": columns,
        "filters": filters,
        "sort": sort,
        "page_size": data.get("page_size", 25),
    }


def _definition(state: dict[str, Any]) -> dict[str, Any]:
    filters = []
    for f in state["filters"]:
        value = f["value"]
        if f["op"] == "between":
            value = [value[-1] if isinstance(value, list) and value else value, f["value2"]]
        elif f["op"] == "in":
            value = as_list(value)
        elif isinstance(value, list):
            value = value[-1] if value else ""
        filters.append({"field": f["field"], "op": f["op"], "value": value})
    return {
        "source": state["source"],
        "columns": state["columns"],
        "filters": filters,
        "sort": [s for s in state["sort"] if s["field"]],
        "page_size": state["page_size"],
    }


def _fit_operators(state: dict[str, Any], sources: dict[str, Source]) -> None:
    """After a filter's field changed, offer its kind's operators: keep the chosen one if it still applies."""
    fields = sources[state["source"]].fields
    for f in state["filters"]:
        fld = fields.get(f["field"])
        if fld and f["op"] not in OPERATORS[fld.kind]:
            f["op"], f["value"], f["value2"] = OPERATORS[fld.kind][0], "", ""


# --- rendering ----------------------------------------------------------------------------------------------------


def _builder(
    request: Request,
    db: Session,
    access: Access,
    report: SavedReport | None,
    state: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
    block: str | None = "builder",
    **extra: Any,
) -> Template:
    sources = service.sources_of(db, access.project.id)
    source = sources.get(state["source"]) or sources[service.sources_for(access)[0].key]
    chosen = [c for c in state["columns"] if c in source.fields]
    others = [c for c in source.fields if c not in chosen]
    sort = state["sort"] + [{"field": "", "desc": False}] * max(0, 2 - len(state["sort"]))
    options = {
        "source": [(s.key, s.label) for s in service.sources_for(access)],
        "field": [(k, f.label) for k, f in source.filterable()],
        "sort": [(k, f.label) for k, f in source.sortable()],
        "person": [(ME, "Me (whoever runs the report)"), *_people(db, access.project.id)],
        "page_size": [(n, n) for n in PAGE_SIZES],
        **{kind.value: [(op, OPERATOR_LABELS[op]) for op in ops] for kind, ops in OPERATORS.items()},
    }
    context = {
        "access": access,
        "project": access.project,
        "report": report,
        "state": state,
        "errors": errors,
        "source": source,
        "options": options,
        "column_order": chosen + others,
        "sort_rows": sort,
        "max_filters": MAX_FILTERS,
        "action_url": f"{_base(access)}/{report.id}/edit" if report else f"{_base(access)}/",
        "preview": None,
        "preview_errors": {},
        "stale": None,
        "labels": service.LABELS,
    } | extra
    return render(request, "library/builder.html", block=block, status=status, **context)


def _build(
    request: Request, db: Session, access: Access, report: SavedReport | None, data: dict[str, Any]
) -> Template | Redirect:
    """One POST of the builder form: change its rows, preview, or save."""
    sources = service.sources_of(db, access.project.id)
    state = _state_from_form(data, access, sources)
    action = str(data.get("action") or "save")
    if action == "add_filter" and len(state["filters"]) < MAX_FILTERS:
        state["filters"].append(_blank_filter())
    elif action.startswith("remove:") and action[7:].isdigit() and int(action[7:]) < len(state["filters"]):
        del state["filters"][int(action[7:])]
    if action in ("refresh", "add_filter") or action.startswith("remove:"):
        _fit_operators(state, sources)
        return _builder(request, db, access, report, state, {})
    state["filters"] = [f for f in state["filters"] if f["field"]]
    if action == "preview":
        return _builder(request, db, access, report, state, {}, block=None, **_preview(db, access, request, state))
    try:
        form, definition = service.parse_report(data, _definition(state), sources)
        if report is None:
            report = service.create(db, request.user, access, form, definition)
        else:
            service.update(db, request.user, access, report, form, definition)
    except StaleEdit as exc:
        state["version"] = report.version
        stale = stale_fields(exc.current, data)
        if exc.current["definition"] != definition.model_dump(mode="json"):
            stale["definition"] = "other columns, filters or sort"
        return _builder(request, db, access, report, state, {}, status=409, block=None, stale=stale)
    except FormError as exc:
        return _builder(request, db, access, report, state, exc.errors, status=422, block=None)
    flash(request, f"Report “{report.name}” saved{' and shared with the project' if report.shared else ''}.")
    return redirect(f"{_base(access)}/{report.id}")


def _preview(db: Session, access: Access, request: Request, state: dict[str, Any]) -> dict[str, Any]:
    try:
        definition = parse_definition(_definition(state), service.sources_of(db, access.project.id))
    except FormError as exc:
        return {"preview_errors": exc.errors}
    return {"preview": service.run(db, access, request.user, definition, limit=PREVIEW_ROWS)}


def _report(request: Request, db: Session, key: str, report_id: int) -> tuple[Access, SavedReport]:
    access = projects.get_for(db, request.user, key)
    return access, service.get_for(db, access, request.user, report_id)


def _changeable(request: Request, access: Access, report: SavedReport) -> SavedReport:
    access.require(Perm.BUILD_REPORTS)
    if not service.can_change(access, request.user, report):
        raise Forbidden(detail="Only its owner, or a project manager when it is shared, changes a saved report.")
    return report


def _filename(access: Access, report: SavedReport, ext: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", report.name).strip("-")[:60] or "report"
    return f"{access.project.key}-{slug}.{ext}"


class LibraryPages(Controller):
    path = "/projects/{key:str}/saved-reports"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def index(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = projects.get_for(db, request.user, key)
        query = parse(LibraryQuery, {k: v for k, v in request.query_params.items() if isinstance(v, str)})
        rows = service.library(db, request.user, [access], query)
        return render(
            request,
            "library/index.html",
            block="report_list",
            access=access,
            project=access.project,
            rows=rows,
            query=query,
            sources=service.sources_for(access),
        )

    @get("/new", sync_to_thread=True)
    def new(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = projects.get_for(db, request.user, key, Perm.BUILD_REPORTS)
        wanted = request.query_params.get("source", "")
        allowed = [s.key for s in service.sources_for(access)]
        state = _new_state(wanted if wanted in allowed else allowed[0])
        return _builder(request, db, access, None, state, {}, block=None)

    @post("/", sync_to_thread=True)
    def create(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.BUILD_REPORTS)
        return _build(request, db, access, None, data)

    @post("/preview", sync_to_thread=True)
    def preview(self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form) -> Template:
        """The live preview beside the builder (htmx), from the form as it stands; nothing is saved."""
        access = projects.get_for(db, request.user, key, Perm.BUILD_REPORTS)
        state = _state_from_form(data, access, service.sources_of(db, access.project.id))
        state["filters"] = [f for f in state["filters"] if f["field"]]
        return _builder(request, db, access, None, state, {}, block="preview", **_preview(db, access, request, state))

    @get("/{report_id:int}", sync_to_thread=True)
    def show(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], report_id: FromPath[int]
    ) -> Template:
        access, report = _report(request, db, key, report_id)
        return _show(request, db, access, report)

    @get("/{report_id:int}/export.csv", sync_to_thread=True)
    def export_csv(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], report_id: FromPath[int]
    ) -> Response:
        return _export(request, db, key, report_id, "csv")

    @get("/{report_id:int}/export.xlsx", sync_to_thread=True)
    def export_xlsx(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], report_id: FromPath[int]
    ) -> Response:
        return _export(request, db, key, report_id, "xlsx")

    @get("/{report_id:int}/edit", sync_to_thread=True)
    def edit(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], report_id: FromPath[int]
    ) -> Template:
        access, report = _report(request, db, key, report_id)
        _changeable(request, access, report)
        _, problems = service.stored_definition(report, service.sources_of(db, access.project.id))
        return _builder(request, db, access, report, _state_of(report), problems, block=None)

    @post("/{report_id:int}/edit", sync_to_thread=True)
    def update(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], report_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        access, report = _report(request, db, key, report_id)
        return _build(request, db, access, _changeable(request, access, report), data)

    @post("/{report_id:int}/duplicate", sync_to_thread=True)
    def duplicate(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], report_id: FromPath[int]
    ) -> Redirect:
        access, report = _report(request, db, key, report_id)
        try:
            copy = service.duplicate(db, request.user, access, report)
        except FormError as exc:
            flash(request, exc.detail, "error")
            return redirect(f"{_base(access)}/{report.id}")
        flash(request, f"Copied. “{copy.name}” is private to you until you share it.")
        return redirect(f"{_base(access)}/{copy.id}/edit")

    @post("/{report_id:int}/delete", sync_to_thread=True)
    def delete(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], report_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        access, report = _report(request, db, key, report_id)
        version = form_version(data)
        name = report.name
        try:
            service.delete(db, request.user, access, report, version)
        except StaleEdit as exc:
            return _show(request, db, access, report, status=409, notice=exc.detail)
        flash(request, f"Report “{name}” deleted.")
        return redirect(f"{_base(access)}/")


def _show(
    request: Request, db: Session, access: Access, report: SavedReport, status: int = 200, notice: str | None = None
) -> Template:
    """The report run on the project as it is now; `notice` says why an action on it was not done."""
    sources = service.sources_of(db, access.project.id)
    definition, problems = service.stored_definition(report, sources)
    context: dict[str, Any] = {
        "access": access,
        "project": access.project,
        "report": report,
        "problems": problems,
        "result": None,
        "page": 1,
        "pages": 1,
        "filters": [],
        "source": sources[report.source],
        "can_change": service.can_change(access, request.user, report),
        "can_build": access.can(Perm.BUILD_REPORTS),
    }
    if definition is not None:
        try:
            page = max(1, min(int(request.query_params.get("page", "1")), 100_000))
        except ValueError:
            page = 1
        size = definition.page_size
        result = service.run(db, access, request.user, definition, limit=size, offset=(page - 1) * size)
        people = dict(_people(db, access.project.id))
        context |= {
            "result": result,
            "page": page,
            "pages": max(1, math.ceil(result.total / size)),
            "filters": describe(sources[report.source], definition, people),
        }
    return render(request, "library/report.html", status=status, notice=notice, **context)


def _export(request: Request, db: Session, key: str, report_id: int, fmt: str) -> Response:
    """The whole result, every row, as the table shows it."""
    access, report = _report(request, db, key, report_id)
    definition, problems = service.stored_definition(report, service.sources_of(db, access.project.id))
    if definition is None:
        raise FormError(problems, "This report's definition no longer validates; edit it before exporting.")
    result = service.run(db, access, request.user, definition)
    if fmt == "csv":
        body, media = service.to_csv(result), exports.CSV
    else:
        about = service.export_about(db, access, report, definition, request.user.full_name, result)
        body, media = service.to_xlsx(result, report, about), exports.XLSX
    disposition = f'attachment; filename="{_filename(access, report, fmt)}"'
    return Response(body, media_type=media, headers={"content-disposition": disposition})


handlers = [LibraryPages]
