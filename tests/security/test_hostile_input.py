"""Hostile input: markup in every text field comes back escaped on every page, in the exports (CSV/XLSX cells that
would run as formulas neutralised; PDF/DOCX letters show it as text) and as plain JSON data in the API;
SQL-looking text is stored literally; uploaded names cannot reach the file system; oversized uploads and bodies get
413 with a message; a form POST without the right CSRF token gets 403 on every form route."""

from __future__ import annotations

import csv
import io
import re

import pytest
from docx import Document
from litestar.testing import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import text

from tests.conftest import Browser, _session, make_settings
from tests.security.test_permissions import ROUTES, _fill, _fingerprint
from tracker.app import create_app
from tracker.core.db import commit

XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'"
MARKERS = ("<script>alert(1)", "<img src=x")  # neither ever appears in our own templates

# Every free-text column a user can fill, by table.
TEXT_COLUMNS = {
    "project": ["name", "description", "sponsor", "contractor", "contract_number"],
    "deliverable": ["title", "description"],
    "criterion": ["text"],
    "submission": ["notes"],
    "submission_file": ["original_name"],
    "comment": ["location", "text", "response"],
    "risk": ["title", "statement", "trigger", "mitigation_plan", "contingency_plan"],
    "issue": ["title", "description", "impact"],
    "issue_decision": ["decision", "decided_by", "rationale"],
    "action_item": ["description"],
    "app_user": ["full_name", "title", "organization"],
    "api_token": ["name"],
}


@pytest.fixture
def hostile(db, seeded, app) -> dict[str, int | str]:
    """The payload in every text field of every seeded row, and where rows are never changed (an audit event, a
    decision) in a new one: the deliverable in review is accepted with conditions. Answers the ids of its letter."""
    from tests.deliverables.test_service import _as
    from tracker.audit.models import AuditEvent
    from tracker.core.files import FileStore
    from tracker.core.forms import parse
    from tracker.deliverables import decisions, records
    from tracker.deliverables.models import Deliverable

    for table, columns in TEXT_COLUMNS.items():
        db.execute(text(f"UPDATE {table} SET " + ", ".join(f"{c} = :v" for c in columns)), {"v": XSS})
    project_id = db.execute(text("SELECT id FROM project WHERE key = 'TST'")).scalar_one()
    db.add(
        AuditEvent(
            project_id=project_id,
            entity_type="risk",
            entity_id=seeded.ids["risk_id"],
            entity_label=XSS,
            action="update",
            changes={"title": [XSS, XSS]},
        )
    )
    manager, access = _as(db, seeded.world, "manager")
    d = db.get(Deliverable, seeded.ids["deliverable_id"])
    decision = decisions.decide(
        db,
        manager,
        access,
        d,
        parse(
            decisions.DecisionForm,
            {"outcome": "conditionally_accepted", "findings": XSS, "conditions": XSS, "conditions_due": "2030-01-31"},
        ),
        store=FileStore.from_settings(app.state.settings),
    )
    commit(db)
    return {
        "rejected_id": d.id,
        "decision_id": decision.id,
        "kind": "conditional_notice",
        "record_id": records.records_of(db, decision.id)[0].id,
    }


@pytest.mark.parametrize("persona", ["admin", "manager", "contractor"])
def test_markup_in_every_text_field_is_escaped_on_every_page(as_user, seeded, hostile, persona):
    ids = seeded.ids | hostile | {name: seeded.world.ids[name] for name in ("staff", "outsider")}
    b = as_user(persona)
    pages = shown = 0
    for method, template, allowed, *_ in ROUTES:
        if method != "GET" or template.startswith("/api/") or persona not in allowed:
            continue
        if "_sheet}" in template:  # an import step: it shows the sheet uploaded before it (escaped: tests/transfer)
            continue
        r = b.client.get(_fill(template, ids), headers={"HX-Request": "true"} if "comments" in template else {})
        if r.headers.get("content-type", "").startswith("text/html"):
            pages += 1
            assert r.status_code == 200, (template, r.status_code)
            assert not [m for m in MARKERS if m in r.text], template
            shown += "&lt;script&gt;alert(1)" in r.text
    assert pages >= (9 if persona == "contractor" else 15) and shown >= 5  # the payload was on the pages, escaped


def test_api_returns_markup_as_json_data_never_as_html(as_user, seeded, hostile):
    r = as_user("manager").api("GET", f"/api/v1/risks/{seeded.ids['risk_id']}")
    assert r.headers["content-type"] == "application/json" and r.headers["x-content-type-options"] == "nosniff"
    assert r.json()["title"] == XSS


