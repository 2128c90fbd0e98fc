"""Deliverable pages: the list (filters in the URL, htmx swap, fixed query count) and the record page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.conftest import tst_today
from tests.deliverables.test_api import PLAN, _plan
from tracker.deliverables.models import Deliverable, ReviewAssignment


@pytest.mark.parametrize("role", ["manager", "staff", "contractor", "viewer", "admin"])
def test_every_member_reads_the_list_and_the_record(as_user, uploads, role):
    d = _plan(as_user)
    b = as_user(role)
    page = b.get("/projects/TST/deliverables")
    assert page.status_code == 200 and "Project Management Plan" in page.text
    record = b.get(f"/projects/TST/deliverables/{d['id']}")
    assert record.status_code == 200 and "Schedule baseline included" in record.text
    assert ("Timeline" in record.text) == (role != "contractor")


def test_outsiders_get_404(as_user, uploads):
    d = _plan(as_user)
    b = as_user("outsider")
    assert b.get("/projects/TST/deliverables").status_code == 404
    assert b.get(f"/projects/TST/deliverables/{d['id']}").status_code == 404
    assert as_user("manager").get("/projects/TST/deliverables/999999").status_code == 404


def test_filters_live_in_the_url_and_htmx_swaps_only_the_table(as_user, uploads, db, world):
    _plan(as_user)
    manager = as_user("manager")
    manager.api(
        "POST",
        "/api/v1/projects/TST/deliverables",
        json=PLAN | {"code": "D-02", "title": "Data Conversion Plan", "type": "data_conversion"},
    )
    r = manager.get("/projects/TST/deliverables?type=data_conversion&sort=-code", headers={"HX-Request": "true"})
    assert r.text.lstrip().startswith('<div id="deliverable-table">')
    assert "Data Conversion Plan" in r.text and "Project Management Plan" not in r.text
    assert manager.get("/projects/TST/deliverables?status=bogus").status_code == 422
    assert manager.get("/projects/TST/deliverables?q=conversion").text.count("D-02") >= 1


def test_overdue_filter_uses_the_running_clock(as_user, uploads, db, world):
    _plan(as_user)  # due in 30 days
    d = db.exec(select(Deliverable)).one()
    d.due_date = tst_today() - timedelta(days=3)
    db.commit()
    page = as_user("manager").get("/projects/TST/deliverables?overdue=true")
    assert "3 overdue" in page.text


def test_list_runs_the_same_number_of_queries_for_10_and_500_deliverables(as_user, uploads, db, world, count_queries):
    from tracker.projects.models import Project

    project_id = db.exec(select(Project.id).where(Project.key == "TST")).one()
    db.add_all(Deliverable(project_id=project_id, code=f"D-{i:03d}", title=f"Deliverable {i}") for i in range(10))
    db.commit()
    manager = as_user("manager")
    with count_queries() as few:
        assert manager.get("/projects/TST/deliverables").status_code == 200
    with count_queries() as few_api:
        assert manager.api("GET", "/api/v1/projects/TST/deliverables?limit=500").status_code == 200
    db.add_all(Deliverable(project_id=project_id, code=f"E-{i:03d}", title=f"More {i}") for i in range(490))
    db.commit()
    with count_queries() as many:
        page = manager.get("/projects/TST/deliverables?page=3")
    assert "Page 3 of 20" in page.text
    assert many.count == few.count
    with count_queries() as many_api:
        assert len(manager.api("GET", "/api/v1/projects/TST/deliverables?limit=500").json()["items"]) == 500
    assert many_api.count == few_api.count


def test_my_work_lists_assigned_reviews_with_their_clock_and_comments_to_answer(as_user, uploads, db, world):
    d = _plan(as_user)
    contractor, staff = as_user("contractor"), as_user("staff")
    contractor.api("POST", f"/api/v1/deliverables/{d['id']}/submissions", files={"files": ("v1.pdf", b"pdf")})
    staff.api(
        "POST",
        f"/api/v1/deliverables/{d['id']}/transition",
        json={"action": "start_review", "reviewer_ids": [world.ids["staff"]]},
    )
    staff.api("POST", f"/api/v1/deliverables/{d['id']}/comments", json={"text": "Fix §2", "severity": "major"})
    home = staff.get("/").text
    assert "Reviews assigned to you" in home and "Project Management Plan" in home and "version 1" in home
    assert "Reviews assigned to you" not in as_user("manager").get("/").text
    from tracker.deliverables.models import ReviewAssignment

    assignment = db.exec(select(ReviewAssignment)).one()
    assignment.due_date = tst_today() - timedelta(days=2)
    db.commit()
    assert "2 days overdue" in staff.get("/").text
    contractor_home = contractor.get("/").text
    assert "Comments awaiting your response" in contractor_home and "1 comment to answer" in contractor_home


def test_comment_log_exports_to_csv_and_xlsx_without_formula_injection(as_user, uploads):
    import io

    from openpyxl import load_workbook

    d = _plan(as_user)
    as_user("contractor").api("POST", f"/api/v1/deliverables/{d['id']}/submissions", files={"files": ("a.pdf", b"a")})
    staff = as_user("staff")
    staff.api("POST", f"/api/v1/deliverables/{d['id']}/transition", json={"action": "start_review"})
    staff.api(
        "POST",
        f"/api/v1/deliverables/{d['id']}/comments",
        json={"location": "§1", "text": '=HYPERLINK("http://evil.example","x")', "severity": "major"},
    )
    csv_resp = as_user("viewer").get(f"/projects/TST/deliverables/{d['id']}/comments.csv")
    assert csv_resp.status_code == 200 and csv_resp.headers["content-disposition"].startswith("attachment")
    text = csv_resp.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Version,Comment #")
    assert "'=HYPERLINK" in text
    xlsx = as_user("contractor").get(f"/projects/TST/deliverables/{d['id']}/comments.xlsx")
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    assert ws["G1"].value == "Comment" and ws["G2"].value.startswith("'=HYPERLINK") and ws["G2"].data_type == "s"
    assert ws["D2"].value == "Staff Person" and ws["F2"].value == "major"
    assert as_user("outsider").get(f"/projects/TST/deliverables/{d['id']}/comments.csv").status_code == 404
    assert as_user("manager").get(f"/projects/TST/deliverables/{d['id']}/comments.pdf").status_code == 404


def test_my_work_lists_what_the_contractor_owes(as_user, uploads, db):
    d = _plan(as_user)
    deliverable = db.get(Deliverable, d["id"])
    deliverable.due_date = tst_today() + timedelta(days=30)
    db.commit()
    assert "Deliverables due from you" not in as_user("contractor").get("/").text  # not due for a month
    deliverable.due_date = tst_today() - timedelta(days=1)
    db.commit()
    home = as_user("contractor").get("/").text
    assert "Deliverables due from you" in home and "version 1 to submit" in home and "1 day overdue" in home
    assert "Deliverables due from you" not in as_user("staff").get("/").text


def _in_review_by_staff_and_manager(as_user, world) -> str:
    """A deliverable under review by staff and the manager; its page's address."""
    d = _plan(as_user)
    as_user("contractor").api(
        "POST", f"/api/v1/deliverables/{d['id']}/submissions", files={"files": ("v1.pdf", b"pdf")}
    )
    as_user("staff").api(
        "POST",
        f"/api/v1/deliverables/{d['id']}/transition",
        json={"action": "start_review", "reviewer_ids": [world.ids["staff"], world.ids["manager"]]},
    )
    return f"/projects/TST/deliverables/{d['id']}"


