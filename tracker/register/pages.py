"""The pages every register kind has, written once: the filtered list with its in-place edits, the record with its
attachments, and the create and edit forms. A kind's views subclass RegisterPages with its row of the kinds table and add only its own
pages; `page_context` and `detail_context` are where it adds what its templates show besides."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any, ClassVar
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, URLEncodedBody
from litestar.response import File, Redirect, Template
from sqlmodel import Session

from tracker.audit import service as audit
from tracker.audit import versions
from tracker.core.errors import FormError, NotFound, StaleEdit, TooLarge
from tracker.core.files import FileStore, as_download, uploads_in
from tracker.core.forms import form_version, parse, stale_fields
from tracker.core.web import flash, redirect, render, safe_next
from tracker.projects import service as projects
from tracker.projects.calendar import project_today
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.register import bulk, common
from tracker.register.actions import service as actions
from tracker.register.attachments import service as attachments
from tracker.register.custom import service as custom
from tracker.register.kinds import Kind

Form = URLEncodedBody[dict[str, Any]]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def go(request: Request, path: str) -> Redirect | Response:
    """A redirect, or for htmx the instruction to load that page (htmx would follow a 303 and swap the page in)."""
    if request.headers.get("hx-request"):
        return Response(content="", headers={"HX-Redirect": path})
    return redirect(path)


def pager(page: int, total: int, size: int, url: str, base: dict[str, Any]) -> dict[str, Any]:
    """What a list's pager shows: the page, how many pages `total` rows make, and the address a page number is
    added to (the list's filters, without the page)."""
    return {"page": page, "pages": max(1, math.ceil(total / size)), "base_url": f"{url}?{urlencode(base)}"}


class RegisterPages(Controller):
    include_in_schema = False
    kind: ClassVar[Kind]

    # --- what a kind adds ------------------------------------------------------------------------------------

    def page_context(self, db: Session, access: Access) -> dict[str, Any]:
        """What every page of the kind shows besides its records (choices, scales, settings)."""
        return {}

    def list_context(self, db: Session, access: Access) -> dict[str, Any]:
        """What the list alone shows besides its rows (the choices of a filter)."""
        return {}

    def form_context(self, db: Session, access: Access) -> dict[str, Any]:
        """What the create and edit forms alone offer besides the deliverables (the records it may come from)."""
        return {}

    def detail_context(self, db: Session, access: Access, record: Any, today: Any) -> dict[str, Any]:
        """What the record's page shows besides the record (its log, its plans, where it came from)."""
        return {}

    # --- written once ----------------------------------------------------------------------------------------

    def url(self, access: Access, record: Any = None, rest: str = "") -> str:
        base = f"/projects/{access.project.key}/{self.kind.plural}"
        return f"{base}/{record.id}{rest}" if record is not None else base + rest

    def trail(self, db: Session, access: Access, record: Any) -> audit.Trail:
        entity, record_id = self.kind.entity, record.id
        return audit.kept_trail(
            db, access.project.id, (entity, record_id), lambda: audit.for_entity(db, entity, record_id, limit=100)
        )

    def common(self, db: Session, access: Access) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "access": access,
            "project": access.project,
            "owners": common.owners(db, access.project.id),
            "can_edit": access.can(self.kind.edit),
            **self.page_context(db, access),
        }

    def list_page(self, request: Request, db: Session, access: Access, status: int = 200, **extra: Any) -> Template:
        """The list; `extra` carries a refused bulk edit back (its errors, choices and ticked rows)."""
        service = self.kind.service
        raw = {k: v for k, v in request.query_params.items() if v not in ("", None)}
        query = parse(self.kind.query, raw)
        columns = custom.narrow(db, self.kind, access.project.id, query, raw)  # its custom filters, then columns
        rows, total = service.search(db, access, query)
        base = {k: v for k, v in raw.items() if k != "page"}
        # The rows' drawing, kept while the project's record, its day and this reader's permissions stand (the query
        # names the page, its filters and custom columns); never with rows ticked in a refused bulk edit.
        key = (
            self.kind.name,
            access.project.id,
            tuple(sorted(raw.items())),
            project_today(access.project),
            access.perms,
        )
        rows_kept = None if extra.get("picked") else key + versions.of(db, [access.project.id])
        return render(
            request,
            f"{self.kind.plural}/index.html",
            block=f"{self.kind.name}_table",
            rows=rows,
            total=total,
            query=query,
            **pager(query.page, total, common.PAGE_SIZE, self.url(access), base),
            sort_base={k: v for k, v in base.items() if k != "sort"},
            here=f"{self.url(access)}?{urlencode(raw)}",
            export_url=f"{self.url(access, rest='/export')}?{urlencode(base)}",
            bulk_url=f"{self.url(access, rest='/bulk')}?{urlencode(raw)}",
            status=status,
            custom=custom.with_values(db, columns, [r.record.id for r in rows]),
            rows_kept=rows_kept,
            **{"bulk_errors": {}, "bulk_form": {}, "picked": set()} | extra,
            **self.common(db, access),
            **self.list_context(db, access),
        )

    def record_decision(
        self, request: Request, db: Session, key: str, record_id: int, data: Any, log: Callable[[Access, Any], str]
    ) -> Template | Redirect:
        """A decision taken on a record (an issue's, a meeting's), logged by `log`, which says what it logged:
        refused beside the record's decision form with the input kept, else back to the record's decisions."""
        access = projects.get_for(db, request.user, key, self.kind.edit)
        record = self.kind.service.get_for(db, access, record_id)
        try:
            message = log(access, record)
        except FormError as exc:
            return self.detail_page(
                request, db, access, record, status=422, decision_errors=exc.errors, decision_form=data
            )
        flash(request, message)
        return redirect(self.url(access, record, "#decisions"))

    def detail_page(
        self, request: Request, db: Session, access: Access, record: Any, status: int = 200, **extra: Any
    ) -> Template:
        kind, today = self.kind, project_today(access.project)
        context: dict[str, Any] = {
            kind.name: record,
            "row": kind.row(db, access, record.id),
            "today": today,
            "deliverables": common.linked_deliverables(db, kind.link, kind.link_key, [record.id])[record.id],
            "trail": self.trail(db, access, record) if access.can(Perm.VIEW_HISTORY) else audit.NO_TRAIL,
            "action_errors": {},
            "action_form": {},
            "action_plan": None,
            "attachments": attachments.of_record(db, kind, record.id),
            "attachment_base": self.url(access, record, "/attachments"),
            "may_attach": attachments.may_change(access, kind, record),
            "attachment_errors": {},
            "custom": custom.table(db, kind, access.project.id, [record.id]),
            **self.detail_context(db, access, record, today),
        }
        context.update(extra)
        return render(request, f"{kind.plural}/detail.html", status=status, **self.common(db, access), **context)

    def form_page(
        self,
        request: Request,
        db: Session,
        access: Access,
        record: Any,
        form: dict[str, Any],
        errors: dict[str, str],
        stale: dict[str, Any] | None = None,
        status: int = 200,
    ) -> Template:
        return render(
            request,
            f"{self.kind.plural}/form.html",
            status=status,
            form=form,
            errors=errors,
            stale=stale,
            labels=self.kind.service.LABELS,
            deliverable_choices=common.deliverable_choices(db, access.project.id),
            custom=custom.table(db, self.kind, access.project.id),
            **{self.kind.name: record},
            **self.common(db, access),
            **self.form_context(db, access),
        )

    def save(self, db: Session, request: Request, access: Access, record: Any, data: dict[str, Any]) -> Any:
        """The record's form saved with its custom fields (register/custom), checked together."""
        fields = custom.definitions(db, access.project.id, self.kind.entity)
        raw = custom.from_form(fields, data)
        return custom.save(db, request.user, access, self.kind, record, data, raw, fields=fields)

    @get("/", sync_to_thread=True)
    def index(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        return self.list_page(request, db, projects.get_for(db, request.user, key, self.kind.view))

    @post("/bulk", sync_to_thread=True)
    def bulk(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
    ) -> Template | Redirect:
        """The ticked rows given the chosen values at once (register/bulk.py). The form is posted to the list's own
        address with its filters, so a refused choice re-renders that list, the choices and ticks kept."""
        kind = self.kind
        if not kind.bulk:
            raise NotFound(detail=f"A {kind.noun} is not edited from its list.")
        access = projects.get_for(db, request.user, key, kind.edit)
        ticked = [str(v) for v in common.as_list(data.get("pick"))]
        try:
            fields = custom.definitions(db, access.project.id, kind.entity)
            outcome = bulk.apply(
                db,
                request.user,
                access,
                kind,
                bulk.picks(ticked),
                bulk.chosen(kind, data),
                {k: v for k, v in custom.from_form(fields, data).items() if v not in (None, "", [])},
            )
        except FormError as exc:
            picked = {int(v.split(":")[0]) for v in ticked if bulk.PICK.match(v)}
            return self.list_page(request, db, access, 422, bulk_errors=exc.errors, bulk_form=data, picked=picked)
        for message, category in bulk_messages(kind, outcome):
            flash(request, message, category)
        return redirect(safe_next(data.get("next"), self.url(access)))

    @get("/new", sync_to_thread=True)
    def new(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = projects.get_for(db, request.user, key, self.kind.edit)
        code = common.next_code(db, self.kind.model, access.project.id, self.kind.prefix)
        return self.form_page(request, db, access, None, {"code": code, **self.kind.new}, {})

    @post("/", sync_to_thread=True)
    def create(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, self.kind.edit)
        try:
            record = self.save(db, request, access, None, data)
        except FormError as exc:
            return self.form_page(request, db, access, None, data, exc.errors, status=422)
        flash(request, f"{self.kind.label} {record.code} recorded.")
        return redirect(self.url(access, record))

    @get("/{record_id:int}", sync_to_thread=True)
    def detail(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], record_id: FromPath[int]
    ) -> Template:
        access = projects.get_for(db, request.user, key, self.kind.view)
        return self.detail_page(request, db, access, self.kind.service.get_for(db, access, record_id))

    @get("/{record_id:int}/edit", sync_to_thread=True)
    def edit(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], record_id: FromPath[int]
    ) -> Template:
        access = projects.get_for(db, request.user, key, self.kind.edit)
        record = self.kind.service.get_for(db, access, record_id)
        self.kind.require_change(access, record)
        fields = custom.definitions(db, access.project.id, self.kind.entity)
        form = self.kind.service.form_values(db, record) | custom.form_values(db, fields, record.id)
        return self.form_page(request, db, access, record, form, {})

    @post("/{record_id:int}/edit", sync_to_thread=True)
    def update(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], record_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, self.kind.edit)
        record = self.kind.service.get_for(db, access, record_id)
        self.kind.require_change(access, record)
        form_version(data)
        try:
            self.save(db, request, access, record, data)
        except StaleEdit as exc:
            fresh = data | {"version": record.version}
            return self.form_page(
                request, db, access, record, fresh, {}, stale=stale_fields(exc.current, data), status=409
            )
        except FormError as exc:
            return self.form_page(request, db, access, record, data, exc.errors, status=422)
        flash(request, f"{self.kind.label} {record.code} saved.")
        return redirect(self.url(access, record))

    @post("/{record_id:int}/attachments", sync_to_thread=True)
    def attach(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        record_id: FromPath[int],
        data: Multipart,
    ) -> Template | Redirect:
        store = FileStore.from_settings(request.app.state.settings)
        uploads = uploads_in(data, "file", store)  # written before the first query takes the write lock
        access = projects.get_for(db, request.user, key, self.kind.edit)
        record = self.kind.service.get_for(db, access, record_id)
        try:
            a = attachments.attach(db, request.user, access, self.kind, record, next(iter(uploads), None), store)
        except FormError as exc:
            return self.detail_page(request, db, access, record, status=422, attachment_errors=exc.errors)
        except TooLarge as exc:
            return self.detail_page(request, db, access, record, status=413, attachment_errors={"file": exc.detail})
        flash(request, f"{a.original_name} attached to {record.code}.")
        return redirect(self.url(access, record, "#attachments"))

    @get("/{record_id:int}/attachments/{attachment_id:int}", sync_to_thread=True)
    def download(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        record_id: FromPath[int],
        attachment_id: FromPath[int],
    ) -> File:
        access = projects.get_for(db, request.user, key, self.kind.view)
        a = attachments.get(db, self.kind, self.kind.service.get_for(db, access, record_id), attachment_id)
        return as_download(FileStore.from_settings(request.app.state.settings), a.sha256, a.original_name)

    @post("/{record_id:int}/attachments/{attachment_id:int}/remove", sync_to_thread=True)
    def remove_attachment(
        self,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        record_id: FromPath[int],
        attachment_id: FromPath[int],
        data: Form,
    ) -> Redirect:
        access = projects.get_for(db, request.user, key, self.kind.edit)
        record = self.kind.service.get_for(db, access, record_id)
        a = attachments.remove(db, request.user, access, self.kind, record, attachment_id)
        flash(request, f"{a.original_name} removed from {record.code}.")
        return redirect(self.url(access, record, "#attachments"))

    def row_page(
        self,
        request: Request,
        db: Session,
        access: Access,
        record_id: int,
        template: str = "_row.html",
        status: int = 200,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Template:
        """One row of the list alone, as htmx swaps it in: the row as read, or its in-place edit."""
        return render(
            request,
            f"{self.kind.plural}/{template}",
            status=status,
            row=self.kind.row(db, access, record_id),
            custom=custom.table(db, self.kind, access.project.id, [record_id]),
            message=message,
            failed=status != 200,
            headers=headers,
            **self.common(db, access),
        )

    @get("/{record_id:int}/row", sync_to_thread=True)
    def row(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], record_id: FromPath[int]
    ) -> Template:
        """The row as the list shows it: what an in-place edit's Cancel puts back."""
        return self.row_page(request, db, projects.get_for(db, request.user, key, self.kind.view), record_id)

    @get("/{record_id:int}/row-edit", sync_to_thread=True)
    def row_edit(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], record_id: FromPath[int]
    ) -> Template:
        """The row with the fields the list edits in place, loaded only when asked for (the list stays light)."""
        if not self.kind.quick:
            raise NotFound(detail=f"A {self.kind.noun} is not edited from its list.")
        access = projects.get_for(db, request.user, key, self.kind.edit)
        self.kind.require_change(access, self.kind.service.get_for(db, access, record_id))
        return self.row_page(request, db, access, record_id, "_row_edit.html")

    @post("/{record_id:int}/quick", sync_to_thread=True)
    def quick(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], record_id: FromPath[int], data: Form
    ) -> Template | Redirect:
        """A field changed in the list: the row comes back re-rendered, with what happened beside it."""
        kind = self.kind
        if not kind.quick:
            raise NotFound(detail=f"A {kind.noun} is not edited from its list.")
        access = projects.get_for(db, request.user, key, kind.edit)
        record = kind.service.get_for(db, access, record_id)
        values = kind.service.form_values(db, record) | {k: data[k] for k in kind.quick if k in data}
        values["version"] = form_version(data)
        message, status = None, 200
        try:
            kind.service.update(db, request.user, access, record, parse(kind.form, values))
            message = f"{record.code} saved."
        except StaleEdit:
            message, status = f"Someone else changed {record.code} first; these are the saved values now.", 409
        except FormError as exc:
            message, status = " ".join(exc.errors.values()) + f" Open the {kind.noun} to complete it.", 422
        if not request.headers.get("hx-request"):
            flash(request, message, "success" if status == 200 else "error")
            return redirect(safe_next(data.get("next"), self.url(access)))
        headers = {"HX-Trigger": kind.refresh} if status == 200 and kind.refresh else None
        return self.row_page(request, db, access, record.id, status=status, message=message, headers=headers)


