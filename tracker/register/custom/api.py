"""The API of a project's custom field definitions: list, define, change (retire) — its managers' alone to change.
A record's values are read and written under `custom_fields` of its kind's own API (register/api.py).

(No `from __future__ import annotations` here: Litestar reads the handlers' types.)"""

from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel, Field
from sqlmodel import Session

from tracker.core.forms import ApiBody, parse
from tracker.projects import service as projects
from tracker.projects.permissions import Perm
from tracker.register.custom import service as custom
from tracker.register.custom.models import CustomField, FieldType


class FieldOut(BaseModel):
    id: int
    kind: str = Field(description="The register: risks, issues, changes, lessons, ...")
    key: str = Field(description="What `custom_fields` may name it by, besides its label")
    label: str
    type: FieldType
    choices: list[str]
    required: bool
    help: str
    position: int
    in_list: bool
    retired: bool
    version: int


class FieldIn(ApiBody):
    kind: str = Field(description="The register: risks, issues, changes, lessons, ...")
    label: str = Field(max_length=80)
    type: FieldType = FieldType.TEXT
    choices: list[str] = Field(default_factory=list, max_length=custom.MAX_CHOICES)
    required: bool = False
    help: str = Field(default="", max_length=300)
    position: int = 0
    in_list: bool = Field(default=True, description="A column of the list (every field is a filter of it)")


class FieldPatch(ApiBody):
    """Only the fields sent change; `version` is the one you read (409 when someone saved since)."""

    label: str | None = Field(default=None, max_length=80)
    type: FieldType | None = None
    choices: list[str] | None = Field(default=None, max_length=custom.MAX_CHOICES)
    required: bool | None = None
    help: str | None = Field(default=None, max_length=300)
    position: int | None = None
    in_list: bool | None = None
    retired: bool | None = Field(default=None, description="Hidden from forms, lists and filters; values are kept")
    version: int


FieldIn.labels = FieldPatch.labels = custom.LABELS


def _out(f: CustomField) -> FieldOut:
    return FieldOut(kind=custom.kind_of(f).plural, **f.model_dump(include=set(FieldOut.model_fields) - {"kind"}))


class CustomFieldsApi(Controller):
    path = "/api/v1/projects/{key:str}/custom-fields"
    tags = ["custom fields"]

    @get(
        "/",
        sync_to_thread=True,
        summary="The project's custom fields, retired ones too",
        operation_id="list_custom_fields",
    )
    def list_fields(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> list[FieldOut]:
        access = projects.get_for(db, request.user, key, Perm.VIEW)
        return [_out(f) for f in custom.definitions(db, access.project.id, retired=True)]

    @post("/", sync_to_thread=True, summary="Define a custom field on a register", operation_id="define_custom_field")
    def define(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: JSONBody[FieldIn]
    ) -> FieldOut:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        return _out(custom.define(db, request.user, access, parse(custom.FieldForm, data.model_dump(mode="json"))))

    @patch(
        "/{field_id:int}",
        sync_to_thread=True,
        summary="Change or retire a custom field (send the version you read; 409 if stale)",
        operation_id="change_custom_field",
    )
    def change(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        field_id: FromPath[int],
        data: JSONBody[FieldPatch],
    ) -> FieldOut:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        f = custom.get(db, access, field_id)
        values: dict[str, Any] = custom.definition_values(f) | {"choices": f.choices}
        values |= data.model_dump(mode="json", exclude_unset=True)
        return _out(custom.change(db, request.user, access, f, parse(custom.FieldForm, values)))


handlers = [CustomFieldsApi]