def _remove_form_version(html: str, reviewer_id: int) -> str:
    """The version the page's Remove button for that reviewer sends."""
    return re.search(rf'reviewers/{reviewer_id}/remove" [^>]*>.*?name="version" value="(\d+)"', html).group(1)


def _assignment_of(db, user_id: int) -> ReviewAssignment:
    db.expire_all()
    return db.exec(select(ReviewAssignment).where(ReviewAssignment.reviewer_id == user_id)).one()


def test_removing_a_reviewer_whose_assignment_changed_since_the_page_was_read_is_refused(as_user, uploads, db, world):
    url = _in_review_by_staff_and_manager(as_user, world)
    staff = as_user("staff")
    assert _remove_form_version(staff.get(url).text, world.ids["manager"]) == "1"
    assignment = _assignment_of(db, world.ids["manager"])
    assignment.due_date += timedelta(days=3)  # someone else changes it meanwhile
    db.commit()
    remove = f"{url}/reviewers/{world.ids['manager']}/remove"
    for htmx in (True, False):
        r = staff.post(remove, {"version": "1"}, htmx=htmx)
        assert r.status_code == 409 and "assignment changed after you loaded the page" in r.text
        assert _remove_form_version(r.text, world.ids["manager"]) == "2"  # the record as it is now, to decide again
    assert staff.post(remove, {}).status_code == 400
    assert _assignment_of(db, world.ids["manager"]).version == 2
    r = staff.post(remove, {"version": "2"})
    assert r.status_code == 303 and r.headers["location"] == f"{url}#reviews"
    db.expire_all()
    assert [a.reviewer_id for a in db.exec(select(ReviewAssignment))] == [world.ids["staff"]]


