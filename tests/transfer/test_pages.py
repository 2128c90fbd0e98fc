"""Import and export pages: upload → map → preview → import, refusals, downloads with the list's filters, and
the same through the JSON API."""

from __future__ import annotations

import io
import json
import re

import pytest
from openpyxl import load_workbook
from sqlmodel import func, select

from tests.register.conftest import make_risk
from tracker.audit.models import AuditEvent
from tracker.core.spreadsheet import read_table
from tracker.register.risks.models import Risk

SHEET = (
    b"Ref,Risk Title,Likelihood,Consequence,Risk Owner,Notes\n"
    b"R-050,Vendor <script>alert(1)</script> late,Likely,Major,staff,keep\n"
    b"R-051,=1+2 budget,2,3,Viewer Person,\n"
)
BAD = SHEET + b"R-052,,9,9,nobody,\n"


@pytest.fixture
def store(app, tmp_path):
    app.state.settings = app.state.settings.model_copy(update={"upload_dir": tmp_path / "up", "max_upload_mb": 1})


def _upload(b, body=SHEET, name="register.csv", kind="risks"):
    return b.post(f"/projects/TST/{kind}/import", files={"file": (name, body, "text/csv")})


def _mapping(html: str) -> dict[str, str]:
    """The mapping form's choice for each column ("" = not imported)."""
    out = {}
    for block in html.split('<select id="')[1:]:
        chosen = re.search(r'<option value="([a-z_]*)" selected', block.split("</select>")[0])
        out[block.split('"', 1)[0]] = chosen.group(1) if chosen else ""
    return out


def test_a_register_is_uploaded_mapped_previewed_and_imported(as_user, store, db, world):
    staff = as_user("staff")
    page = staff.get("/projects/TST/risks/import")
    assert page.status_code == 200 and "Columns the import reads" in page.text and "Likelihood" in page.text
    r = _upload(staff)
    assert r.status_code == 303
    mapping_url = r.headers["location"]
    page = staff.get(mapping_url).text
    assert "2 rows below the headers" in page
    mapping = _mapping(page)
    assert mapping == {
        "column-0": "code",
        "column-1": "title",
        "column-2": "probability",
        "column-3": "impact",
        "column-4": "owner",
        "column-5": "",
    }
    # A required field left unmapped: the mapping comes back with the message, the choices kept.
    r = staff.get(f"{mapping_url}/preview", params=mapping | {"column-2": ""})
    assert r.status_code == 422 and "Choose the column that holds the Probability." in r.text
    assert _mapping(r.text) == mapping | {"column-2": ""}
    preview = staff.get(f"{mapping_url}/preview", params=mapping)
    assert preview.status_code == 200 and "2 new, 0 to update, 0 unchanged" in preview.text
    assert "Vendor &lt;script&gt;alert(1)&lt;/script&gt; late" in preview.text and "<script>alert" not in preview.text
    assert db.exec(select(Risk)).all() == []  # a preview writes nothing
    seen = re.search(r'name="seen" value="([^"]+)"', preview.text).group(1).replace("&#34;", '"')
    r = staff.post(mapping_url, mapping | {"seen": seen})
    assert r.status_code == 200 and "Imported from register.csv: 2 created, 0 updated." in r.text
    db.expire_all()
    risks = db.exec(select(Risk).order_by(Risk.code)).all()
    assert [(x.code, x.title, x.probability, x.impact, x.owner_id) for x in risks] == [
        ("R-050", "Vendor <script>alert(1)</script> late", 4, 4, world.ids["staff"]),
        ("R-051", "=1+2 budget", 2, 3, world.ids["viewer"]),
    ]
    assert f'href="/projects/TST/risks/{risks[0].id}" class="mono">R-050</a>' in r.text
    assert db.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "import_risks")).one() == 1
    # Importing the same file again changes nothing; the preview says so.
    again = staff.get(f"{mapping_url}/preview", params=mapping).text
    assert "0 new, 0 to update, 2 unchanged" in again and "there is nothing to import" in again


