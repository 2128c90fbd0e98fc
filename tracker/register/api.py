"""The JSON API every register kind has, written once from its row of the kinds table: the project's list (filtered,
sorted, paged) and create, and one record's read and change. The bodies are derived from the kind's form, so a
field is declared once; a kind's api module adds what is its own (the heat map, reviews, the decision log).

(No `from __future__ import annotations` here: the handlers' types are the kind's own classes, made per kind.)"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from annotated_types import MaxLen
from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIType, Operation, Parameter, Schema
from litestar.params import FromPath, FromQuery, JSONBody
from pydantic import BaseModel, Field, create_model
from pydantic.fields import FieldInfo
from sqlmodel import Session

from tracker.core.forms import ApiBody, parse
from tracker.projects import service as projects
from tracker.projects.service import Access
from tracker.register import bulk, common
from tracker.register.custom import service as custom
from tracker.register.kinds import Kind

MAX_LIMIT = 500
NOT_IN_BODIES = ("version", "page")  # the version is the Patch's own, required field
CUSTOM_HELP = (
    "The project's custom fields of this register (GET /api/v1/projects/{key}/custom-fields), by key or label: "
    "text, a number, a date (2026-03-31), a choice, a list of choices, a member's user id; null clears one"
)


def _custom_name(f: Any) -> str:
    """A custom field's value as a 422 names it."""
    return f"custom_fields.{f.key}"


@cache
def with_custom(out: type[BaseModel]) -> type[BaseModel]:
    """The kind's answer with its record's custom fields, {key: value}."""
    return create_model(
        out.__name__,
        __base__=out,
        __module__=out.__module__,
        custom_fields=(dict[str, Any], Field(default_factory=dict, description=CUSTOM_HELP)),
    )


def write(
    db: Session, request: Request, access: Access, kind: Kind, record: Any, values: dict[str, Any], partial: bool
) -> Any:
    """A record created (record None) or changed with the custom fields the body names (register/custom)."""
    fields = custom.definitions(db, access.project.id, kind.entity)
    raw = custom.by_name(fields, values.pop("custom_fields", None))
    return custom.save(db, request.user, access, kind, record, values, raw, partial, fields, _custom_name)


def _body_field(f: FieldInfo, description: str | None) -> Any:
    """The form field's type, limit and default; what the text must say is the form's to check (a 422 naming the
    field, as on the page), so only the shape is the body's (a 400)."""
    limit = next((m.max_length for m in f.metadata if isinstance(m, MaxLen)), None)
    if f.default_factory is not None:
        return Field(default_factory=f.default_factory, max_length=limit, description=description)
    if f.is_required():
        return Field(max_length=limit, description=description)
    return Field(default=f.default, max_length=limit, description=description)


def bodies(kind: Kind, help: dict[str, str], leave_out: tuple[str, ...] = ()) -> tuple[type[ApiBody], type[ApiBody]]:
    """The kind's create and change bodies, from its form: the same fields, limits and labels; `help` describes
    fields for the API's readers. A change sends only the fields it changes, with the version it read."""
    fields = {n: f for n, f in kind.form.model_fields.items() if n not in NOT_IN_BODIES + leave_out}

    create = create_model(
        f"{kind.title}In",
        __base__=ApiBody,
        **{n: (f.annotation, _body_field(f, help.get(n))) for n, f in fields.items()},
        custom_fields=(dict[str, Any] | None, Field(default=None, description=CUSTOM_HELP)),
    )
    change = create_model(
        f"{kind.title}Patch",
        __base__=ApiBody,
        __doc__="Only the fields sent change; `version` is the one you read (409 when someone saved since).",
        **{n: (f.annotation | None, Field(default=None, description=help.get(n))) for n, f in fields.items()},
        custom_fields=(dict[str, Any] | None, Field(default=None, description=CUSTOM_HELP)),
        version=(int, Field(description="The version you read")),
    )
    create.labels = change.labels = kind.service.LABELS
    return create, change


class Recorded(BaseModel):
    """What the answer of every kind written by someone ends with (lessons, decisions, meetings): who recorded it,
    the deliverables it concerns, when it last changed and its version, after the kind's own fields."""

    recorded_by_id: int | None
    recorded_by_name: str | None
    deliverable_ids: list[int]
    deliverable_codes: list[str]
    updated_at: datetime
    version: int


def outs(kind: Kind, out: type[BaseModel], db: Session, rows: list[Any]) -> list[Any]:
    """Each row as the kind's answer: the record's own fields, what its row works out, and its deliverables."""
    ids = [r.record.id for r in rows]
    links = common.linked_deliverables(db, kind.link, kind.link_key, ids)
    own = set(out.model_fields) & set(kind.model.model_fields)
    t = custom.table(db, kind, rows[0].record.project_id if rows else 0, ids)
    return [
        with_custom(out)(
            **row.record.model_dump(include=own),
            **row.extras(),
            deliverable_ids=[d for d, _ in links[row.record.id]],
            deliverable_codes=[c for _, c in links[row.record.id]],
            custom_fields={f.key: custom.as_json(f, t.values.get(row.record.id, f)) for f in t.fields},
        )
        for row in rows
    ]


def one(kind: Kind, out: type[BaseModel], db: Session, access: Access, record_id: int) -> Any:
    return outs(kind, out, db, [kind.row(db, access, record_id)])[0]


class BulkRecord(ApiBody):
    id: int
    version: int = Field(description="The version you read: a record changed since is left alone and named")


class Refusal(BaseModel):
    code: str
    error: str


class BulkOutcome(BaseModel):
    changed: list[str]
    unchanged: list[str]
    stale: list[str]
    refused: list[Refusal]


