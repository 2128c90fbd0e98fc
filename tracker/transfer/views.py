"""Pages: import a register spreadsheet (upload → map the columns → preview every row → import) and download the
filtered risk or issue register as XLSX or CSV."""

from __future__ import annotations

import json
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from tracker.core.errors import Conflict, FormError, NotFound, TooLarge
from tracker.core.files import FileStore, safe_filename
from tracker.core.spreadsheet import Sheet, read_table
from tracker.core.web import redirect, render
from tracker.projects import service as projects
from tracker.projects.permissions import Perm
from tracker.projects.service import Access
from tracker.transfer import service as transfer
from tracker.transfer.columns import REGISTERS, Register

Form = URLEncodedBody[dict[str, Any]]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
UPLOADS_KEPT = 3  # uploads remembered in the session, newest last


def _store(request: Request) -> FileStore:
    return FileStore.from_settings(request.app.state.settings)


def _page(
    request: Request, access: Access, register: Register, step: str, status: int = 200, **context: Any
) -> Template:
    return render(
        request,
        "transfer/import.html",
        status=status,
        step=step,
        access=access,
        project=access.project,
        register=register,
        base=f"/projects/{access.project.key}/{register.kind}",
        letter=transfer.letter,
        **context,
    )


def _uploaded(request: Request, access: Access, register: Register, sha: str) -> tuple[str, Sheet]:
    """An upload this user made for this register, read again from the file store. The hash comes from the URL,
    so it must be one the (signed, encrypted) session remembers; anything else is 404."""
    known = {u["sha"]: u for u in request.session.get("uploads", [])}
    upload = known.get(sha)
    if upload is None or (upload["project"], upload["kind"]) != (access.project.key, register.kind):
        raise NotFound(detail="No such upload; upload the file again.")
    with _store(request).open(sha) as f:
        return upload["name"], read_table(upload["name"], f.read())


def _remember(request: Request, access: Access, register: Register, sha: str, name: str) -> None:
    kept = [u for u in request.session.get("uploads", []) if u["sha"] != sha]
    kept.append({"sha": sha, "name": name, "project": access.project.key, "kind": register.kind})
    request.set_session(request.session | {"uploads": kept[-UPLOADS_KEPT:]})


def _mapping(data: Any, width: int) -> dict[int, str]:
    """{column index: column key} from the mapping form's column-N fields; a field sent twice is no key at all (the
    mapping's check names it)."""
    values = {i: data.get(f"column-{i}") for i in range(width) if data.get(f"column-{i}")}
    return {i: v if isinstance(v, str) else "?" for i, v in values.items()}


def _samples(sheet: Sheet, i: int) -> list[str]:
    return [cells[i][:60] for _, cells in sheet.rows[:3] if cells[i]]


def _seen(raw: Any) -> dict[str, int]:
    try:
        seen = json.loads(raw or "{}")
    except (ValueError, RecursionError):  # not JSON, or nested past what Python reads
        seen = None
    if not isinstance(seen, dict) or not all(isinstance(k, str) and isinstance(v, int) for k, v in seen.items()):
        raise FormError({"seen": "The preview was damaged; preview the file again."})
    return seen


