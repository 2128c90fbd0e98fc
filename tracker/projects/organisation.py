"""The organisation using the tracker: its name and logo, set by admins (on the audit trail), head every decision
letter."""

from __future__ import annotations

import base64
from typing import Any

from pydantic import Field
from sqlmodel import Session

from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.core.clock import utcnow
from tracker.core.errors import Forbidden, FormError, NotFound
from tracker.core.files import FileStore, safe_filename
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


def _logo(org: Organisation) -> dict[str, Any] | None:
    """The logo as the trail keeps it: which file, never its bytes."""
    if not org.logo_sha256:
        return None
    return {"name": org.logo_name, "sha256": org.logo_sha256, "size": org.logo_size}


def logo_words(value: dict[str, Any], _names: dict[int, str]) -> str:
    """ "seal.png (12,345 bytes, sha256 5f3a1b2c9d0e)" """
    facts = [f"{value['size']:,} bytes"] if value.get("size") else []
    facts.append(f"sha256 {value['sha256'][:12]}")
    return f"{value.get('name') or 'a logo'} ({', '.join(facts)})"


history.register(
    nouns={"organisation": "organisation"},
    terms={"organisation": history.Terms({"name": "Name", "logo": "Logo"}, {"logo": logo_words})},
)


def save(
    db: Session,
    actor: Principal,
    form: OrganisationForm,
    logo: bytes | None,
    store: FileStore,
    logo_name: str = "",
) -> Organisation:
    """Name and (when one is uploaded) logo, on the audit trail. Over LOGO_MAX_BYTES: TooLarge (413); not PNG/JPEG:
    FormError (422)."""
    if not actor.is_admin:
        raise Forbidden(detail="Only admins set the organisation's name and logo.")
    org = get(db)
    org.check_seen(form.version, {"name": org.name})  # a new row is version 1, as a fresh form says
    before = {"name": org.name, "logo": _logo(org)}
    if logo:
        media = logo_type(logo)
        sha, size = FileStore(store.root, LOGO_MAX_BYTES).put(logo)
        org.logo_sha256, org.logo_type, org.logo_size = sha, media, size
        org.logo_name = safe_filename(logo_name, "logo")
    org.name = form.name.strip()
    if changes := audit.diff(before, {"name": org.name, "logo": _logo(org)}):
        org.updated_at = utcnow()
        db.add(org)
        db.flush()
        audit.record(db, actor_id=actor.id, entity=org, label=org.name, action="update", changes=changes)
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
