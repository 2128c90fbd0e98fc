"""The API of register records' files, written once for every kind of the kinds table: list, upload, download and
remove, under the record's project path. Each kind gets its controller by being a row of the table (app.py).

(No `from __future__ import annotations` here: the handlers are made per kind, in a function.)"""

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath
from litestar.response import File
from pydantic import BaseModel
from sqlmodel import Session

from tracker.core.files import FileStore, as_download, uploads_in
from tracker.projects import service as projects
from tracker.projects.service import Access
from tracker.register.attachments import service as attachments
from tracker.register.kinds import KINDS, Kind


class AttachmentOut(BaseModel):
    id: int
    name: str
    size: int
    sha256: str
    content_type: str
    uploaded_by: str
    uploaded_at: datetime
    download_url: str


def _store(request: Request) -> FileStore:
    return FileStore.from_settings(request.app.state.settings)


def controller(kind: Kind) -> type[Controller]:
    id_param = kind.link_key  # {risk_id}, as the kind's other paths name its records

    class Attachments(Controller):
        path = f"/api/v1/projects/{{key:str}}/{kind.plural}/{{{id_param}:int}}/attachments"
        tags = [kind.plural]

        def _record(self, request: Request, db: Session, perm: Any) -> tuple[Access, Any]:
            access = projects.get_for(db, request.user, request.path_params["key"], perm)
            return access, kind.service.get_for(db, access, request.path_params[id_param])

        def _out(self, access: Access, record: Any, row: attachments.AttachmentRow) -> AttachmentOut:
            a = row.attachment
            return AttachmentOut(
                id=a.id,
                name=a.original_name,
                size=a.size,
                sha256=a.sha256,
                content_type=a.content_type,
                uploaded_by=row.uploaded_by,
                uploaded_at=a.uploaded_at,
                download_url=f"/api/v1/projects/{access.project.key}/{kind.plural}/{record.id}/attachments/{a.id}",
            )

        @get(
            "/",
            sync_to_thread=True,
            summary=f"The files attached to a {kind.noun}",
            operation_id=f"list_{kind.name}_attachments",
        )
        def list_attachments(self, request: Request, db: NamedDependency[Session]) -> list[AttachmentOut]:
            access, record = self._record(request, db, kind.view)
            return [self._out(access, record, row) for row in attachments.of_record(db, kind, record.id)]

        @post(
            "/",
            sync_to_thread=True,
            summary=f"Attach a file to a {kind.noun} (multipart: file)",
            operation_id=f"attach_to_{kind.name}",
        )
        def attach(
            self,
            request: Request,
            db: NamedDependency[Session],
            data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
        ) -> AttachmentOut:
            store = _store(request)
            upload = next(iter(uploads_in(data, "file", store)), None)  # written before the write lock is taken
            access, record = self._record(request, db, kind.edit)
            a = attachments.attach(db, request.user, access, kind, record, upload, store)
            return self._out(access, record, attachments.AttachmentRow(a, request.user.full_name))

        @get(
            "/{attachment_id:int}",
            sync_to_thread=True,
            summary=f"Download a file attached to a {kind.noun} (as an attachment)",
            operation_id=f"download_{kind.name}_attachment",
            responses={200: ResponseSpec(bytes, False, "The file as uploaded", "application/octet-stream")},
        )
        def download(self, request: Request, db: NamedDependency[Session], attachment_id: FromPath[int]) -> File:
            _, record = self._record(request, db, kind.view)
            a = attachments.get(db, kind, record, attachment_id)
            return as_download(_store(request), a.sha256, a.original_name)

        @delete(
            "/{attachment_id:int}",
            sync_to_thread=True,
            summary=f"Remove a file from a {kind.noun} (its history keeps its name and fingerprint)",
            operation_id=f"remove_{kind.name}_attachment",
        )
        def remove(self, request: Request, db: NamedDependency[Session], attachment_id: FromPath[int]) -> None:
            access, record = self._record(request, db, kind.edit)
            attachments.remove(db, request.user, access, kind, record, attachment_id)

    Attachments.__name__ = f"{kind.title}Attachments"
    return Attachments


handlers = [controller(kind) for kind in KINDS.values()]
