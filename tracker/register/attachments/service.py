"""Files attached to register records, for every kind of the kinds table alike: attached by those who may edit the
record, read by those who may see it, each attachment and removal recorded on the record's own trail (its name,
sha256 and size, never its bytes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.core.errors import Forbidden, FormError, NotFound
from tracker.core.files import FileStore, Upload
from tracker.projects.service import Access
from tracker.register import common
from tracker.register.attachments.models import Attachment
from tracker.register.kinds import Kind

LABELS = {"file": "File", "sha256": "SHA-256", "size": "Size"}
WORDS = {"size": lambda v, _: f"{v:,} bytes"}
history.register(  # recorded on the record's own trail
    verbs={"attach": "attached a file to", "remove_attachment": "removed a file from"},
    terms=dict.fromkeys(("attach", "remove_attachment"), history.Terms(LABELS, WORDS)),
)


@dataclass(frozen=True)
class AttachmentRow:
    attachment: Attachment
    uploaded_by: str


def may_change(access: Access, kind: Kind, record: Any) -> bool:
    """Whether this member may attach files to the record and remove them (the page offers the form)."""
    try:
        kind.require_change(access, record)
    except Forbidden:
        return False
    return True


def _event(db: Session, actor: Principal, record: Any, action: str, a: Attachment, added: bool) -> None:
    values = {"file": a.original_name, "sha256": a.sha256, "size": a.size}
    common.record_event(db, actor, record, action, {k: [None, v] if added else [v, None] for k, v in values.items()})


def attach(
    db: Session, actor: Principal, access: Access, kind: Kind, record: Any, upload: Upload | None, store: FileStore
) -> Attachment:
    """Keep the file (TooLarge over the store's limit, nothing kept) and list it on the record."""
    kind.require_change(access, record)
    if upload is None:
        raise FormError({"file": "Choose a file to attach."})
    name, sha, size = store.keep(upload, "file")
    a = Attachment(
        project_id=record.project_id,
        entity=kind.entity,
        record_id=record.id,
        original_name=name,
        sha256=sha,
        size=size,
        content_type=(upload.content_type or "application/octet-stream")[:120],
        uploaded_by_id=actor.id,
    )
    db.add(a)
    db.flush()
    _event(db, actor, record, "attach", a, added=True)
    return a


def of_record(db: Session, kind: Kind, record_id: int) -> list[AttachmentRow]:
    """The record's attachments with who attached them, oldest first, in one query."""
    rows = db.exec(
        select(Attachment, User.full_name)
        .join(User, col(User.id) == Attachment.uploaded_by_id)
        .where(Attachment.entity == kind.entity, Attachment.record_id == record_id)
        .order_by(col(Attachment.id))
    ).all()
    return [AttachmentRow(a, name) for a, name in rows]


def get(db: Session, kind: Kind, record: Any, attachment_id: int) -> Attachment:
    """One of the record's attachments (the caller has loaded the record for this reader: 404 otherwise)."""
    a = db.get(Attachment, attachment_id)
    if a is None or a.entity != kind.entity or a.record_id != record.id:
        raise NotFound(detail=f"No such file on this {kind.noun}.")
    return a


def remove(db: Session, actor: Principal, access: Access, kind: Kind, record: Any, attachment_id: int) -> Attachment:
    """Take the file off the record; its bytes stay in the store (another record may hold the same content)."""
    kind.require_change(access, record)
    a = get(db, kind, record, attachment_id)
    _event(db, actor, record, "remove_attachment", a, added=False)
    db.delete(a)
    db.flush()
    return a
