"""The organisation using the tracker: its name and logo, set by admins, head every decision letter."""

from __future__ import annotations

import base64

from pydantic import Field
from sqlmodel import Session

from tracker.accounts.service import Principal
from tracker.core.clock import utcnow
from tracker.core.errors import Forbidden, FormError, NotFound
from tracker.core.files import FileStore
from tracker.core.forms import Form
from tracker.projects.models import Organisation

LOGO_MAX_BYTES = 512 * 1024  # a letterhead logo; more is a photograph
# The types a logo may be, by the bytes they start with. Not SVG: it can carry script and fetch other files.
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
ROW_ID = 1


class OrganisationForm(Form):
    name: str = Field(default="", max_length=200)
    version: int | None = None


def get(db: Session) -> Organisation:
    """The one row (an empty one before an admin first saves)."""
    return db.get(Organisation, ROW_ID) or Organisation(id=ROW_ID, version=1)


def logo_type(content: bytes) -> str:
    """The logo's media type from its first bytes; FormError when it is not a PNG or JPEG."""
    for magic, media in LOGO_TYPES.items():
        if content.startswith(magic):
            return media
    raise FormError({"logo": "Upload the logo as a PNG or JPEG image."})


def save(db: Session, actor: Principal, form: OrganisationForm, logo: bytes | None, store: FileStore) -> Organisation:
    """Name and (when one is uploaded) logo. Over LOGO_MAX_BYTES: TooLarge (413); not PNG/JPEG: FormError (422)."""
    if not actor.is_admin:
        raise Forbidden(detail="Only admins set the organisation's name and logo.")
    org = get(db)
    org.check_seen(form.version, {"name": org.name})  # a new row is version 1, as a fresh form says
    if logo:
        media = logo_type(logo)
        sha, _ = FileStore(store.root, LOGO_MAX_BYTES).put(logo)
        org.logo_sha256, org.logo_type = sha, media
    org.name = form.name.strip()
    org.updated_at = utcnow()
    db.add(org)
    db.flush()
    return org


def logo_data_uri(org: Organisation, store: FileStore) -> str:
    """The logo inline ("data:image/png;base64,…"), so a letter carries it with no fetch; "" without one."""
    if not org.logo_sha256:
        return ""
    try:
        with store.open(org.logo_sha256) as f:
            content = f.read()
    except NotFound:
        return ""  # missing from storage: the letter goes without it rather than fail
    return f"data:{org.logo_type};base64,{base64.b64encode(content).decode()}"