def test_api_removes_a_reviewer_only_at_the_assignment_version_read(as_user, uploads, db, world):
    url = "/api/v1" + _in_review_by_staff_and_manager(as_user, world).removeprefix("/projects/TST")
    staff = as_user("staff")
    reviewers = staff.api("GET", f"{url}/reviewers").json()
    assert {r["version"] for r in reviewers} == {1}
    assignment = _assignment_of(db, world.ids["manager"])
    assignment.due_date += timedelta(days=3)
    db.commit()
    r = staff.api("DELETE", f"{url}/reviewers/{world.ids['manager']}?version=1")
    assert r.status_code == 409 and "not removed" in r.json()["detail"]
    assert staff.api("DELETE", f"{url}/reviewers/{world.ids['manager']}").status_code == 400
    r = staff.api("DELETE", f"{url}/reviewers/{world.ids['manager']}?version=2")
    assert r.status_code == 200 and [x["reviewer_id"] for x in r.json()] == [world.ids["staff"]]


def _linked_section(html: str) -> str:
    found = re.search(r'<section id="register".*?</section>', html, re.S)
    return found.group(0) if found else ""


def test_the_record_lists_the_register_records_that_name_it_as_each_reader_may_see_them(
    as_user, uploads, db, world, count_queries
):
    d = _plan(as_user)
    staff, contractor = as_user("staff"), as_user("contractor")
    page = f"/projects/TST/deliverables/{d['id']}"
    assert _linked_section(staff.get(page).text) == ""  # nothing names it yet: no empty section
    with count_queries() as none:
        staff.get(page)
    linked = {"deliverable_ids": [d["id"]]}
    owner = {"owner_id": world.ids["staff"], "probability": 3, "impact": 4, "category": "schedule"}
    risk = staff.api("POST", "/api/v1/projects/TST/risks", json={"title": "Data slips", **owner, **linked})
    issue = staff.api("POST", "/api/v1/projects/TST/issues", json={"title": "UAT down", **linked})
    draft = staff.api("POST", "/api/v1/projects/TST/changes", json={"title": "Policy change", **linked})
    theirs = contractor.api("POST", "/api/v1/projects/TST/changes", json={"title": "Extra sprint", **linked})
    assert all(r.status_code == 201 for r in (risk, issue, draft, theirs)), [r.text for r in (risk, issue, draft)]
    with count_queries() as four:
        section = _linked_section(staff.get(page).text)
    assert four.count == none.count  # one query, however many records and kinds
    for r, code in ((risk, "R-001"), (issue, "I-001"), (draft, "CR-001"), (theirs, "CR-002")):
        assert code in section and r.json()["title"] in section
    assert "Change request" in section and "open" in section
    # The contractor does not see the State's draft request here either, nor anything its role cannot read.
    theirs_view = _linked_section(contractor.get(page).text)
    assert "CR-002" in theirs_view and "CR-001" not in theirs_view
