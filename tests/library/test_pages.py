"""Library pages: listing and search, the builder as plain POSTs and htmx swaps, errors beside fields with input
kept, stale edits, the report page with SQL paging, exports equal to the table, and fixed query counts."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from tests.conftest import tst_today
from tests.library.conftest import definition, save
from tracker.accounts.models import User
from tracker.audit.models import AuditEvent
from tracker.library.models import SavedReport
from tracker.library.sources import RISK_FIELDS
from tracker.projects.models import Project
from tracker.register.actions.models import ActionItem
from tracker.register.risks.models import Risk

URL = "/projects/TST/saved-reports"
BASE_FORM = {
    "source": "risks",
    "previous_source": "risks",
    "columns": ["code", "title"],
    "order.code": "1",
    "order.title": "2",
    "page_size": "25",
}


def _cells(page: str) -> list[list[str]]:
    """The rows of the result table as text."""
    body = re.search(r'<table class="dense report-result">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
        for r in rows
    ]


def _checked(page: str) -> list[str]:
    """The columns ticked in the builder, in their order."""
    return re.findall(r'name="columns" value="([^"]+)"[^>]* checked', page)


def _risks(db, n: int, start: int = 0) -> None:
    project_id = db.exec(select(Project.id).where(Project.key == "TST")).one()
    today = tst_today()
    for i in range(start, start + n):
        risk = Risk(
            project_id=project_id,
            code=f"R-{i:04d}",
            title=f"Risk {i}",
            probability=i % 5 + 1,
            impact=(i // 5) % 5 + 1,
            raised_on=today - timedelta(days=i),
            owner_id=None,
        )
        db.add(risk)
        db.flush()
        db.add(
            ActionItem(
                project_id=project_id,
                risk_id=risk.id,
                plan="mitigation",
                description=f"Act on {i}",
                due_date=today - timedelta(days=i % 3),
            )
        )
    db.commit()


def test_the_project_header_links_to_the_library_and_it_lists_and_searches(as_user, db, world):
    save(
        db,
        world,
        "staff",
        definition("risks", ["code"]),
        "Open risks for the board",
        shared=True,
        description="Steering committee pack",
    )
    save(db, world, "manager", definition("deliverables", ["code"]), "Deliverables late", shared=True)
    save(db, world, "staff", definition("issues", ["code"]), "My scratch issues")
    db.commit()
    staff = as_user("staff")
    assert f'href="{URL}/"' in staff.get("/projects/TST").text
    page = staff.get(f"{URL}/").text
    assert "Deliverables late" in page and "My scratch issues" in page and "New report" in page
    found = staff.get(f"{URL}/?q=steering", headers={"HX-Request": "true"}).text
    assert found.startswith('<div id="report-list">') and "Open risks for the board" in found
    assert "Deliverables late" not in found
    assert "My scratch issues" not in staff.get(f"{URL}/?whose=shared").text
    assert "Open risks" not in staff.get(f"{URL}/?source=deliverables").text
    contractor = as_user("contractor").get(f"{URL}/").text
    assert "Deliverables late" in contractor and "Open risks" not in contractor and "New report" not in contractor


def test_the_builder_works_without_javascript(as_user, db, world):
    staff = as_user("staff")
    page = staff.get(f"{URL}/new?source=risks")
    assert page.status_code == 200 and _checked(page.text) == [
        "code",
        "title",
        "score",
        "level",
        "owner",
        "status",
        "next_review_date",
    ]
    added = staff.post(f"{URL}/", BASE_FORM | {"action": "add_filter", "name": "Kept"})
    assert added.status_code == 200 and 'name="filters.0.field"' in added.text and 'value="Kept"' in added.text
    chosen = staff.post(f"{URL}/", BASE_FORM | {"action": "refresh", "filters.0.field": "level"})
    assert '<option value="in" selected>is one of</option>' in chosen.text  # the level's operators, first chosen
    assert 'name="filters.0.value" multiple' in chosen.text
    removed = staff.post(
        f"{URL}/", BASE_FORM | {"action": "remove:0", "filters.0.field": "level", "filters.0.op": "in"}
    )
    assert 'name="filters.0.field"' not in removed.text
    switched = staff.post(f"{URL}/", BASE_FORM | {"action": "refresh", "source": "issues", "name": "Kept"})
    assert _checked(switched.text) == ["code", "title", "priority", "status", "owner", "need_by", "age"]
    assert 'value="Kept"' in switched.text and 'value="score"' not in switched.text
    reordered = staff.post(
        f"{URL}/", BASE_FORM | {"action": "refresh", "order.code": "3", "columns": ["code", "title", "level"]}
    )
    assert _checked(reordered.text) == ["title", "code", "level"]


def test_preview_shows_the_first_rows_and_saving_goes_to_the_report(as_user, db, world):
    _risks(db, 12)
    staff = as_user("staff")
    form = BASE_FORM | {
        "filters.0.field": "probability",
        "filters.0.op": "gte",
        "filters.0.value": "4",
        "sort.0.field": "code",
        "sort.0.dir": "desc",
        "name": "Likely risks",
        "shared": ["false", "true"],
    }
    preview = staff.post(f"{URL}/", form | {"action": "preview"})
    assert preview.status_code == 200 and "First 4 of 4 rows" in preview.text
    assert [r[0] for r in _cells(preview.text)] == ["R-0009", "R-0008", "R-0004", "R-0003"]
    live = staff.post(f"{URL}/preview", form, htmx=True)
    assert live.text.startswith('<section id="preview"') and "First 4 of 4 rows" in live.text
    saved = staff.post(f"{URL}/", form | {"action": "save"})
    assert saved.status_code == 303
    report = db.exec(select(SavedReport).where(SavedReport.name == "Likely risks")).one()
    assert saved.headers["location"] == f"{URL}/{report.id}" and report.shared
    assert report.definition["filters"] == [{"field": "probability", "op": "gte", "value": 4}]
    assert report.definition["sort"] == [{"field": "code", "desc": True}]
    page = staff.get(saved.headers["location"]).text
    assert "Probability is at least 4" in page and [r[0] for r in _cells(page)] == [
        "R-0009",
        "R-0008",
        "R-0004",
        "R-0003",
    ]


def test_htmx_swaps_only_the_builder_form(as_user):
    r = as_user("manager").post(f"{URL}/", BASE_FORM | {"action": "add_filter"}, htmx=True)
    assert r.status_code == 200 and r.text.startswith('<form id="builder"') and "<html" not in r.text


def test_a_bad_definition_comes_back_with_messages_beside_its_fields_and_the_input_kept(as_user, db):
    form = BASE_FORM | {
        "name": "",
        "description": "Kept description",
        "columns": ["code", "nope"],
        "filters.0.field": "raised_on",
        "filters.0.op": "before",
        "filters.0.value": "last tuesday",
        "filters.1.field": "status",
        "filters.1.op": "in",
        "filters.1.value": ["open", "bogus"],
        "filters.2.field": "title",
        "filters.2.op": "contains",
        "filters.2.value": "'; DROP TABLE risk; --",
        "action": "save",
    }
    r = as_user("staff").post(f"{URL}/", form)
    assert r.status_code == 422
    assert 'id="f-name-error"' in r.text and "Kept description" in r.text
    assert re.search(r'id="f-filters.0.value-error" class="field-error">Enter a date as YYYY-MM-DD', r.text)
    assert 'id="f-filters.1.value-error"' in r.text and "Choose from: Open" in r.text
    assert "Risks have no column &#39;nope&#39;" in r.text
    assert 'value="last tuesday"' in r.text and 'value="&#39;; DROP TABLE risk; --"' in r.text
    assert db.exec(select(SavedReport)).first() is None


def test_sql_looking_text_is_saved_as_written_and_matched_literally(as_user, db, world):
    hostile = "'; DROP TABLE risk; --"
    _risks(db, 3)
    r = as_user("staff").post(
        f"{URL}/",
        BASE_FORM
        | {"name": "Hostile", "filters.0.field": "title", "filters.0.op": "contains", "filters.0.value": hostile},
    )
    assert r.status_code == 303
    report = db.exec(select(SavedReport)).one()
    assert report.definition["filters"][0]["value"] == hostile
    page = as_user("staff").get(r.headers["location"])
    assert page.status_code == 200 and "0 rows" in page.text
    assert len(db.exec(select(Risk)).all()) == 3


def test_editing_keeps_the_report_and_a_stale_edit_is_409_with_input_kept(as_user, db, world):
    report = save(db, world, "staff", definition("risks", ["code"]), "Mine", shared=True)
    db.commit()
    form = BASE_FORM | {"name": "Staff's name", "version": "1", "shared": ["false", "true"]}
    theirs = form | {"name": "Manager's name", "columns": ["code", "title", "score"]}
    assert as_user("manager").post(f"{URL}/{report.id}/edit", theirs).status_code == 303
    r = as_user("staff").post(f"{URL}/{report.id}/edit", form)
    assert r.status_code == 409 and "Name: now <q>Manager&#39;s name</q>" in r.text
    assert "Definition: now <q>other columns, filters or sort</q>" in r.text
    assert 'value="Staff&#39;s name"' in r.text and 'name="version" value="2"' in r.text
    assert as_user("staff").post(f"{URL}/{report.id}/edit", form | {"version": "2"}).status_code == 303
    db.expire_all()
    assert db.get(SavedReport, report.id).name == "Staff's name"


def test_deleting_a_report_changed_since_the_page_was_read_is_refused(as_user, db, world):
    report = save(db, world, "staff", definition("risks", ["code"]), "Shared", shared=True)
    db.commit()
    rid = report.id
    staff, manager = as_user("staff"), as_user("manager")
    page = manager.get(f"{URL}/{rid}").text
    assert 'name="version" value="1"' in page
    report.name = "Renamed by its owner"  # the owner saves a change meanwhile
    db.commit()
    r = manager.post(f"{URL}/{rid}/delete", {"version": "1"})
    assert r.status_code == 409 and "was changed after you loaded it, so it was not deleted" in r.text
    assert "Renamed by its owner" in r.text and 'name="version" value="2"' in r.text  # the page as it is now
    assert staff.post(f"{URL}/{rid}/delete", {}).status_code == 400
    db.expire_all()
    assert db.get(SavedReport, rid).name == "Renamed by its owner"
    r = manager.post(f"{URL}/{rid}/delete", {"version": "2"})
    assert r.status_code == 303 and r.headers["location"] == f"{URL}/"
    db.expire_all()
    assert db.get(SavedReport, rid) is None


def test_who_may_edit_duplicate_and_delete(as_user, db, world):
    private = save(db, world, "staff", definition("risks", ["code"]), "Private")
    shared = save(db, world, "staff", definition("risks", ["code"]), "Shared", shared=True)
    db.commit()
    viewer, manager, staff = as_user("viewer"), as_user("manager"), as_user("staff")
    assert viewer.get(f"{URL}/{shared.id}").status_code == 200
    assert "Edit" not in re.findall(r'role="button"[^>]*>([^<]+)<', viewer.get(f"{URL}/{shared.id}").text)
    assert viewer.get(f"{URL}/{shared.id}/edit").status_code == 403
    assert viewer.post(f"{URL}/{shared.id}/duplicate").status_code == 403
    assert viewer.post(f"{URL}/{shared.id}/delete", {"version": "1"}).status_code == 403
    assert manager.get(f"{URL}/{private.id}").status_code == 404
    assert manager.post(f"{URL}/{private.id}/delete", {"version": "1"}).status_code == 404
    copy = manager.post(f"{URL}/{shared.id}/duplicate")
    assert copy.status_code == 303 and copy.headers["location"].endswith("/edit")
    assert manager.post(f"{URL}/{shared.id}/delete", {"version": "1"}).status_code == 303
    assert staff.post(f"{URL}/{private.id}/delete", {"version": "1"}).status_code == 303
    db.expire_all()
    assert [r.name for r in db.exec(select(SavedReport))] == ["Copy of Shared"]
    actions = db.exec(
        select(AuditEvent.action).where(AuditEvent.entity_type == "saved_report").order_by(AuditEvent.id)
    ).all()
    assert actions == ["create", "create", "create", "delete", "delete"]


def test_the_report_pages_in_sql_and_exports_every_row_as_the_table_shows_it(as_user, db, world):
    _risks(db, 30)
    report = save(
        db,
        world,
        "staff",
        definition(
            "risks",
            ["code", "title", "score", "level", "raised_on", "overdue_actions", "due_for_review"],
            sort=[("code", False)],
            page_size=10,
        ),
        "All",
        shared=True,
    )
    db.commit()
    viewer = as_user("viewer")
    pages = [_cells(viewer.get(f"{URL}/{report.id}?page={n}").text) for n in (1, 2, 3)]
    assert [len(p) for p in pages] == [10, 10, 10]
    assert "Page 2 of 3" in viewer.get(f"{URL}/{report.id}?page=2").text
    table = [row for page in pages for row in page]
    assert [r[0] for r in table] == [f"R-{i:04d}" for i in range(30)]
    exported = list(csv.reader(io.StringIO(viewer.get(f"{URL}/{report.id}/export.csv").content.decode("utf-8-sig"))))
    assert exported[0] == ["Code", "Title", "Score", "Level", "Raised on", "Overdue actions", "Due for review"]
    # The same rows; a day reads in the viewer's date format on the page, in ISO in the CSV.
    assert [r[:4] + [f"{date.fromisoformat(r[4]):%-d %b %Y}"] + r[5:] for r in exported[1:]] == table
    xlsx = viewer.get(f"{URL}/{report.id}/export.xlsx")
    assert xlsx.headers["content-disposition"] == 'attachment; filename="TST-All.xlsx"'
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.title == "All" and sheet["A1"].value == "All"  # the report's name, then the table
    assert [c.value for c in sheet[2]] == exported[0]
    assert [[_as_text(v) for v in row] for row in sheet.iter_rows(min_row=3, values_only=True)] == exported[1:]
    assert sheet["E3"].is_date and sheet.freeze_panes == "A3" and sheet.auto_filter.ref.startswith("A2:G")
    filters = dict(load_workbook(io.BytesIO(xlsx.content))["Filters"].iter_rows(min_row=2, values_only=True))
    assert filters["Report"] == "All" and filters["Project"].startswith("TST")


def _as_text(v: object) -> str:
    """A typed cell as the CSV writes it: dates ISO."""
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == datetime.min.time() else v.strftime("%Y-%m-%d %H:%M")
    return "" if v is None else str(v)


UPDATED = datetime(2025, 7, 1, 23, 30, tzinfo=UTC)  # 16:30 on 1 July in Los Angeles (TST), 00:30 on 2 July in London


def test_times_in_a_report_read_in_the_readers_zone_on_the_page_and_in_exports_named_in_the_header(as_user, db, world):
    _risks(db, 1)
    db.exec(select(Risk)).one().updated_at = UPDATED
    db.get(User, world.ids["viewer"]).timezone = "Europe/London"
    db.get(User, world.ids["viewer"]).date_format = "mon_d_y"
    report = save(db, world, "staff", definition("risks", ["updated_at", "code"]), "Touched", shared=True)
    db.commit()
    viewer = as_user("viewer")
    page = viewer.get(f"{URL}/{report.id}").text
    assert _cells(page) == [["Jul 2, 2025 00:30 BST", "R-0000"]]
    assert '<time datetime="2025-07-02T00:30:00+01:00">' in page
    assert re.search(r'<td><a href="/projects/TST/risks/\d+"><time ', page)  # a moment first still links the row
    exported = list(csv.reader(io.StringIO(viewer.get(f"{URL}/{report.id}/export.csv").content.decode("utf-8-sig"))))
    assert exported == [["Updated (Europe/London)", "Code"], ["2025-07-02 00:30", "R-0000"]]
    book = load_workbook(io.BytesIO(viewer.get(f"{URL}/{report.id}/export.xlsx").content))
    sheet = book.active
    assert [c.value for c in sheet[2]] == ["Updated (Europe/London)", "Code"]
    cell = sheet["A3"]  # a datetime cell, the reader's wall clock, not text
    assert cell.value == datetime(2025, 7, 2, 0, 30) and cell.is_date and cell.number_format == "yyyy-mm-dd hh:mm"
    assert dict(book["Filters"].iter_rows(min_row=2, values_only=True))["Times in"] == "Europe/London"
    run = viewer.get(f"/api/v1/saved-reports/{report.id}/run").json()
    assert run["rows"] == [["2025-07-02T00:30:00+01:00", "R-0000"]]


def test_a_reader_who_chose_no_zone_reads_a_reports_times_in_the_projects(as_user, db, world):
    _risks(db, 1)
    db.exec(select(Risk)).one().updated_at = UPDATED
    report = save(db, world, "staff", definition("risks", ["code", "updated_at"]), "Touched", shared=True)
    db.commit()
    staff = as_user("staff")
    assert _cells(staff.get(f"{URL}/{report.id}").text) == [["R-0000", "1 Jul 2025 16:30 PDT"]]
    exported = list(csv.reader(io.StringIO(staff.get(f"{URL}/{report.id}/export.csv").content.decode("utf-8-sig"))))
    assert exported == [["Code", "Updated (America/Los_Angeles)"], ["R-0000", "2025-07-01 16:30"]]
    sheet = load_workbook(io.BytesIO(staff.get(f"{URL}/{report.id}/export.xlsx").content)).active
    assert sheet["B2"].value == "Updated (America/Los_Angeles)" and sheet["B3"].value == datetime(2025, 7, 1, 16, 30)


@pytest.mark.parametrize(
    "name", ["Risks: Q1/Q2 [draft] *really*? \\ see", "Open risks of every contractor workstream, by score", "[]:*?/\\"]
)
def test_a_report_named_what_no_sheet_may_be_called_exports_with_its_whole_name_in_the_sheet(as_user, db, world, name):
    _risks(db, 2)
    report = save(db, world, "staff", definition("risks", ["code", "title"], sort=[("code", False)]), name, shared=True)
    db.commit()
    r = as_user("viewer").get(f"{URL}/{report.id}/export.xlsx")
    assert r.status_code == 200, r.text[:300]
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert 0 < len(sheet.title) <= 31 and not set(sheet.title) & set("/\\?*:[]"), sheet.title
    assert sheet["A1"].value == name
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=2)] == [
        ["Code", "Title"],
        ["R-0000", "Risk 0"],
        ["R-0001", "Risk 1"],
    ]


def test_a_run_and_an_export_take_the_same_queries_for_10_and_500_rows(as_user, db, world, count_queries):
    _risks(db, 10)
    report = save(db, world, "staff", definition("risks", list(RISK_FIELDS), page_size=200), "All", shared=True)
    db.commit()
    viewer, counts = as_user("viewer"), {}
    urls = (f"{URL}/{report.id}", f"{URL}/{report.id}/export.csv", f"/api/v1/saved-reports/{report.id}/run", f"{URL}/")
    for url in urls:
        with count_queries() as c:
            assert viewer.get(url).status_code == 200
        counts[url] = c.count
    _risks(db, 490, start=10)
    for url in urls:
        with count_queries() as c:
            r = viewer.get(url)
        assert c.count == counts[url], (url, counts[url], c.count)
    assert len(_cells(viewer.get(f"{URL}/{report.id}").text)) == 200
    for n in range(60):  # the library lists them in one query however many there are
        save(db, world, ("staff", "manager")[n % 2], definition("issues", ["code"]), f"Report {n}", shared=n % 3 > 0)
    db.commit()
    with count_queries() as c:
        assert "Report 59" in viewer.get(f"{URL}/").text
    assert c.count == counts[f"{URL}/"]
    assert len(viewer.get(f"{URL}/{report.id}/export.csv").content.decode("utf-8-sig").splitlines()) == 501
    assert r.status_code == 200


def test_a_report_whose_definition_went_stale_says_so_instead_of_failing(as_user, db, world):
    report = save(db, world, "staff", definition("risks", ["code"]), "Old", shared=True)
    report.definition = {
        **report.definition,
        "columns": ["code", "retired"],
        "filters": [{"field": "gone", "op": "equals", "value": 1}],
    }
    db.commit()
    page = as_user("viewer").get(f"{URL}/{report.id}")
    assert page.status_code == 200 and "can no longer run" in page.text and "no column &#39;retired&#39;" in page.text
    assert "Ask its owner" in page.text and "Export CSV" not in page.text
    assert as_user("viewer").get(f"{URL}/{report.id}/export.csv").status_code == 422
    edit = as_user("staff").get(f"{URL}/{report.id}/edit")
    assert (
        edit.status_code == 200
        and 'id="f-filters.0.field-error"' in edit.text
        and "retired (no longer available)" in edit.text
    )
    api = as_user("viewer").api("GET", f"/api/v1/saved-reports/{report.id}/run")
    assert api.status_code == 409 and "retired" in api.json()["extra"]["columns"]


def test_contractors_and_viewers_do_not_build(as_user):
    for persona in ("contractor", "viewer"):
        b = as_user(persona)
        assert b.get(f"{URL}/new").status_code == 403
        assert b.post(f"{URL}/", BASE_FORM | {"name": "x"}).status_code == 403
        assert b.post(f"{URL}/preview", BASE_FORM).status_code == 403


@pytest.mark.parametrize("persona", ["contractor", "outsider"])
def test_a_shared_risk_report_is_not_for_those_who_may_not_see_risks(as_user, db, world, persona):
    report = save(db, world, "staff", definition("risks", ["code"]), "Risks", shared=True)
    db.commit()
    expected = 403 if persona == "contractor" else 404
    b = as_user(persona)
    for suffix in ("", "/export.csv", "/export.xlsx"):
        assert b.get(f"{URL}/{report.id}{suffix}").status_code == expected
