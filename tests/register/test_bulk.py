"""Bulk edit of a register list: ticked rows given the same owner, status, priority or next review date in one
transaction, one history event per record changed, a row changed by someone else since the list was read left
alone and named, a row its rules refuse left alone with the reason, and a refused choice re-rendered beside its
field with the ticks kept. On the page (a plain form, no JavaScript needed) and through the API."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import func, select

from tests.conftest import tst_today
from tests.register.conftest import acting, make_issue, make_risk
from tracker.audit.models import AuditEvent
from tracker.core.forms import parse
from tracker.register.issues import service as issues
from tracker.register.issues.models import Issue
from tracker.register.risks.models import Risk


def _events(db, record) -> int:
    stmt = select(func.count()).where(AuditEvent.entity_type == record.__tablename__, AuditEvent.entity_id == record.id)
    return db.exec(stmt).one()


def _tick(*records) -> list[str]:
    return [f"{r.id}:{r.version}" for r in records]


def test_ticked_issues_change_together_and_a_stale_row_is_left_alone_and_named(as_user, db, world):
    first, second, stale = (make_issue(db, world, title=f"Interface defect {n}") for n in range(3))
    db.commit()
    ticks = _tick(first, second, stale)
    # Someone else changes the third after the list was read.
    actor, access = acting(db, world, "manager")
    values = issues.form_values(db, stale) | {"title": "Changed meanwhile"}
    issues.update(db, actor, access, stale, parse(issues.IssueForm, values))
    db.commit()
    before = {r.id: _events(db, r) for r in (first, second, stale)}

    staff = as_user("staff")
    r = staff.post(
        "/projects/TST/issues/bulk?status=open",
        {
            "pick": ticks,
            "status": "in_progress",
            "priority": "low",
            "owner_id": "",
            "next": "/projects/TST/issues?status=open",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/projects/TST/issues?status=open"
    page = staff.get(r.headers["location"]).text
    assert f"Changed 2 issues ({first.code}, {second.code})" in page
    assert f"Left alone: 1 issue ({stale.code}), because someone else changed them after you loaded the list" in page

    for record in (first, second, stale):
        db.refresh(record)
    assert [(i.status, i.priority) for i in (first, second)] == [("in_progress", "low")] * 2
    assert (stale.status, stale.priority, stale.title) == ("open", "high", "Changed meanwhile")
    assert [_events(db, r) - before[r.id] for r in (first, second, stale)] == [1, 1, 0]  # one event per record
    assert first.owner_id is None  # "leave as it is": the owner it had


def test_a_row_its_rules_refuse_is_left_alone_with_the_reason_and_the_others_change(as_user, db, world):
    explained = make_issue(db, world, title="Explained", resolution="Vendor patched the interface")
    unexplained = make_issue(db, world, title="Unexplained")
    db.commit()
    manager = as_user("manager")
    r = manager.post("/projects/TST/issues/bulk", {"pick": _tick(explained, unexplained), "status": "closed"})
    assert r.status_code == 303
    page = manager.get("/projects/TST/issues").text
    assert f"Changed 1 issue ({explained.code})." in page
    assert f"{unexplained.code} was not changed: Describe the resolution before resolving or closing the issue." in page
    db.refresh(explained)
    db.refresh(unexplained)
    assert (explained.status, unexplained.status) == ("closed", "open")


def test_risks_take_an_owner_and_a_next_review_date_and_unassigning_is_a_choice(as_user, db, world):
    a, b = make_risk(db, world, title="Data migration slips"), make_risk(db, world, title="Key staff leave")
    db.commit()
    day = tst_today() + timedelta(days=9)
    manager = as_user("manager")
    r = manager.post(
        "/projects/TST/risks/bulk",
        {"pick": _tick(a, b), "owner_id": str(world.ids["manager"]), "next_review_date": day.isoformat()},
    )
    assert r.status_code == 303
    for risk in (a, b):
        db.refresh(risk)
    assert [(x.owner_id, x.next_review_date) for x in (a, b)] == [(world.ids["manager"], day)] * 2
    r = manager.post("/projects/TST/risks/bulk", {"pick": _tick(a), "status": "closed", "owner_id": "none"})
    db.refresh(a)
    assert r.status_code == 303 and (a.owner_id, a.status) == (None, "closed")


def test_a_refused_choice_comes_back_beside_its_field_with_the_ticks_and_filters_kept(as_user, db, world):
    a, b = make_risk(db, world, title="Ticked"), make_risk(db, world, title="Not ticked")
    db.commit()
    staff = as_user("staff")
    r = staff.post(
        "/projects/TST/risks/bulk?q=Ticked",
        {"pick": _tick(a), "owner_id": str(world.ids["outsider"]), "status": "monitoring"},
    )
    assert r.status_code == 422
    assert 'id="f-bulk-owner_id-error"' in r.text and "Choose a member of this project" in r.text
    assert f'value="{a.id}:{a.version}" form="bulk-risk" aria-label="Select {a.code}" checked' in r.text
    assert '<option value="monitoring" selected>' in r.text and 'value="Ticked"' in r.text  # choice and filter kept
    assert '<details class="bulk-edit" open>' in r.text

    nothing = staff.post("/projects/TST/risks/bulk", {"status": "monitoring"})
    assert nothing.status_code == 422 and "Select at least one risk in the list." in nothing.text
    no_change = staff.post("/projects/TST/risks/bulk", {"pick": _tick(a, b)})
    assert no_change.status_code == 422 and "Choose at least one change to make." in no_change.text
    bad_status = staff.post("/projects/TST/risks/bulk", {"pick": _tick(a), "status": "gone"})
    assert bad_status.status_code == 422 and 'id="f-bulk-status-error"' in bad_status.text
    forged = staff.post("/projects/TST/risks/bulk", {"pick": ["x:y"], "status": "monitoring"})
    assert forged.status_code == 422 and "could not be read" in forged.text
    for risk in (a, b):
        db.refresh(risk)
        assert risk.status == "open" and risk.version == 1  # nothing touched


def test_who_may_bulk_edit_and_rows_of_another_project(as_user, db, world):
    risk = make_risk(db, world)
    db.commit()
    data = {"pick": _tick(risk), "status": "monitoring"}
    assert as_user("viewer").post("/projects/TST/risks/bulk", data).status_code == 403
    assert as_user("contractor").post("/projects/TST/risks/bulk", data).status_code in (403, 404)
    assert as_user("outsider").post("/projects/TST/risks/bulk", data).status_code == 404
    missing = as_user("staff").post("/projects/TST/risks/bulk", {"pick": ["999999:1"], "status": "monitoring"})
    assert missing.status_code == 404
    assert as_user("staff").post("/projects/TST/changes/bulk", data).status_code == 404  # not edited from its list
    db.refresh(risk)
    assert risk.status == "open"


def test_the_list_carries_a_tick_box_per_row_only_for_editors(as_user, db, world):
    risk = make_risk(db, world)
    db.commit()
    staff_page = as_user("staff").get("/projects/TST/risks").text
    assert f'name="pick" value="{risk.id}:1" form="bulk-risk"' in staff_page and 'id="bulk-risk"' in staff_page
    viewer_page = as_user("viewer").get("/projects/TST/risks").text
    assert 'name="pick"' not in viewer_page and "bulk-risk" not in viewer_page


def test_the_api_sets_fields_on_many_records_and_reports_each(as_user, db, world):
    first, second, stale = (make_issue(db, world, title=f"API defect {n}") for n in range(3))
    db.commit()
    staff = as_user("staff")
    body = {
        "records": [{"id": r.id, "version": r.version} for r in (first, second)] + [{"id": stale.id, "version": 0}],
        "changes": {"priority": "critical", "owner_id": world.ids["staff"]},
    }
    r = staff.api("POST", "/api/v1/projects/TST/issues/bulk", json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {"changed": [first.code, second.code], "unchanged": [], "stale": [stale.code], "refused": []}
    again = staff.api("POST", "/api/v1/projects/TST/issues/bulk", json=body | {"records": body["records"][:1]})
    assert again.status_code == 200 and again.json()["stale"] == [first.code]  # its version moved

    fresh = [{"id": first.id, "version": 2}]
    same = staff.api(
        "POST", "/api/v1/projects/TST/issues/bulk", json={"records": fresh, "changes": {"priority": "critical"}}
    )
    assert same.json()["unchanged"] == [first.code]
    unassign = staff.api(
        "POST", "/api/v1/projects/TST/issues/bulk", json={"records": fresh, "changes": {"owner_id": None}}
    )
    assert unassign.json()["changed"] == [first.code] and db.get(Issue, first.id).owner_id is None

    bad = staff.api(
        "POST", "/api/v1/projects/TST/issues/bulk", json={"records": fresh, "changes": {"priority": "urgent"}}
    )
    assert bad.status_code in (400, 422) and "priority" in bad.text
    unknown = staff.api("POST", "/api/v1/projects/TST/issues/bulk", json={"records": fresh, "changes": {"title": "x"}})
    assert unknown.status_code == 400
    none = staff.api("POST", "/api/v1/projects/TST/issues/bulk", json={"records": [], "changes": {"priority": "low"}})
    assert none.status_code == 400
    other = staff.api(
        "POST",
        "/api/v1/projects/TST/issues/bulk",
        json={"records": [{"id": 10**9, "version": 1}], "changes": {"priority": "low"}},
    )
    assert other.status_code == 404 and other.json()["detail"]
    assert as_user("viewer").api("POST", "/api/v1/projects/TST/issues/bulk", json=body).status_code == 403
    assert db.exec(select(func.count()).select_from(Risk)).one() == 0
