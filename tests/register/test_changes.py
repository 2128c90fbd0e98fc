"""Change requests: drafted, submitted, reviewed and decided by the right people; an approval moves the affected
deliverables' due dates by business days and shares its cost among their payments; the contractor sees its own
requests and the State's once submitted; every page and endpoint checks the role on the server."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from tests.deliverables.test_api import PLAN
from tracker.audit.models import AuditEvent
from tracker.core.calendar import shift_business_days
from tracker.deliverables.models import Deliverable
from tracker.register.changes.models import ChangeRequest
from tracker.register.changes.service import split

FORM = {
    "title": "Add a data migration rehearsal",
    "description": "One more rehearsal before cut-over",
    "reason": "The first rehearsal found gaps",
    "requested_by": "state",
    "cost_impact": "10,000.00",
    "schedule_impact": "5",
    "scope_impact": "A second rehearsal",
}


def _deliverables(as_user, *amounts: str | None) -> list[dict]:
    manager = as_user("manager")
    out = []
    for n, amount in enumerate(amounts, start=1):
        body = PLAN | {"code": f"D-0{n}", "payment_amount": amount}
        r = manager.api("POST", "/api/v1/projects/TST/deliverables", json=body)
        assert r.status_code == 201, r.text
        out.append(r.json())
    return out


def _move(user, change_id: int, step: str, version: int, rationale: str = ""):
    return user.api("POST", f"/api/v1/changes/{change_id}/{step}", json={"version": version, "rationale": rationale})


def test_split_shares_in_proportion_and_gives_the_cents_left_to_the_last():
    assert split(Decimal("10000.00"), [Decimal(50000), Decimal(30000)]) == [Decimal("6250.00"), Decimal("3750.00")]
    assert split(Decimal("100.00"), [Decimal(1)] * 3) == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert split(Decimal("-10.00"), [Decimal(0), Decimal(0)]) == [Decimal("-5.00"), Decimal("-5.00")]
    assert split(Decimal("5.00"), []) == []


def test_shifting_counts_business_days_both_ways_over_holidays():
    friday, monday_holiday = date(2027, 1, 15), date(2027, 1, 18)  # Martin Luther King Jr. Day
    assert shift_business_days(friday, 1, {monday_holiday}) == date(2027, 1, 19)
    assert shift_business_days(date(2027, 1, 19), -1, {monday_holiday}) == friday
    assert shift_business_days(friday, 0, set()) == friday


def test_a_change_request_from_draft_to_approval_moves_its_deliverables(as_user, db, world):
    d1, d2 = _deliverables(as_user, "50000", "30000")
    staff, manager = as_user("staff"), as_user("manager")
    assert 'value="CR-001"' in staff.get("/projects/TST/changes/new").text
    r = staff.post("/projects/TST/changes", FORM | {"deliverable_ids": [str(d1["id"]), str(d2["id"])]})
    assert r.status_code == 303, r.text
    page = staff.get(r.headers["location"]).text
    assert "Change request CR-001 recorded." in page and "$10,000.00" in page and "+5 business days" in page
    change = db.exec(select(ChangeRequest)).one()
    assert change.status == "draft" and change.raised_by_id == world.ids["staff"]

    r = staff.post(f"/projects/TST/changes/{change.id}/move/submit", {"version": "1"})
    assert r.status_code == 303
    r = manager.post(f"/projects/TST/changes/{change.id}/move/start_review", {"version": "2"})
    assert r.status_code == 303
    r = manager.post(f"/projects/TST/changes/{change.id}/move/approve", {"version": "3", "rationale": ""})
    assert r.status_code == 422 and "Give the reasons" in r.text
    r = manager.post(f"/projects/TST/changes/{change.id}/move/approve", {"version": "3", "rationale": "Worth it"})
    assert r.status_code == 303, r.text

    db.expire_all()
    due = date.fromisoformat(PLAN["due_date"])
    moved = {d.code: d for d in db.exec(select(Deliverable).order_by(Deliverable.code))}
    holidays = {date(2026, 12, 25), date(2027, 1, 1), date(2027, 1, 18), date(2027, 2, 15)}
    assert moved["D-01"].due_date == shift_business_days(due, 5, holidays)
    assert moved["D-01"].payment_amount == Decimal("56250.00") and moved["D-02"].payment_amount == Decimal("33750.00")
    page = manager.get(f"/projects/TST/deliverables/{d1['id']}").text
    assert "Due date moved by" in page and ">CR-001</a>" in page and "to $56,250.00" in page
    trail = db.exec(select(AuditEvent).where(AuditEvent.action == "apply_change")).all()
    assert sorted(e.entity_label for e in trail) == ["D-01", "D-02"]
    assert trail[0].changes["change"] == [None, "CR-001"]
    record = manager.get(f"/projects/TST/changes/{change.id}").text
    assert "Worth it" in record and "$56,250.00" in record and "/move/approve" not in record
    assert "approved change request" in record and "The State" in record.split('id="hist-h"')[1]
    assert "applied a change request to deliverable" in page


def test_the_contractor_asks_as_the_contractor_and_sees_the_states_requests_once_submitted(as_user, db, world):
    contractor, staff = as_user("contractor"), as_user("staff")
    r = contractor.api("POST", "/api/v1/projects/TST/changes", json={"title": "Extra sprint", "requested_by": "state"})
    assert r.status_code == 201, r.text
    ours = r.json()
    assert ours["requested_by"] == "contractor" and ours["code"] == "CR-001"
    state = staff.api("POST", "/api/v1/projects/TST/changes", json={"title": "Policy change"}).json()
    listed = contractor.api("GET", "/api/v1/projects/TST/changes").json()
    assert [c["code"] for c in listed["items"]] == ["CR-001"]
    assert contractor.api("GET", f"/api/v1/changes/{state['id']}").status_code == 404
    assert contractor.get(f"/projects/TST/changes/{state['id']}").status_code == 404
    assert _move(staff, state["id"], "submit", state["version"]).status_code == 200
    assert contractor.api("GET", f"/api/v1/changes/{state['id']}").status_code == 200
    # the State's request is the State's to withdraw or edit
    assert _move(contractor, state["id"], "withdraw", state["version"] + 1).status_code == 403
    patch = {"title": "Changed", "version": state["version"] + 1}
    assert contractor.api("PATCH", f"/api/v1/changes/{state['id']}", json=patch).status_code == 403
    # and the contractor never decides
    assert _move(staff, state["id"], "start_review", state["version"] + 1).status_code == 200
    assert _move(contractor, state["id"], "approve", state["version"] + 2, "yes").status_code == 403
    assert _move(contractor, ours["id"], "submit", ours["version"]).status_code == 200


def test_wrong_steps_stale_pages_and_impossible_consequences_are_refused(as_user, db, world):
    (d1,) = _deliverables(as_user, "1000")
    manager = as_user("manager")
    body = {"title": "Cut scope", "cost_impact": "-1500", "deliverable_ids": [d1["id"]]}
    change = manager.api("POST", "/api/v1/projects/TST/changes", json=body).json()
    assert _move(manager, change["id"], "approve", 1, "no").status_code == 409  # a draft is not decided
    assert _move(manager, change["id"], "submit", 7).status_code == 409  # stale
    assert _move(manager, change["id"], "fly", 1).status_code == 404
    assert _move(manager, change["id"], "submit", 1).status_code == 200
    assert _move(manager, change["id"], "start_review", 2).status_code == 200
    r = _move(manager, change["id"], "approve", 3, "Agreed")
    assert r.status_code == 409 and "negative" in r.json()["detail"]
    assert db.get(Deliverable, d1["id"]).payment_amount == Decimal("1000.00")
    patch = {"title": "Edited after submission", "version": 3}
    r = manager.api("PATCH", f"/api/v1/changes/{change['id']}", json=patch)
    assert r.status_code == 409 and "draft" in r.json()["detail"]
    r = manager.api("POST", "/api/v1/projects/TST/changes", json={"title": "Bad", "cost_impact": "lots"})
    assert r.status_code in (400, 422)
    form = manager.post("/projects/TST/changes", FORM | {"cost_impact": "lots", "title": "Keep me"})
    assert form.status_code == 422 and 'value="Keep me"' in form.text and "12500" in form.text


@pytest.mark.parametrize(
    ("role", "read", "raise_", "decide"),
    [
        ("manager", 200, 201, 200),
        ("staff", 200, 201, 403),
        ("contractor", 200, 201, 403),
        ("viewer", 200, 403, 403),
        ("admin", 200, 403, 403),
        ("outsider", 404, 404, 404),
    ],
)
def test_every_role_reads_raises_and_decides_as_the_table_says(as_user, db, world, role, read, raise_, decide):
    staff = as_user("staff")
    change = staff.api("POST", "/api/v1/projects/TST/changes", json={"title": "Pending"}).json()
    assert _move(staff, change["id"], "submit", 1).status_code == 200
    assert _move(staff, change["id"], "start_review", 2).status_code == 200
    user = as_user(role)
    assert user.api("GET", "/api/v1/projects/TST/changes").status_code == read
    assert user.get("/projects/TST/changes").status_code == read
    assert user.get(f"/projects/TST/changes/{change['id']}").status_code == read
    assert user.api("POST", "/api/v1/projects/TST/changes", json={"title": "Mine"}).status_code == raise_
    assert user.get("/projects/TST/changes/new").status_code == (200 if raise_ == 201 else raise_)
    assert _move(user, change["id"], "approve", 3, "Fine").status_code == decide


def test_the_change_register_lists_in_fixed_queries(as_user, db, world, count_queries):
    staff = as_user("staff")
    for n in range(3):
        staff.api("POST", "/api/v1/projects/TST/changes", json={"title": f"Change {n}"})
    with count_queries() as few:
        assert staff.get("/projects/TST/changes").status_code == 200
    for n in range(3, 12):
        staff.api("POST", "/api/v1/projects/TST/changes", json={"title": f"Change {n}"})
    with count_queries() as many:
        page = staff.get("/projects/TST/changes?sort=code").text
    assert many.count == few.count and "CR-012" in page


def test_my_work_brings_requests_to_their_decider_and_drafts_to_their_author(as_user, db, world):
    staff, manager = as_user("staff"), as_user("manager")
    draft = staff.api("POST", "/api/v1/projects/TST/changes", json={"title": "Still drafting"}).json()
    pending = staff.api("POST", "/api/v1/projects/TST/changes", json={"title": "Please decide"}).json()
    assert _move(staff, pending["id"], "submit", 1).status_code == 200
    mine = staff.get("/").text.split('id="work-change_drafts"')[1].split("</section>")[0]
    assert draft["code"] in mine and "Still drafting" in mine
    theirs = manager.get("/").text.split('id="work-changes_to_decide"')[1].split("</section>")[0]
    assert "Please decide" in theirs and "Still drafting" not in theirs
    assert "Please decide" not in staff.api("GET", "/api/v1/my-work").text


def test_the_status_report_names_changes_approved_in_the_period_and_those_awaiting(as_user, db, world):
    staff, manager = as_user("staff"), as_user("manager")
    made = []
    for title in ("Approved one", "Waiting one"):
        made.append(staff.api("POST", "/api/v1/projects/TST/changes", json={"title": title}).json()["id"])
        assert _move(staff, made[-1], "submit", 1).status_code == 200
    assert _move(manager, made[0], "start_review", 2).status_code == 200
    assert _move(manager, made[0], "approve", 3, "Needed").status_code == 200
    page = manager.get("/projects/TST/status-reports/draft").text
    assert "Changes approved this period" in page and "Approved one" in page
    assert "Changes awaiting decision" in page and "Waiting one" in page


def test_a_saved_report_over_change_requests_filters_and_totals_their_cost(as_user, db, world):
    staff = as_user("staff")
    for title, cost in (("Small", "100.50"), ("Large", "25000"), ("Saving", "-400")):
        assert staff.api("POST", "/api/v1/projects/TST/changes", json={"title": title, "cost_impact": cost}).is_success
    definition = {
        "source": "changes",
        "columns": ["code", "title", "cost_impact", "status"],
        "filters": [{"field": "cost_impact", "op": "gte", "value": "100"}],
        "sort": [{"field": "cost_impact", "desc": True}],
    }
    r = staff.api("POST", "/api/v1/saved-reports/preview", json={"project": "TST", "definition": definition})
    assert r.status_code == 200, r.text
    assert [row[1] for row in r.json()["rows"]] == ["Large", "Small"]
    r = as_user("contractor").api(
        "POST", "/api/v1/saved-reports/preview", json={"project": "TST", "definition": definition}
    )
    assert r.status_code == 403


def test_a_change_log_spreadsheet_imports_as_drafts_and_exports_with_the_workflow(as_user, db, world):
    (d1,) = _deliverables(as_user, "1000")
    staff = as_user("staff")
    sheet = (
        b"CCR,Subject,Justification,Requestor,Cost,Delay (days),Deliverable\n"
        b'CR-010,Extra training,Users asked,Vendor,"12,500",3,D-01\n'
        b"CR-011,Fewer reports,Not needed,Agency,-400,0,\n"
    )

    def post(**data):
        return staff.api(
            "POST", "/api/v1/projects/TST/changes/import", data=data, files={"file": ("cr.csv", sheet, "text/csv")}
        )

    r = post()
    assert r.status_code == 200, r.text
    assert r.json()["counts"]["create"] == 2
    made = {c.code: c for c in db.exec(select(ChangeRequest))}
    assert made["CR-010"].requested_by == "contractor" and made["CR-010"].cost_impact == Decimal("12500.00")
    assert made["CR-010"].status == "draft" and made["CR-011"].schedule_impact == 0
    assert _move(staff, made["CR-010"].id, "submit", 1).status_code == 200
    r = staff.get("/projects/TST/changes/export?format=csv")
    assert r.status_code == 200
    assert "CR ID,Title" in r.text and "Submitted" in r.text and "D-01" in r.text
    edited = sheet.replace(b"Extra training", b"More training")
    r = staff.api("POST", "/api/v1/projects/TST/changes/import", files={"file": ("cr.csv", edited, "text/csv")})
    assert r.status_code == 409 and "draft" in r.json()["detail"]
    assert as_user("viewer").get("/projects/TST/changes/export?format=csv").status_code == 200
    assert (
        as_user("contractor")
        .api("POST", "/api/v1/projects/TST/changes/import", files={"file": ("c.csv", sheet, "text/csv")})
        .status_code
        == 403
    )
