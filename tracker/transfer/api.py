"""JSON API: import a risk or issue register spreadsheet (preview with dry_run, or import) and export the filtered
register as CSV or XLSX."""

from __future__ import annotations

import json
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath, FromQuery
from pydantic import BaseModel, Field
from sqlmodel import Session

from tracker.core.errors import FormError
from tracker.core.files import FileStore, safe_filename
from tracker.core.forms import Checkbox, Form, parse
from tracker.core.spreadsheet import read_table
from tracker.projects import service as projects
from tracker.projects.permissions import Perm
from tracker.transfer import service as transfer
from tracker.transfer.columns import REGISTERS, Register


class ImportFlags(Form):
    mapping: str = ""
    dry_run: Checkbox = False
    only_valid: Checkbox = False


class RowOut(BaseModel):
    row: int
    code: str
    title: str
    action: str
    changed: list[str]
    errors: dict[str, str]
    id: int | None = None


class ImportOut(BaseModel):
    dry_run: bool
    imported: bool
    columns: dict[str, str | None]  # header in the file -> the column it is read as (null: not imported)
    unrecognised: list[str] = Field(
        description="Columns of the file whose header is neither a column's name nor "
        "one of its aliases, and not mapped: they are not imported"
    )
    counts: dict[str, int]
    rows: list[RowOut]


def _mapping(raw: str, headers: list[str], automatic: dict[int, str]) -> dict[int, str]:
    """The automatic match, with the client's {"header in the file": "column key" or null} on top."""
    if not raw:
        return automatic
    try:
        chosen = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or nested past what Python reads
        chosen = None
    if not isinstance(chosen, dict):
        raise FormError({"mapping": 'Send the mapping as JSON: {"header in the file": "column key" or null}.'})
    mapping = dict(automatic)
    for header, key in chosen.items():
        if header not in headers:
            raise FormError({"mapping": f"The file has no column “{header}”."})
        i = headers.index(header)
        mapping.pop(i, None)
        if key:
            mapping[i] = str(key)
    return mapping


def _out(plan: transfer.ImportPlan, dry_run: bool, imported: bool) -> ImportOut:
    return ImportOut(
        dry_run=dry_run,
        imported=imported,
        columns={h: plan.mapping.get(i) for i, h in enumerate(plan.headers)},
        unrecognised=plan.unrecognised,
        counts={a: plan.count(a) for a in ("create", "update", "unchanged", "invalid")},
        rows=[
            RowOut(
                row=r.number,
                code=r.record.code if r.record else r.code,
                title=r.title,
                action=r.action,
                changed=r.changed,
                errors=r.errors,
                id=r.record.id if r.record else None,
            )
            for r in plan.rows
        ],
    )


class ImportExportApi(Controller):
    """One register's import and export; `handlers` below makes one per kind."""

    tags = ["import and export"]
    register: Register

    @post(
        "/import",
        sync_to_thread=True,
        status_code=200,
        summary="Import a register from XLSX or CSV (managers and staff)",
    )
    def import_register(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> ImportOut:
        """Multipart: `file`, optional `mapping` (JSON, {"header": "column key" or null} over the automatic match),
        `dry_run=true` (preview only) and `only_valid=true` (import the valid rows when some have errors). Rows
        with errors and no `only_valid` answer 422 with the preview in `extra`; nothing is written."""
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        register = transfer.with_custom(db, access, self.register)
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise FormError({"file": "Send the spreadsheet as the multipart field `file`."})
        flags = parse(ImportFlags, {k: v for k, v in data.items() if isinstance(v, str)})
        content = upload.file.read()
        FileStore.from_settings(request.app.state.settings).put(content)  # kept, like any upload; 413 over the limit
        name = safe_filename(upload.filename or "", "register.csv")
        sheet = read_table(name, content)
        mapping = _mapping(flags.mapping, sheet.headers, transfer.auto_mapping(register, sheet.headers))
        plan = transfer.build_plan(db, access, register, sheet, mapping)
        if flags.dry_run:
            return _out(plan, True, False)
        if plan.invalid and not flags.only_valid:
            raise FormError(
                _out(plan, False, False).model_dump(mode="json"),
                detail=f"{len(plan.invalid)} row(s) have errors; nothing was imported.",
            )
        transfer.run(db, request.user, access, plan, only_valid=flags.only_valid, filename=name)
        return _out(plan, False, True)

    @get(
        "/export",
        sync_to_thread=True,
        summary="The filtered register as CSV or XLSX",
        responses={200: ResponseSpec(bytes, False, "text/csv, or the XLSX type with format=xlsx", "*/*")},
    )
    def export(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], format: FromQuery[str] = "csv"
    ) -> Response:
        """The same filters as the register list (`status`, `level`, `category`, `owner`, `overdue`, `due`, `q`,
        `sort` for risks; `status`, `priority`, `owner`, `overdue`, `escalation`, `q`, `sort` for issues), every
        row; the columns are those the import reads."""
        register = self.register
        access = projects.get_for(db, request.user, key, register.spec.view)
        query = transfer.query_for(register, {k: v for k, v in request.query_params.items() if k != "format"})
        body, media, name = transfer.export_file(db, access, register, query, format, request.user.full_name)
        return Response(body, media_type=media, headers={"content-disposition": f'attachment; filename="{name}"'})


# One register's import and export under its own path, for each kind of the kinds table.
handlers = [
    type(
        f"{r.spec.title}TransferApi",
        (ImportExportApi,),
        {"path": f"/api/v1/projects/{{key:str}}/{r.kind}", "register": r},
    )
    for r in REGISTERS.values()
]
