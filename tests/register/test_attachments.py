"""Files on register records, for every kind of the kinds table alike: attached on the record's page and through
the API, downloaded exactly as sent under their own name, refused when too large or missing, read only by those who
may see the record, recorded on its history, and listed in a fixed number of queries."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from tests.register.conftest import RISK, acting, make_issue, make_risk
from tests.test_mail import dispatcher
from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.core.files import FileStore, Upload
from tracker.core.forms import parse
from tracker.mail import service as mail
from tracker.projects import service as projects
from tracker.register.attachments import service as attachments
from tracker.register.attachments.models import Attachment
from tracker.register.changes import service as changes
from tracker.register.decisions import service as decisions
from tracker.register.kinds import KINDS
from tracker.register.lessons import service as lessons
from tracker.register.meetings import service as meetings
from tracker.register.risks import service as risks


def _record(db, world, plural: str):
    if plural == "risks":
        return make_risk(db, world)
    if plural == "issues":
        return make_issue(db, world)
    staff, access = acting(db, world, "staff")
    if plural == "lessons":
        form = parse(lessons.LessonForm, {"title": "UAT data unmasked", "recommendation": "Mask data first"})
        return lessons.create(db, staff, access, form)
    if plural == "meetings":
        return meetings.create(db, staff, access, parse(meetings.MeetingForm, {"title": "Steering committee"}))
    if plural == "decisions":
        form = parse(decisions.DecisionForm, {"title": "Two go-live waves", "decided_by": "Steering committee"})
        return decisions.create(db, staff, access, form)
    return changes.create(db, staff, access, parse(changes.ChangeForm, {"title": "More training"}))


def _stored(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_a_file_attached_on_a_risk_page_is_listed_downloads_as_sent_and_reads_in_its_history(
    as_user, db, world, uploads
):
    risk = make_risk(db, world)
    staff = as_user("staff")
    page = staff.get(f"/projects/TST/risks/{risk.id}").text
    assert 'id="attachments"' in page and "No files attached." in page
    assert '<label for="f-attachment">Attach a file' in page and 'enctype="multipart/form-data"' in page
    r = staff.post(f"/projects/TST/risks/{risk.id}/attachments", files={"file": ("Vendor letter.pdf", b"%PDF-1.4 a")})
    assert r.status_code == 303 and r.headers["location"].endswith("#attachments")
    page = staff.get(f"/projects/TST/risks/{risk.id}").text
    assert "Vendor letter.pdf attached to R-001." in page
    a = db.exec(select(Attachment)).one()
    assert (a.entity, a.record_id, a.size, a.uploaded_by_id) == ("risk", risk.id, 10, world.ids["staff"])
    section = page[page.index('id="attachments"') :]
    assert "Vendor letter.pdf" in section and "10 bytes" in section and "Staff Person" in section
    for role in ("manager", "staff", "viewer"):  # everyone who reads the register
        got = as_user(role).get(f"/projects/TST/risks/{risk.id}/attachments/{a.id}")
        assert got.status_code == 200, role
        assert got.content == b"%PDF-1.4 a"
        assert got.headers["content-disposition"] == (
            "attachment; filename=\"Vendor letter.pdf\"; filename*=UTF-8''Vendor%20letter.pdf"
        )
        assert got.headers["content-type"] == "application/octet-stream"
    viewer_page = as_user("viewer").get(f"/projects/TST/risks/{risk.id}").text
    assert "Vendor letter.pdf" in viewer_page and 'id="f-attachment"' not in viewer_page  # reads, may not attach
    history = page[page.index('id="hist-h"') :]
    assert "attached a file to risk" in history and "Vendor letter.pdf" in history and "10 bytes" in history
    assert a.sha256 in history


@pytest.mark.parametrize("plural", list(KINDS))
def test_every_kind_takes_attachments_through_the_api(as_user, db, world, uploads, plural):
    record = _record(db, world, plural)
    kind = KINDS[plural]
    base = f"/api/v1/projects/TST/{plural}/{record.id}/attachments"
    staff = as_user("staff")
    r = staff.api("POST", base, files={"file": ("minutes.txt", b"agreed on Tuesday", "text/plain")})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["name"] == "minutes.txt" and body["size"] == 17 and body["content_type"] == "text/plain"
    assert body["uploaded_by"] == "Staff Person" and len(body["sha256"]) == 64
    assert body["download_url"] == f"{base}/{body['id']}"
    assert [a["id"] for a in staff.api("GET", base).json()] == [body["id"]]
    got = as_user("manager").api("GET", body["download_url"])
    assert got.status_code == 200 and got.content == b"agreed on Tuesday"
    assert got.headers["content-disposition"].startswith('attachment; filename="minutes.txt"; ')
    history = staff.get(f"/projects/TST/{plural}/{record.id}").text
    assert f"attached a file to {kind.noun or kind.name}" in history
    assert staff.api("DELETE", body["download_url"]).status_code == 204
    assert staff.api("GET", base).json() == []
    assert staff.api("GET", body["download_url"]).status_code == 404
    history = staff.get(f"/projects/TST/{plural}/{record.id}").text
    assert f"removed a file from {kind.noun or kind.name}" in history and "No files attached." in history


def test_a_hostile_name_keeps_its_words_but_cannot_break_the_download_header(as_user, db, world, uploads):
    risk = make_risk(db, world)
    staff = as_user("staff")
    base = f"/api/v1/projects/TST/risks/{risk.id}/attachments"
    r = staff.api("POST", base, files={"file": ('../x"\r\nSet-Cookie: a=b;ü.html', b"<script>1</script>", "text/html")})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == 'x"Set-Cookie: a=b;ü.html'
    got = staff.api("GET", r.json()["download_url"])
    assert got.content == b"<script>1</script>" and "a=b" not in got.headers.get("set-cookie", "")
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"x_Set-Cookie_ a_b__.html\"; filename*=UTF-8''x%22Set-Cookie%3A%20a%3Db%3B%C3%BC.html"
    )
    page = staff.get(f"/projects/TST/risks/{risk.id}").text
    assert "x&#34;Set-Cookie: a=b;ü.html" in page or "x&quot;Set-Cookie: a=b;ü.html" in page


def test_too_large_or_missing_files_are_refused_beside_the_field_and_nothing_is_kept(as_user, db, world, uploads):
    risk = make_risk(db, world)
    staff = as_user("staff")
    big = b"x" * (1024 * 1024 + 1)
    r = staff.api("POST", f"/api/v1/projects/TST/risks/{risk.id}/attachments", files={"file": ("big.bin", big)})
    assert r.status_code == 413 and "at most 1 MB" in r.json()["detail"]
    r = staff.api("POST", f"/api/v1/projects/TST/risks/{risk.id}/attachments", files={"other": (None, "no file")})
    assert r.status_code == 422 and "Choose a file" in r.json()["extra"]["file"]
    r = staff.post(f"/projects/TST/risks/{risk.id}/attachments", files={"file": ("big.bin", big)})
    assert r.status_code == 413
    error = re.search(r'id="f-attachment-error" class="field-error">([^<]+)<', r.text)
    assert error and "at most 1 MB" in error.group(1) and 'aria-invalid="true"' in r.text
    r = staff.post(f"/projects/TST/risks/{risk.id}/attachments", files={"file": ("", b"")})
    assert r.status_code == 422 and 'id="f-attachment-error"' in r.text and "Choose a file" in r.text
    assert db.exec(select(Attachment)).all() == []
    assert _stored(uploads) == []


def test_only_those_who_may_see_the_record_read_its_files_and_only_its_editors_change_them(as_user, db, world, uploads):
    risk = make_risk(db, world)
    staff = as_user("staff")
    a = staff.api("POST", f"/api/v1/projects/TST/risks/{risk.id}/attachments", files={"file": ("a.txt", b"a")}).json()
    # a risk of another project, and a draft change request of the State's, which the contractor may not see
    outsider = principal(db.get(User, world.ids["outsider"]))
    other = risks.create(
        db, outsider, projects.get_for(db, outsider, "OTH"), parse(risks.RiskForm, RISK | {"status": "closed"})
    )
    s, s_access = acting(db, world, "staff")
    draft = changes.create(db, s, s_access, parse(changes.ChangeForm, {"title": "Draft"}))
    manager = as_user("manager")
    assert manager.api("GET", f"/api/v1/projects/TST/risks/{other.id}/attachments").status_code == 404
    assert manager.get(f"/projects/TST/risks/{other.id}/attachments/{a['id']}").status_code == 404
    assert manager.api("GET", f"/api/v1/projects/TST/issues/{risk.id}/attachments/{a['id']}").status_code == 404
    assert as_user("outsider").api("GET", a["download_url"]).status_code == 404
    assert as_user("contractor").api("GET", a["download_url"]).status_code in (403, 404)  # not the register
    contractor = as_user("contractor")
    assert contractor.api("GET", f"/api/v1/projects/TST/changes/{draft.id}/attachments").status_code == 404
    viewer = as_user("viewer")
    assert (
        viewer.api("POST", f"/api/v1/projects/TST/risks/{risk.id}/attachments", files={"file": ("b", b"b")}).status_code
        == 403
    )
    assert viewer.api("DELETE", a["download_url"]).status_code == 403
    # the contractor raises change requests, but attaches nothing to the State's (once submitted it sees it)
    changes.move(db, s, s_access, draft, changes.Move.SUBMIT, parse(changes.DecisionForm, {"version": 1}))
    url = f"/api/v1/projects/TST/changes/{draft.id}/attachments"
    assert contractor.api("GET", url).status_code == 200
    assert contractor.api("POST", url, files={"file": ("c.txt", b"c")}).status_code == 403
    page = contractor.get(f"/projects/TST/changes/{draft.id}").text
    assert 'id="attachments"' in page and 'id="f-attachment"' not in page
    assert [x.original_name for x in db.exec(select(Attachment))] == ["a.txt"]


def test_the_record_page_reads_its_files_in_the_same_queries_for_1_and_10(as_user, db, world, uploads, count_queries):
    risk = make_risk(db, world)
    staff = as_user("staff")
    url = f"/api/v1/projects/TST/risks/{risk.id}/attachments"
    assert staff.api("POST", url, files={"file": ("0.txt", b"0")}).status_code == 201
    staff.get(f"/projects/TST/risks/{risk.id}")  # warm
    with count_queries() as c:
        assert staff.get(f"/projects/TST/risks/{risk.id}").status_code == 200
    one = c.count
    for n in range(1, 10):
        assert staff.api("POST", url, files={"file": (f"{n}.txt", str(n).encode())}).status_code == 201
    with count_queries() as c:
        page = staff.get(f"/projects/TST/risks/{risk.id}").text
    assert "9.txt" in page and c.count == one


def test_who_watches_the_record_is_told_of_a_file_attached_to_it(db, conn, world, database_url, tmp_path, inbox):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    risk = make_risk(db, world)
    mail.set_watching(db, db.get(User, world.ids["viewer"]), f"risks-{risk.id}", True)
    db.commit()
    d.once()
    staff, s_access = acting(db, world, "staff")
    letter = Upload("letter.pdf", "application/pdf", b"%PDF-1.4")
    attachments.attach(db, staff, s_access, KINDS["risks"], risk, letter, FileStore(tmp_path / "up", 1024 * 1024))
    db.commit()
    d.once()
    told = [m["Subject"] for m in inbox.to("viewer@example.gov")]
    assert told == [f"[TST {risk.code}] Staff Person attached a file to {risk.code}"]
