"""Control characters: refused at input with a message naming the field (tab and line breaks only in text that may
run over several lines), NUL included, on PostgreSQL too; and stripped from every export, so that text stored
before (or written around the forms) still downloads as CSV, XLSX, DOCX and PDF."""

from __future__ import annotations

import csv
import io
import json
import re
import types
import typing
from datetime import date

import pytest
from docx import Document
from openpyxl import load_workbook
from pydantic import BaseModel, ValidationError
from pypdf import PdfReader
from sqlalchemy import text

from tests.library.conftest import definition, save
from tests.security.test_permissions import _fingerprint
from tracker.core.forms import Form
from tracker.core.messages import label_of
from tracker.settings import ROOT

CONTROLS = ["\x00", "\x01", "\x0b", "\x1b", "\x7f"]
STORED = "Server\x01room\x0bmove"  # what the database already holds (never through a form)
SHOWN = "Serverroommove"  # what every export shows of it


def _subclasses(cls: type) -> list[type]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_subclasses(sub))]


def _body_models(app) -> set[type[BaseModel]]:
    """The pydantic model of every JSON body the API accepts (a list of them: its items' model)."""
    found = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            field = handler.parsed_fn_signature.parameters.get("data")
            annotation = field.annotation if field else None
            for candidate in (annotation, *typing.get_args(annotation)):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    found.add(candidate)
    return found


def _bad_value(annotation, bad: str):
    """A value of this field's type carrying `bad` in its text; None when the field holds no free text."""
    if annotation is str:
        return bad
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _bad_value(args[0], bad)
    if origin in (typing.Union, types.UnionType):
        return next((v for v in (_bad_value(a, bad) for a in args) if v is not None), None)
    if origin is list and args and (inner := _bad_value(args[0], bad)) is not None:
        return [inner]
    if origin is dict:
        return {"date": "2026-12-24", "name": bad}  # e.g. a project holiday
    return None


def _text_fields(model: type[BaseModel], bad: str) -> dict[str, object]:
    return {
        name: value for name, f in model.model_fields.items() if (value := _bad_value(f.annotation, bad)) is not None
    }


def test_every_form_and_api_body_refuses_control_characters_naming_the_field(app):
    models = sorted({*_subclasses(Form), *_body_models(app)}, key=lambda m: (m.__module__, m.__name__))
    checked, wrong = 0, []
    for model in models:
        for bad in ("Server\x01room", "Server\x00room"):
            for name, value in _text_fields(model, bad).items():
                checked += 1
                try:
                    model.model_validate({name: value})
                    wrong.append(f"{model.__name__}.{name}: accepted")
                    continue
                except ValidationError as exc:
                    messages = [e["msg"] for e in exc.errors() if e["loc"][:1] == (name,)]
                label = label_of(model, name)
                if not any("control character" in m and label.lower() in m.lower() for m in messages):
                    wrong.append(f"{model.__name__}.{name}: {messages}")
    assert checked > 100 and not wrong, wrong


def test_every_textarea_may_hold_several_lines_and_other_fields_one():
    from tracker.core.forms import MULTILINE, parse
    from tracker.register.risks.service import RiskForm
    from tracker.reports import rag

    names = set()
    for path in (ROOT / "templates").rglob("*.html"):
        page = path.read_text()
        names |= set(re.findall(r"textarea\('(\w+)',", page)) | set(re.findall(r'<textarea[^>]*name="(\w+)"', page))
    names |= {f"why_{area}" for area in rag.OVERRIDABLE}
    assert names and names <= MULTILINE, names - MULTILINE
    form = parse(
        RiskForm,
        {
            "title": "Data conversion",
            "probability": "3",
            "impact": "3",
            "statement": "If the data is dirty,\r\nthen\tgo-live slips",
        },
    )
    assert form.statement == "If the data is dirty,\r\nthen\tgo-live slips"
    with pytest.raises(ValidationError, match="one line"):
        RiskForm.model_validate({"title": "Data\nconversion", "probability": "3", "impact": "3"})