def _bulk_body(kind: Kind, help: dict[str, str]) -> type[ApiBody]:
    """What a bulk edit sends: the records with the versions read, and the fields to set on each (the kind's
    `bulk` fields, typed as its form types them; a field not sent is left as it is, `owner_id: null` unassigns)."""
    form = kind.form.model_fields
    changes = create_model(
        f"{kind.title}BulkChanges",
        __base__=ApiBody,
        **{n: (form[n].annotation | None, Field(default=None, description=help.get(n))) for n in kind.bulk},
        custom_fields=(dict[str, Any] | None, Field(default=None, description=CUSTOM_HELP)),
    )
    changes.labels = kind.service.LABELS
    return create_model(
        f"{kind.title}Bulk",
        __base__=ApiBody,
        records=(list[BulkRecord], Field(min_length=1, max_length=bulk.MAX_ROWS)),
        changes=(changes, ...),
    )


def _filters(kind: Kind) -> type[Operation]:
    """The list's filters, documented as its query parameters (they are the page's filters: the kind's query)."""
    names = [n for n in kind.query.model_fields if n != "page"]

    @dataclass
    class WithFilters(Operation):
        def __post_init__(self) -> None:
            self.parameters = [
                *(self.parameters or []),
                *(
                    Parameter(name=n, param_in="query", required=False, schema=Schema(type=OpenAPIType.STRING))
                    for n in names
                ),
            ]

    return WithFilters


def controllers(
    kind: Kind, out: type[BaseModel], help: dict[str, str], list_help: str, leave_out: tuple[str, ...] = ()
):
    """The kind's two API controllers (the project's list, and one record), to subclass with the kind's own
    endpoints."""
    create_body, change_body = bodies(kind, help, leave_out)
    out = with_custom(out)
    page = create_model(
        f"{kind.title}Page", items=(list[out], ...), total=(int, ...), limit=(int, ...), offset=(int, ...)
    )
    id_param = kind.link_key  # the path's {risk_id}: API clients and schema links know records by it

    class ProjectRecords(Controller):
        path = f"/api/v1/projects/{{key:str}}/{kind.plural}"
        tags = [kind.plural]

        @get(
            "/",
            sync_to_thread=True,
            summary=f"The {kind.name} register, filtered, sorted and paged",
            description=list_help,
            operation_class=_filters(kind),
            operation_id=f"list_{kind.plural}",
        )
        def list_records(
            self,
            request: Request,
            db: NamedDependency[Session],
            key: FromPath[str],
            limit: FromQuery[int] = 50,
            offset: FromQuery[int] = 0,
        ) -> page:
            access = projects.get_for(db, request.user, key, kind.view)
            wanted = {n: v for n, v in request.query_params.items() if n in kind.query.model_fields and n != "page"}
            query = parse(kind.query, wanted)
            custom.narrow(db, kind, access.project.id, query, request.query_params)
            limit, offset = min(max(limit, 1), MAX_LIMIT), max(offset, 0)
            rows, total = kind.service.search(db, access, query, common.Part(limit, offset))
            return page(items=outs(kind, out, db, rows), total=total, limit=limit, offset=offset)

        @post(
            "/",
            sync_to_thread=True,
            summary=f"Record a {kind.noun}",
            operation_id=f"create_{kind.name}",
        )
        def create_record(
            self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: JSONBody[create_body]
        ) -> out:
            access = projects.get_for(db, request.user, key, kind.edit)
            record = write(db, request, access, kind, None, data.model_dump(mode="json"), partial=False)
            return one(kind, out, db, access, record.id)

    if kind.bulk:
        bulk_body = _bulk_body(kind, help)

        class WithBulk(ProjectRecords):
            @post(
                "/bulk",
                sync_to_thread=True,
                status_code=200,
                summary=f"Set the same owner, status or other field on many {kind.plural} at once",
                description="One transaction, one history event per record changed. A record changed since the "
                "version you send is left alone and listed under `stale`; one its rules refuse, under `refused`.",
                operation_id=f"bulk_edit_{kind.plural}",
            )
            def bulk_edit(
                self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: JSONBody[bulk_body]
            ) -> BulkOutcome:
                access = projects.get_for(db, request.user, key, kind.edit)
                rows = {r.id: r.version for r in data.records}
                values = data.changes.model_dump(mode="json", exclude_unset=True)
                fields = custom.definitions(db, access.project.id, kind.entity)
                chosen = custom.by_name(fields, values.pop("custom_fields", None))
                outcome = bulk.apply(db, request.user, access, kind, rows, values, chosen, _custom_name)
                return BulkOutcome(**outcome.as_json())

        ProjectRecords = WithBulk  # the kind's controller, with its bulk edit

    class Record(Controller):
        path = f"/api/v1/{kind.plural}/{{{id_param}:int}}"
        tags = [kind.plural]

        @get(
            "/",
            sync_to_thread=True,
            summary=f"One {kind.name} as its register shows it",
            operation_id=f"get_{kind.name}",
        )
        def get_record(self, request: Request, db: NamedDependency[Session]) -> out:
            access, record = kind.service.load_for(db, request.user, request.path_params[id_param])
            return one(kind, out, db, access, record.id)

        @patch(
            "/",
            sync_to_thread=True,
            summary=f"Change a {kind.name} (send the version you read; 409 if stale)",
            operation_id=f"patch_{kind.name}",
        )
        def patch_record(self, request: Request, db: NamedDependency[Session], data: JSONBody[change_body]) -> out:
            access, record = kind.service.load_for(db, request.user, request.path_params[id_param], kind.edit)
            values: dict[str, Any] = kind.service.form_values(db, record) | data.model_dump(
                mode="json", exclude_unset=True
            )
            write(db, request, access, kind, record, values, partial=True)
            return one(kind, out, db, access, record.id)

    return ProjectRecords, Record