class ImportPages(Controller):
    """The import pages of one register; `_pages` below makes them for each kind."""

    include_in_schema = False
    register: Register

    @get("/import", sync_to_thread=True)
    def upload_form(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Template:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        register = transfer.with_custom(db, access, self.register)
        return _page(request, access, register, "upload", errors={})

    @post("/import", sync_to_thread=True)
    def upload(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], data: Multipart
    ) -> Template | Redirect:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        register = transfer.with_custom(db, access, self.register)
        upload = data.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return _page(request, access, register, "upload", status=422, errors={"file": "Choose a file to upload."})
        content = upload.file.read()
        name = safe_filename(upload.filename, "register")
        try:
            sha, _ = _store(request).put(content)
            read_table(name, content)
        except TooLarge as exc:
            return _page(request, access, register, "upload", status=413, errors={"file": exc.detail})
        except FormError as exc:
            return _page(request, access, register, "upload", status=422, errors=exc.errors)
        _remember(request, access, register, sha, name)
        return redirect(f"/projects/{access.project.key}/{register.kind}/import/{sha}")

    @get("/import/{sha:str}", sync_to_thread=True)
    def mapping(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], sha: FromPath[str]
    ) -> Template:
        """The column mapping, matched automatically (or as chosen before, coming back from the preview)."""
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        register = transfer.with_custom(db, access, self.register)
        name, sheet = _uploaded(request, access, register, sha)
        chosen = _mapping(request.query_params, len(sheet.headers))
        mapping = chosen or transfer.auto_mapping(register, sheet.headers)
        return _page(
            request,
            access,
            register,
            "mapping",
            sha=sha,
            name=name,
            sheet=sheet,
            mapping=mapping,
            samples=_samples,
            errors={},
        )

    @get("/import/{sha:str}/preview", sync_to_thread=True)
    def preview(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], sha: FromPath[str]
    ) -> Template:
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        register = transfer.with_custom(db, access, self.register)
        name, sheet = _uploaded(request, access, register, sha)
        mapping = _mapping(request.query_params, len(sheet.headers))
        try:
            plan = transfer.build_plan(db, access, register, sheet, mapping)
        except FormError as exc:
            return _page(
                request,
                access,
                register,
                "mapping",
                status=422,
                sha=sha,
                name=name,
                sheet=sheet,
                mapping=mapping,
                samples=_samples,
                errors=exc.errors,
            )
        return _page(request, access, register, "preview", sha=sha, name=name, plan=plan, message="")

    @post("/import/{sha:str}", sync_to_thread=True)
    def run(
        self, request: Request, db: NamedDependency[Session], key: FromPath[str], sha: FromPath[str], data: Form
    ) -> Template:
        """Import the previewed rows (all, or only the valid ones) and show what was written."""
        access = projects.get_for(db, request.user, key, Perm.EDIT_REGISTER)
        register = transfer.with_custom(db, access, self.register)
        name, sheet = _uploaded(request, access, register, sha)
        mapping = _mapping(data, len(sheet.headers))
        try:
            plan = transfer.build_plan(db, access, register, sheet, mapping)
        except FormError as exc:
            return _page(
                request,
                access,
                register,
                "mapping",
                status=422,
                sha=sha,
                name=name,
                sheet=sheet,
                mapping=mapping,
                samples=_samples,
                errors=exc.errors,
            )
        try:
            written = transfer.run(
                db,
                request.user,
                access,
                plan,
                only_valid=data.get("only_valid") == "true",
                seen=_seen(data.get("seen")),
                filename=name,
            )
        except (FormError, Conflict) as exc:
            return _page(
                request,
                access,
                register,
                "preview",
                status=exc.status_code,
                sha=sha,
                name=name,
                plan=plan,
                message=exc.detail,
            )
        return _page(request, access, register, "done", name=name, plan=plan, written=written)


def _pages(register: Register) -> list[type[Controller]]:
    """One register's import pages and its download, under the register's own path."""
    base = f"/projects/{{key:str}}/{register.kind}"

    class Export(Controller):
        path = base
        include_in_schema = False

        @get("/export", sync_to_thread=True, name=f"{register.kind}-export")
        def export(self, request: Request, db: NamedDependency[Session], key: FromPath[str]) -> Response:
            """The register as the list shows it now: the same filters and sort, every page."""
            return _download(request, db, key, register)

    imports = type(f"{register.spec.title}ImportPages", (ImportPages,), {"path": base, "register": register})
    return [imports, Export]


def _download(request: Request, db: Session, key: str, register: Register) -> Response:
    access = projects.get_for(db, request.user, key, register.spec.view)
    params = dict(request.query_params)
    query = transfer.query_for(register, {k: v for k, v in params.items() if k != "format"})
    body, media, name = transfer.export_file(
        db, access, register, query, params.get("format", "xlsx"), request.user.full_name
    )
    return Response(body, media_type=media, headers={"content-disposition": f'attachment; filename="{name}"'})


handlers = [page for register in REGISTERS.values() for page in _pages(register)]