@pytest.mark.parametrize("char", CONTROLS)
def test_the_api_refuses_a_control_character_with_the_field_named_and_writes_nothing(as_user, db, char):
    b = as_user("staff")
    before = _fingerprint(db)
    r = b.api("POST", "/api/v1/projects/TST/risks", json={"title": f"Server{char}room", "probability": 2, "impact": 2})
    assert r.status_code in (400, 422), r.text
    body = r.json()
    assert set(body) == {"status_code", "detail", "extra"} and "Title" in str(body["extra"]), body
    assert "control character" in str(body["extra"]) and "out of range" not in r.text
    r = b.api("PATCH", "/api/v1/projects/TST", json={"description": f"Line one\n{char}"})
    assert r.status_code in (400, 403, 422) and "out of range" not in r.text
    db.expire_all()
    assert _fingerprint(db) == before


def test_the_api_keeps_tabs_and_line_breaks_in_text_of_several_lines_only(as_user):
    b = as_user("staff")
    r = b.api("POST", "/api/v1/projects/TST/risks", json={"title": "Tabs\tin a title", "probability": 2, "impact": 2})
    assert r.status_code in (400, 422) and "one line" in str(r.json()["extra"])
    r = b.api(
        "POST",
        "/api/v1/projects/TST/risks",
        json={
            "title": "Data conversion",
            "probability": 2,
            "impact": 2,
            "status": "closed",
            "statement": "If A,\nthen\tB",
        },
    )
    assert r.status_code == 201 and r.json()["statement"] == "If A,\nthen\tB"


def test_a_page_form_shows_the_message_beside_the_field_and_keeps_the_input(as_user, db):
    b = as_user("staff")
    before = _fingerprint(db)
    r = b.post(
        "/projects/TST/risks",
        {"title": "Server\x0broom", "statement": "Kept as typed", "probability": "2", "impact": "2"},
    )
    assert r.status_code == 422
    error = re.search(r'id="f-title-error"[^>]*>([^<]*)<', r.text)
    assert error and "Title" in error.group(1) and "control character" in error.group(1), r.text
    assert "Kept as typed" in r.text
    db.expire_all()
    assert _fingerprint(db) == before
    ok = b.post(
        "/projects/TST/risks",
        {
            "title": "Server room",
            "statement": "Line one\r\nLine two",
            "probability": "2",
            "impact": "2",
            "status": "closed",
        },
    )
    assert ok.status_code == 303


def test_fields_read_outside_a_form_model_are_refused_too(as_user, seeded, db):
    manager, contractor = as_user("manager"), as_user("contractor")  # signing in counts its attempt: before the count
    before = _fingerprint(db)
    r = manager.post(f"/projects/TST/deliverables/{seeded.ids['deliverable_id']}/withdraw", {"reason": "No\x00longer"})
    assert r.status_code == 422 and "Reason" in r.text and "control character" in r.text
    r = contractor.api(
        "POST",
        f"/api/v1/deliverables/{seeded.ids['rejected_id']}/submissions",
        data={"notes": "See\x00attached"},
        files={"files": ("v2.pdf", b"%PDF-2", "application/pdf")},
    )
    assert r.status_code in (400, 422) and "Notes" in str(r.json()["extra"]), r.text
    r = manager.api("GET", "/api/v1/projects/TST/risks", params={"q": "a\x00b"})
    assert r.status_code == 400 and "q" in r.json()["detail"] and "control character" in r.json()["detail"], r.text
    r = manager.get("/projects/TST/risks", params={"q": "a\x01b"})
    assert r.status_code == 400 and "control character" in r.text
    r = as_user(None).login("man\x00ager")
    assert r.status_code == 400 and "Username" in r.text and "control character" in r.text
    db.expire_all()
    assert _fingerprint(db) == before