def bulk_messages(kind: Kind, outcome: bulk.Outcome) -> list[tuple[str, str]]:
    """What a bulk edit did, in words: changed, already so, left alone (stale), refused by the kind's rules."""
    noun = kind.noun

    def some(codes: list[str]) -> str:
        return f"{len(codes)} {noun}{'s' if len(codes) != 1 else ''} ({', '.join(codes)})"

    out = []
    if outcome.changed:
        out.append((f"Changed {some(outcome.changed)}.", "success"))
    if outcome.unchanged:
        out.append((f"Already so, nothing to change: {some(outcome.unchanged)}.", "success"))
    if outcome.stale:
        out.append(
            (
                f"Left alone: {some(outcome.stale)}, because someone else changed them after you loaded the list. "
                "Look at them again and repeat the change if it is still wanted.",
                "error",
            )
        )
    for code, why in outcome.refused:
        out.append((f"{code} was not changed: {why}", "error"))
    return out


class WithActions:
    """For kinds that carry action items (risks under their plans, issues directly)."""

    @post("/{record_id:int}/actions", sync_to_thread=True)
    def add_action(
        self: Any,
        request: Request,
        db: NamedDependency[Session],
        key: FromPath[str],
        record_id: FromPath[int],
        data: Form,
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        record = self.kind.service.get_for(db, access, record_id)
        try:
            item = actions.add(db, request.user, access, record, parse(actions.ActionForm, data))
        except FormError as exc:
            return self.detail_page(
                request,
                db,
                access,
                record,
                status=422,
                action_errors=exc.errors,
                action_form=data,
                action_plan=data.get("plan"),
            )
        flash(request, "Action item added.")
        return redirect(actions.back_url(access.project.key, item))
