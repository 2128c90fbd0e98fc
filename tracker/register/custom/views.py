"""The custom fields settings page of a project: its fields by register, a field's form to define or change it."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.core.errors import FormError, StaleEdit
from tracker.core.forms import form_version, parse, stale_fields
from tracker.core.web import flash, redirect, render
from tracker.projects import service as projects
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.register.custom import service as custom
from tracker.register.custom.models import CustomField
from tracker.register.kinds import KINDS

Form = URLEncodedBody[dict[str, Any]]


def _page(
    request: Request,
    db: Session,
    access: Access,
    f: CustomField | None,
    form: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
    stale: dict[str, Any] | None = None,
) -> Template:
    fields = custom.definitions(db, access.project.id, retired=True)
    # the boxes as stored, or as posted (a hidden "false", then "true" when ticked); a new field is a column
    form = dict(form) | {k: _ticked(form.get(k, k == "in_list")) for k in ("required", "in_list", "retired")}
    return render(
        request,
        "register/custom/settings.html",
        status=status,
        access=access,
        project=access.project,
        kinds=list(KINDS.values()),
        registers=[(k.plural, k.label + "s") for k in KINDS.values()],
        field_kind=custom.kind_of(f).plural if f is not None else None,
        by_kind={k.entity: [x for x in fields if x.entity == k.entity] for k in KINDS.values()},
        field=f,
        form=form,
        errors=errors,
        stale=stale,
        labels=custom.LABELS,
        types=list(custom.TYPE_WORDS.items()),
    )


def _ticked(v: Any) -> bool:
    return (v[-1] if isinstance(v, list) and v else v) in (True, "true")


class CustomFieldPages(Controller):
    path = "/projects/{key:str}/custom-fields"
    include_in_schema = False

    def _url(self, access: Access) -> str:
        return f"/projects/{access.project.key}/custom-fields"

    @get("/", sync_to_thread=True)
    def index(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        return _page(request, db, access, None, {"kind": request.query_params.get("kind", "risks")}, {})

    @post("/", sync_to_thread=True)
    def create(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        try:
            f = custom.define(db, request.user, access, parse(custom.FieldForm, custom.page_form(data)))
        except FormError as exc:
            return _page(request, db, access, None, data, exc.errors, status=422)
        flash(request, f"Field “{f.label}” added to the {custom.kind_of(f).plural}.")
        return redirect(self._url(access))

    @get("/{field_id:int}", sync_to_thread=True)
    def edit(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], field_id: FromPath[int]
    ) -> Template:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        f = custom.get(db, access, field_id)
        return _page(request, db, access, f, custom.definition_values(f), {})

    @post("/{field_id:int}", sync_to_thread=True)
    def update(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        field_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.MANAGE)
        f = custom.get(db, access, field_id)
        form_version(data)
        try:
            custom.change(db, request.user, access, f, parse(custom.FieldForm, custom.page_form(data)))
        except StaleEdit as exc:
            fresh = data | {"version": f.version}
            return _page(request, db, access, f, fresh, {}, status=409, stale=stale_fields(exc.current, data))
        except FormError as exc:
            return _page(request, db, access, f, data, exc.errors, status=422)
        flash(request, f"Field “{f.label}” saved.")
        return redirect(self._url(access))


handlers = [CustomFieldPages]