def test_rows_with_errors_block_the_import_unless_only_the_valid_ones_are_chosen(as_user, store, db):
    staff = as_user("staff")
    url = _upload(staff, BAD).headers["location"]
    mapping = _mapping(staff.get(url).text)
    preview = staff.get(f"{url}/preview", params=mapping).text
    assert "Row 4, Probability: Choose a value from 1 to 5." in preview
    assert "Row 4, Title: Title is required." in preview
    assert "Import only the 2 valid rows" in preview and ">Import 3 rows<" not in preview
    r = staff.post(url, mapping | {"seen": "{}"})
    assert r.status_code == 422 and "1 row(s) have errors; nothing was imported." in r.text
    assert db.exec(select(Risk)).all() == []
    r = staff.post(url, mapping | {"seen": "{}", "only_valid": "true"})
    assert r.status_code == 200 and "1 row with errors left out" in r.text
    assert [x.code for x in db.exec(select(Risk).order_by(Risk.code))] == ["R-050", "R-051"]


def test_a_stale_preview_is_refused_with_409(as_user, store, db, world):
    make_risk(db, world, code="R-050", title="Old title")
    db.commit()
    staff = as_user("staff")
    url = _upload(staff).headers["location"]
    mapping = _mapping(staff.get(url).text)
    r = staff.post(url, mapping | {"seen": json.dumps({"R-050": 0, "R-051": 0})})
    assert r.status_code == 409 and "R-050 was changed after the preview" in r.text
    assert db.exec(select(func.count()).select_from(Risk)).one() == 1
    assert staff.post(url, mapping | {"seen": "not json"}).status_code == 422


def test_bad_and_oversized_files_get_a_clear_message(as_user, store):
    staff = as_user("staff")
    r = _upload(staff, b"%PDF-1.4", "register.pdf")
    assert r.status_code == 422 and "Upload the register as an Excel workbook (.xlsx) or a CSV file." in r.text
    r = _upload(staff, b"PK\x03\x04 broken", "register.xlsx")
    assert r.status_code == 422 and "not a readable Excel workbook" in r.text
    r = _upload(staff, b"x" * (1024 * 1024 + 1))
    assert r.status_code == 413 and "at most 1 MB" in r.text and 'aria-invalid="true"' in r.text
    assert staff.post("/projects/TST/risks/import", {}).status_code == 422
    rows = "Title,Probability,Impact\n" + "x,1,1\n" * 5001
    r = _upload(staff, rows.encode())
    assert r.status_code == 422 and "At most 5,000 rows per import" in r.text


def test_an_upload_is_only_usable_by_whoever_uploaded_it_for_that_register(as_user, store):
    staff, manager = as_user("staff"), as_user("manager")
    url = _upload(staff).headers["location"]
    assert manager.get(url).status_code == 404
    assert staff.get(url.replace("/risks/", "/issues/")).status_code == 404
    assert staff.get("/projects/TST/risks/import/" + "0" * 64).status_code == 404
    assert staff.get("/projects/TST/risks/import/../../etc").status_code == 404


def test_the_list_exports_exactly_its_filters_in_a_fixed_number_of_queries(as_user, db, world, count_queries):
    for n in range(10):
        make_risk(db, world, title=f"Risk {n}", probability=str(1 + n % 5), impact="5")
    db.commit()
    viewer = as_user("viewer")
    page = viewer.get("/projects/TST/risks?level=critical&sort=code").text
    assert 'href="/projects/TST/risks/export?level=critical&amp;sort=code&amp;format=xlsx"' in page
    r = viewer.get("/projects/TST/risks/export?level=critical&sort=code&format=xlsx")
    assert r.status_code == 200 and r.headers["content-disposition"].startswith('attachment; filename="TST-risks-')
    sheet = read_table("x.xlsx", r.content)
    assert [cells[0] for _, cells in sheet.rows] == ["R-004", "R-005", "R-009", "R-010"]
    with count_queries() as small:
        assert viewer.get("/projects/TST/risks/export?format=csv").status_code == 200
    for n in range(40):
        make_risk(db, world, title=f"More {n}")
    db.commit()
    with count_queries() as big:
        body = viewer.get("/projects/TST/risks/export?format=csv").content
    assert big.count == small.count <= 8 and len(read_table("x.csv", body).rows) == 50
    with count_queries() as issues:
        assert viewer.get("/projects/TST/issues/export?format=xlsx&status=unresolved").status_code == 200
    assert issues.count <= 9
    assert viewer.get("/projects/TST/risks/export?format=pdf").status_code == 422
    assert load_workbook(io.BytesIO(r.content)).active.title == "TST risks"