@pytest.fixture
def stored(db, world, seeded):
    """Control characters written straight into the database, as data from before this rule: a risk's and an issue's
    title, a saved report's name and its rows; then a status report published with them in its content."""
    from tests.register.conftest import acting
    from tracker.reports import service as reports

    db.execute(text("UPDATE risk SET title = :v"), {"v": STORED})
    db.execute(text("UPDATE issue SET title = :v, description = :v"), {"v": STORED})
    report = save(db, world, "staff", definition("risks", ["code", "title"]), "Risks", shared=True)
    db.execute(
        text("UPDATE saved_report SET name = :v WHERE id = :id"), {"v": "Risks\x01 by\x0b title", "id": report.id}
    )
    manager, access = acting(db, world, "manager")
    week = reports.period_of(access.project, reports.PeriodForm())
    published = reports.publish(db, manager, access, week, 2, None)  # a correction of this week's, holding STORED
    db.commit()
    assert json.dumps(STORED)[1:-1] in json.dumps(published.content)
    return {"report_id": report.id, "status_report_id": published.id}


def _cells(book) -> list[str]:
    return [str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]


def test_text_stored_with_control_characters_still_exports_without_them(as_user, stored):
    b = as_user("manager")
    for url in (
        "/projects/TST/risks/export?format=xlsx",
        "/projects/TST/issues/export?format=xlsx",
        "/api/v1/projects/TST/risks/export?format=xlsx",
        f"/projects/TST/saved-reports/{stored['report_id']}/export.xlsx",
        f"/projects/TST/status-reports/{stored['status_report_id']}/report.xlsx",
    ):
        r = b.get(url)
        assert r.status_code == 200, (url, r.text[:300])
        cells = _cells(load_workbook(io.BytesIO(r.content)))
        assert SHOWN in cells and not [c for c in cells if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", c)], url
    for url in (
        "/projects/TST/risks/export?format=csv",
        f"/projects/TST/saved-reports/{stored['report_id']}/export.csv",
        f"/projects/TST/status-reports/{stored['status_report_id']}/tables/top-risks.csv",
    ):
        r = b.get(url)
        assert r.status_code == 200 and SHOWN in r.content.decode("utf-8-sig"), url
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", r.content.decode("utf-8-sig")), url
        assert list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    base = f"/projects/TST/status-reports/{stored['status_report_id']}"
    docx = b.get(f"{base}/report.docx")
    assert docx.status_code == 200
    assert SHOWN in "\n".join(
        c.text for t in Document(io.BytesIO(docx.content)).tables for row in t.rows for c in row.cells
    )
    pdf = b.get(f"{base}/report.pdf")
    assert pdf.status_code == 200
    assert SHOWN in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).replace("\n", "")


def test_export_helpers_strip_control_characters_but_keep_tabs_and_line_breaks():
    from tracker.core import exports

    body = exports.to_csv(["Title"], [["a\x01b\tc\nd"], [date(2026, 3, 11)]]).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(body))) == [["Title"], ["ab\tc\nd"], ["2026-03-11"]]
    sheet = load_workbook(io.BytesIO(exports.to_xlsx(["Title\x02"], [["a\x01b\tc\nd"]], title="A\x03B"))).active
    assert sheet.title == "AB" and [[c.value for c in row] for row in sheet.iter_rows()] == [["Title"], ["ab\tc\nd"]]


def test_a_nul_that_reaches_postgresql_some_other_way_is_named_not_called_a_number_out_of_range():
    import psycopg
    from litestar.testing import RequestFactory
    from sqlalchemy.exc import DataError

    from tracker.core.errors import handle_exception

    refused = DataError("INSERT …", {}, psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"))
    r = handle_exception(RequestFactory().get("/api/v1/projects"), refused)
    assert r.status_code == 400 and "NUL character" in r.content["detail"] and "number" not in r.content["detail"]