def test_comment_exports_neutralise_formulas_and_keep_markup_as_text(as_user, seeded, db):
    formulas = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)"]
    db.execute(
        text("UPDATE comment SET location = :a, text = :b, response = :c"),
        {"a": formulas[0], "b": formulas[1] + XSS, "c": formulas[2]},
    )
    db.execute(text("UPDATE app_user SET full_name = :v"), {"v": formulas[3]})
    db.commit()
    b = as_user("manager")
    base = f"/projects/TST/deliverables/{seeded.ids['deliverable_id']}/comments"
    rows = list(csv.reader(io.StringIO(b.get(base + ".csv").content.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(b.get(base + ".xlsx").content)).active
    for cells in (rows[1:], [[c.value or "" for c in row] for row in sheet.iter_rows(min_row=2)]):
        flat = [str(c) for row in cells for c in row]
        assert not [c for c in flat if c[:1] in ("=", "+", "-", "@")], flat
        for f in formulas:
            assert "'" + f in flat or any(c.startswith("'" + f) for c in flat), f
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]


def test_letters_show_markup_as_text(as_user, seeded, db, app):
    from tests.deliverables.test_service import _as
    from tracker.core.files import FileStore
    from tracker.core.forms import parse
    from tracker.deliverables import decisions, records
    from tracker.deliverables.models import Deliverable

    store = FileStore.from_settings(app.state.settings)
    manager, access = _as(db, seeded.world, "manager")
    d = db.get(Deliverable, seeded.ids["deliverable_id"])
    decision = decisions.decide(
        db, manager, access, d, parse(decisions.DecisionForm, {"outcome": "rejected", "findings": XSS}), store=store
    )
    commit(db)
    assert len(records.records_of(db, decision.id)) == 4
    for record in records.records_of(db, decision.id):
        data = store.path_for(record.sha256).read_bytes()
        if record.format == "pdf":
            shown = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
        else:
            shown = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
        if record.kind == "rejection_letter":
            assert "<script>alert(1)</script>" in shown.replace("\n", ""), record.filename


def test_sql_looking_input_is_stored_and_searched_literally(as_user):
    b = as_user("staff")
    title = "Robert'); DROP TABLE risk;-- ' OR '1'='1"
    r = b.api(
        "POST", "/api/v1/projects/TST/risks", json={"title": title, "probability": 2, "impact": 2, "status": "closed"}
    )
    assert r.status_code == 201, r.text
    assert b.api("GET", f"/api/v1/risks/{r.json()['id']}").json()["title"] == title
    assert [
        i["title"] for i in b.api("GET", "/api/v1/projects/TST/risks", params={"q": "' OR '1'='1"}).json()["items"]
    ] == [title]
    assert b.api("GET", "/api/v1/projects/TST/risks", params={"q": "%' OR 1=1 --"}).json()["total"] == 0
    assert b.get("/projects/TST/risks", params={"q": "'; DROP TABLE risk;--"}).status_code == 200


def test_uploaded_names_never_reach_the_file_system(as_user, seeded, app):
    b = as_user("contractor")
    d = seeded.ids["rejected_id"]  # rejected: the contractor may resubmit
    r = b.api(
        "POST",
        f"/api/v1/deliverables/{d}/submissions",
        data={"notes": ""},
        files=[
            ("files", ("../../../etc/passwd", b"root:x", "text/plain")),
            ("files", ("..\\..\\boot.ini", b"[boot]", "text/plain")),
        ],
    )
    assert r.status_code == 201, r.text
    stored = r.json()["files"]
    assert [f["original_name"] for f in stored] == ["passwd", "boot.ini"]
    root = app.state.settings.upload_dir
    assert not [p for p in root.rglob("*") if p.name in ("passwd", "boot.ini")]
    download = b.get(f"/api/v1/deliverables/{d}/files/{stored[0]['id']}")
    assert download.content == b"root:x" and 'filename="passwd"' in download.headers["content-disposition"]


@pytest.fixture
def small(conn, seeded):
    """The app with a 1 MB upload limit (bodies: 2 MB), signed in as the contractor."""
    app = create_app(
        make_settings(seeded.url, upload_dir=seeded.uploads, max_upload_mb=1), session_factory=lambda: _session(conn)
    )
    b = Browser(TestClient(app, base_url="http://testserver.local"))
    assert b.login("contractor").status_code == 303
    return b


def test_oversized_uploads_and_bodies_get_413_with_a_message(small, seeded, db):
    d = seeded.ids["rejected_id"]
    before = _fingerprint(db)
    big_file = {"files": ("big.pdf", b"x" * (1024 * 1024 + 1), "application/pdf")}
    r = small.api("POST", f"/api/v1/deliverables/{d}/submissions", data={"notes": ""}, files=big_file)
    assert r.status_code == 413 and "at most 1 MB" in r.json()["detail"]
    r = small.post(f"/projects/TST/deliverables/{d}/submit", {"notes": ""}, files=big_file)
    assert r.status_code == 413 and "at most 1 MB" in r.text and r.headers["content-type"].startswith("text/html")
    r = small.api(
        "POST",
        "/api/v1/projects/TST/risks",
        content=b'{"title": "' + b"x" * (3 * 1024 * 1024) + b'"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["detail"]
    r = small.post("/projects/TST/risks", {"title": "x" * (3 * 1024 * 1024)})
    assert r.status_code == 413 and "Too large" in r.text
    db.expire_all()
    assert _fingerprint(db) == before


FORM_POSTS = [(path, body) for method, path, _, body, *_ in ROUTES if method == "POST" and not path.startswith("/api/")]


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_every_form_post_without_the_right_csrf_token_is_refused(as_user, seeded, db, token):
    ids = seeded.ids | {name: seeded.world.ids[name] for name in ("staff", "outsider")}
    b = as_user("admin")
    before = _fingerprint(db)
    wrong = []
    for path, body in [*FORM_POSTS, ("/login", {"username": "admin", "password": "x"}), ("/logout", {})]:
        data = {k: str(v) for k, v in (_fill(body, ids) or {}).items() if not isinstance(v, tuple)}  # no uploads
        if token:
            data["_csrf_token"] = token
        r = b.client.post(_fill(path, ids), data=data, follow_redirects=False)
        if r.status_code != 403 or not re.search(r"form expired", r.text):
            wrong.append(f"{path}: {r.status_code}")
    assert len(FORM_POSTS) >= 30 and not wrong, wrong
    db.expire_all()
    assert _fingerprint(db) == before