def test_the_api_previews_refuses_and_imports(as_user, store, db, world):
    staff = as_user("staff")

    def post(body, **data):
        return staff.api(
            "POST", "/api/v1/projects/TST/risks/import", data=data, files={"file": ("r.csv", body, "text/csv")}
        )

    r = post(BAD, dry_run="true")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["counts"] == {"create": 2, "update": 0, "unchanged": 0, "invalid": 1} and not out["imported"]
    assert out["columns"] == {
        "Ref": "code",
        "Risk Title": "title",
        "Likelihood": "probability",
        "Consequence": "impact",
        "Risk Owner": "owner",
        "Notes": None,
    }
    assert out["rows"][2]["row"] == 4 and out["rows"][2]["errors"]["Probability"] == "Choose a value from 1 to 5."
    r = post(BAD)
    assert r.status_code == 422 and r.json()["detail"] == "1 row(s) have errors; nothing was imported."
    assert r.json()["extra"]["rows"][2]["action"] == "invalid"
    assert db.exec(select(Risk)).all() == []
    r = post(BAD, only_valid="true", mapping=json.dumps({"Notes": "trigger", "Ref": None}))
    assert r.status_code == 200 and r.json()["imported"] and r.json()["columns"]["Notes"] == "trigger"
    assert [(x["code"], x["action"]) for x in r.json()["rows"]] == [
        ("R-001", "create"),
        ("R-002", "create"),
        ("", "invalid"),
    ]
    db.expire_all()
    assert [(x.trigger, x.owner_id) for x in db.exec(select(Risk).order_by(Risk.code))] == [
        ("keep", world.ids["staff"]),
        ("", world.ids["viewer"]),
    ]
    assert post(SHEET, mapping="[1]").status_code == 422
    r = post(SHEET, mapping=json.dumps({"Nope": "title"}))
    assert r.status_code == 422 and r.json()["extra"] == {"mapping": "The file has no column “Nope”."}
    assert post(b"x" * (1024 * 1024 + 1)).status_code == 413
    r = staff.api("GET", "/api/v1/projects/TST/risks/export?format=csv&sort=code")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert [c[0] for _, c in read_table("r.csv", r.content).rows] == ["R-001", "R-002"]


@pytest.mark.parametrize("persona, code", [("viewer", 403), ("contractor", 403), ("outsider", 404)])
def test_only_managers_and_staff_import_and_contractors_cannot_export(as_user, store, persona, code, db):
    b = as_user(persona)
    assert _upload(b).status_code == code
    r = b.api("POST", "/api/v1/projects/TST/issues/import", files={"file": ("r.csv", SHEET, "text/csv")})
    assert r.status_code == code
    export = b.get("/projects/TST/issues/export?format=csv").status_code
    assert export == (200 if persona == "viewer" else code)
    assert "/risks/import" not in b.get("/projects/TST/risks").text


def test_a_mapping_field_sent_twice_or_naming_another_registers_column_is_named_not_a_crash(as_user, store):
    staff = as_user("staff")
    mapping_url = _upload(staff).headers["location"]
    twice = staff.post(mapping_url, {"column-0": ["code", "title"], "column-1": "title", "seen": "{}"})
    assert twice.status_code == 422 and "Choose a field from the list." in twice.text
    other = staff.post(mapping_url, {"column-0": "cost_impact", "column-1": "title", "seen": "{}"})
    assert other.status_code == 422 and "Choose a field from the list." in other.text
