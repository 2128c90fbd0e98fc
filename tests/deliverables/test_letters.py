"""What a decision letter carries besides the decision: the contractor's contact it is addressed to (project
settings), the decider's name and title as its signature, a reference "<KEY>-<code>-L<n>" derived from the decision's
place among its deliverable's, and the organisation's name and logo (set by admins on /admin/organisation)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re

import docx
import pytest
from pypdf import PdfReader
from sqlmodel import select

from tests.deliverables.test_records import _decide, _in_review, _pdf_text, _read, _stored, store  # noqa: F401
from tests.deliverables.test_service import _as
from tracker.accounts.models import User
from tracker.audit.models import AuditEvent
from tracker.core.files import FileStore
from tracker.deliverables import records
from tracker.deliverables.models import RecordKind
from tracker.projects import organisation
from tracker.projects.models import Organisation, Project

# The smallest PNG: one white pixel.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg=="
)
CONTACT = {
    "contact_name": "Pat Contractor",
    "contact_title": "Delivery Director",
    "contact_address": "Acme Integrators\n100 Main Street\nSacramento, CA 95814",
    "contact_email": "pat@acme.example",
}


def _settings_form(manager, **changes):
    page = manager.get("/projects/TST/edit").text
    assert 'name="contact_address"' in page
    import re

    version = re.search(r'name="version" value="(\d+)"', page)[1]
    data = {
        "key": "TST",
        "name": "Test Programme",
        "contractor": "Acme Integrators",
        "timezone": "America/Los_Angeles",
        "review_days": "10",
        "resubmit_days": "10",
        "deemed_policy": "never",
        "deemed_days": "15",
        "holiday_calendar": "US",
        "version": version,
    }
    return manager.post("/projects/TST/edit", data | CONTACT | changes)


def test_whoever_may_manage_the_project_sets_the_addressee_a_bad_address_refused_beside_its_field(as_user, db):
    manager = as_user("manager")  # Perm.MANAGE: the project's settings
    r = _settings_form(manager, contact_email="not an address")
    assert r.status_code == 422 and 'id="f-contact_email-error"' in r.text and "Pat Contractor" in r.text
    assert _settings_form(manager).status_code == 303
    db.expire_all()
    project = db.exec(select(Project).where(Project.key == "TST")).one()
    assert project.contact_address == CONTACT["contact_address"] and project.contact_email == "pat@acme.example"
    for role in ("staff", "contractor", "viewer"):
        assert as_user(role).post("/projects/TST/edit", CONTACT).status_code == 403


def test_only_admins_set_the_organisation_and_its_logo_is_a_png_or_jpeg_of_bounded_size(as_user, db, app):
    for role in ("manager", "staff", "contractor", "viewer", "outsider"):
        assert as_user(role).get("/admin/organisation").status_code == 403
    admin = as_user("admin")
    r = admin.post("/admin/organisation", {"name": "Dept of Examples"}, files={"logo": ("x.svg", b"<svg/>")})
    assert r.status_code == 422 and 'id="f-logo-error"' in r.text and "PNG or JPEG" in r.text
    assert 'value="Dept of Examples"' in r.text  # the input kept
    big = PNG + b"\0" * organisation.LOGO_MAX_BYTES
    assert admin.post("/admin/organisation", {"name": "x"}, files={"logo": ("big.png", big)}).status_code == 413
    r = admin.post("/admin/organisation", {"name": "Dept of Examples"}, files={"logo": ("logo.png", PNG)})
    assert r.status_code == 303
    db.expire_all()
    org = db.get(Organisation, organisation.ROW_ID)
    assert org.name == "Dept of Examples" and org.logo_type == "image/png"
    assert FileStore.from_settings(app.state.settings).path_for(org.logo_sha256).read_bytes() == PNG
    assert 'alt="Logo of Dept of Examples"' in admin.get("/admin/organisation").text


def _organisation_events(db) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.entity_type == "organisation").order_by(AuditEvent.id)
    return list(db.exec(stmt))


def test_the_organisations_name_and_logo_changes_are_on_its_history_the_logo_by_its_file_not_its_bytes(
    as_user, db, world
):
    admin = as_user("admin")
    r = admin.post(
        "/admin/organisation", {"name": "Dept of Examples", "version": "1"}, files={"logo": ("seal.png", PNG)}
    )
    assert r.status_code == 303
    sha = hashlib.sha256(PNG).hexdigest()
    (first,) = _organisation_events(db)
    assert (first.action, first.actor_id, first.entity_id, first.project_id) == ("update", world.ids["admin"], 1, None)
    assert first.changes == {
        "name": ["", "Dept of Examples"],
        "logo": [None, {"name": "seal.png", "sha256": sha, "size": len(PNG)}],
    }
    other = PNG + b"\0"  # another file, whose bytes the trail must not hold
    r = admin.post(
        "/admin/organisation",
        {"name": "Department of Examples", "version": "1"},
        files={"logo": ("C:\\art\\new.png", other)},
    )
    assert r.status_code == 303
    assert admin.post("/admin/organisation", {"name": "Department of Examples", "version": "2"}).status_code == 303
    first, second = _organisation_events(db)  # saving nothing new records nothing
    assert second.changes["name"] == ["Dept of Examples", "Department of Examples"]
    assert second.changes["logo"][1] == {"name": "new.png", "sha256": hashlib.sha256(other).hexdigest(), "size": 71}
    assert base64.b64encode(other).decode()[:20] not in json.dumps(second.changes)
    page = admin.get("/admin/organisation").text
    assert "new.png (71 bytes)" in page
    history = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split('id="hist-h"')[1]))
    assert "updated organisation Department of Examples" in history
    assert "Name : Dept of Examples → Department of Examples" in history
    assert f"Logo : seal.png (70 bytes, sha256 {sha[:12]}) → new.png (71 bytes, sha256" in history
    for role in ("manager", "staff", "viewer", "outsider"):
        r = as_user(role).post(
            "/admin/organisation", {"name": "Taken over", "version": "2"}, files={"logo": ("x.png", PNG)}
        )
        assert r.status_code == 403
        assert as_user(role).get("/admin/organisation").status_code == 403
    assert len(_organisation_events(db)) == 2
    assert db.get(Organisation, organisation.ROW_ID).name == "Department of Examples"


def _set_up(db, world, store):  # noqa: F811
    project = db.exec(select(Project).where(Project.key == "TST")).one()
    for name, value in CONTACT.items():
        setattr(project, name, value)
    db.get(User, world.ids["manager"]).title = "Contract Manager"
    sha, _ = store.put(PNG)
    db.add(Organisation(id=organisation.ROW_ID, name="Dept of Examples", logo_sha256=sha, logo_type="image/png"))
    db.flush()


def test_the_letter_is_addressed_signed_numbered_and_headed_with_the_organisation(db, world, store):  # noqa: F811
    _set_up(db, world, store)
    d = _in_review(db, world, store, n_comments=0)
    first = _decide(db, world, store, d, outcome="rejected", findings="Section 3 is incomplete")
    letter = records.compose(records.gather(db, first.id), RecordKind.REJECTION_LETTER)
    assert letter.reference == f"TST-{d.code}-L1"
    assert letter.addressee == [
        "Pat Contractor",
        "Delivery Director",
        "Acme Integrators",  # once, though the address repeats it
        "100 Main Street",
        "Sacramento, CA 95814",
        "pat@acme.example",
    ]
    assert letter.signed_by == ["Manager Person", "Contract Manager"] and letter.organisation == "Dept of Examples"

    stored = _stored(db, first)
    pdf = _read(store, stored[("rejection_letter", "pdf")])
    words = _pdf_text(pdf)
    for text in ("Dept of Examples", "Pat Contractor", "Sacramento, CA 95814", f"TST-{d.code}-L1", "Contract Manager"):
        assert text in words, text
    assert any(page.images for page in PdfReader(io.BytesIO(pdf)).pages)  # the logo
    document = docx.Document(io.BytesIO(_read(store, stored[("rejection_letter", "docx")])))
    assert document.sections[0].header.part.package.image_parts  # the logo, in the header
    assert "Pat Contractor" in " ".join(p.text for p in document.paragraphs)


def test_each_decision_of_a_deliverable_has_its_own_letter_number(db, world, store):  # noqa: F811
    d = _in_review(db, world, store, n_comments=0)
    first = _decide(db, world, store, d, outcome="rejected", findings="Incomplete")
    contractor, access = _as(db, world, "contractor")
    from tracker.deliverables import reviews, submissions
    from tracker.deliverables.submissions import Upload

    submissions.submit(db, contractor, access, d, "", [Upload("v2.pdf", "application/pdf", b"v2")], store)
    staff, s_access = _as(db, world, "staff")
    reviews.start_review(db, staff, s_access, d)
    second = _decide(db, world, store, d, outcome="rejected", findings="Still incomplete")
    refs = [records.compose(records.gather(db, x.id), RecordKind.REJECTION_LETTER).reference for x in (first, second)]
    assert refs == [f"TST-{d.code}-L1", f"TST-{d.code}-L2"]


@pytest.mark.parametrize("role", ["manager", "staff", "contractor", "viewer"])
def test_every_member_reads_the_letter_page_with_its_addressee_and_logo(as_user, db, world, store, role):  # noqa: F811
    _set_up(db, world, store)
    d = _in_review(db, world, store, n_comments=0)
    decision = _decide(db, world, store, d, outcome="rejected", findings="Incomplete")
    url = f"/projects/TST/deliverables/{d.id}/decisions/{decision.id}/rejection_letter"
    page = as_user(role).get(url).text
    assert "Pat Contractor" in page and f"TST-{d.code}-L1" in page and 'src="data:image/png;base64,' in page
    assert as_user("outsider").get(url).status_code == 404
