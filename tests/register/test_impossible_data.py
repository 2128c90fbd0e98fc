"""Impossible register data is refused beside its field (page, input kept), as a 422 naming it (API) and as a row
error (import), and nothing is written: a risk or issue raised in the future, an issue needed before it was raised,
an open risk without an owner. Converting a risk into an issue asks first, with JavaScript or without."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import func, select

from tests.conftest import tst_today
from tests.register.conftest import acting, make_risk
from tracker.core.spreadsheet import read_table
from tracker.register.issues.models import Issue
from tracker.register.risks.models import Risk
from tracker.transfer import service as transfer
from tracker.transfer.columns import ISSUES, RISKS

RISK = {"title": "Interface partner late", "probability": "3", "impact": "4"}
ISSUE = {"title": "UAT environment down", "priority": "high"}


def _count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def _day(offset: int) -> str:
    return (tst_today() + timedelta(days=offset)).isoformat()


def _plan(db, world, register, body: str) -> transfer.ImportPlan:
    """The import's preview of a CSV into TST, columns matched by their headers."""
    _, access = acting(db, world, "staff")
    sheet = read_table("register.csv", body.encode())
    return transfer.build_plan(db, access, register, sheet, transfer.auto_mapping(register, sheet.headers))


def test_a_risk_cannot_be_raised_in_the_future(as_user, db, world):
    staff = as_user("staff")
    owner = str(world.ids["staff"])
    r = staff.post("/projects/TST/risks", RISK | {"owner_id": owner, "raised_on": _day(1)})
    assert r.status_code == 422 and 'id="f-raised_on-error"' in r.text
    assert "A risk is raised on a day that has come" in r.text and f'value="{_day(1)}"' in r.text
    assert 'value="Interface partner late"' in r.text
    r = staff.api("POST", "/api/v1/projects/TST/risks", json=RISK | {"owner_id": int(owner), "raised_on": _day(1)})
    assert r.status_code == 422 and "a day that has come" in r.json()["extra"]["raised_on"]
    assert _count(db, Risk) == 0
    risk = staff.api("POST", "/api/v1/projects/TST/risks", json=RISK | {"owner_id": int(owner), "raised_on": _day(0)})
    assert risk.status_code == 201, risk.text
    r = staff.api("PATCH", f"/api/v1/risks/{risk.json()['id']}", json={"raised_on": _day(30), "version": 1})
    assert r.status_code == 422 and "raised_on" in r.json()["extra"]
    assert db.exec(select(Risk.raised_on)).one().isoformat() == _day(0)


def test_an_issue_is_raised_by_today_and_needed_no_earlier_than_it_was_raised(as_user, db):
    staff = as_user("staff")
    r = staff.post("/projects/TST/issues", ISSUE | {"raised_on": _day(2)})
    assert (
        r.status_code == 422
        and 'id="f-raised_on-error"' in r.text
        and "An issue is raised on a day that has come" in r.text
    )
    r = staff.post("/projects/TST/issues", ISSUE | {"raised_on": _day(-10), "need_by": _day(-11)})
    assert r.status_code == 422 and 'id="f-need_by-error"' in r.text
    assert f"The need-by date cannot be before the day the issue was raised ({_day(-10)})" in r.text
    assert f'value="{_day(-11)}"' in r.text and 'value="UAT environment down"' in r.text
    r = staff.api("POST", "/api/v1/projects/TST/issues", json=ISSUE | {"raised_on": _day(5)})
    assert r.status_code == 422 and "a day that has come" in r.json()["extra"]["raised_on"]
    r = staff.api("POST", "/api/v1/projects/TST/issues", json=ISSUE | {"need_by": _day(-1)})  # raised today
    assert r.status_code == 422 and "cannot be before the day the issue was raised" in r.json()["extra"]["need_by"]
    assert _count(db, Issue) == 0
    issue = staff.api(
        "POST", "/api/v1/projects/TST/issues", json=ISSUE | {"raised_on": _day(-10), "need_by": _day(-10)}
    )
    assert issue.status_code == 201, issue.text
    r = staff.api("PATCH", f"/api/v1/issues/{issue.json()['id']}", json={"need_by": _day(-12), "version": 1})
    assert r.status_code == 422 and "need_by" in r.json()["extra"]


def test_an_open_risk_needs_an_owner_a_closed_one_may_have_none(as_user, db, world):
    staff = as_user("staff")
    r = staff.post("/projects/TST/risks", RISK | {"status": "mitigating"})
    assert r.status_code == 422 and 'id="f-owner_id-error"' in r.text
    assert "needs an owner" in r.text and 'value="Interface partner late"' in r.text
    r = staff.api("POST", "/api/v1/projects/TST/risks", json=RISK | {"probability": 3, "impact": 4})
    assert r.status_code == 422 and "needs an owner" in r.json()["extra"]["owner_id"]
    assert _count(db, Risk) == 0
    closed = staff.api(
        "POST", "/api/v1/projects/TST/risks", json=RISK | {"probability": 1, "impact": 1, "status": "closed"}
    )
    assert closed.status_code == 201, closed.text
    risk = make_risk(db, world, owner_id=str(world.ids["staff"]))
    db.commit()
    # Taking the owner away in the list is refused in the row.
    r = staff.post(f"/projects/TST/risks/{risk.id}/quick", {"owner_id": "", "version": "1"}, htmx=True)
    assert r.status_code == 422 and "needs an owner" in r.text
    db.expire_all()
    assert db.get(Risk, risk.id).owner_id == world.ids["staff"]


def test_imported_rows_obey_the_same_rules(db, world):
    sheet = (
        f"Risk ID,Title,Probability,Impact,Owner,Status,Raised on\n"
        f"R-1,Owned,3,3,staff,open,{_day(-1)}\n"
        f"R-2,Nobody's,3,3,,monitoring,{_day(-1)}\n"
        f"R-3,Retired,3,3,,closed,{_day(-1)}\n"
        f"R-4,Not yet,3,3,staff,open,{_day(1)}\n"
    )
    plan = _plan(db, world, RISKS, sheet)
    assert [(r.code, r.action) for r in plan.rows] == [
        ("R-1", "create"),
        ("R-2", "invalid"),
        ("R-3", "create"),
        ("R-4", "invalid"),
    ]
    assert "needs an owner" in plan.rows[1].errors["Owner"]
    assert "a day that has come" in plan.rows[3].errors["Raised on"]
    plan = _plan(db, world, ISSUES, f"Issue ID,Title,Raised on,Need by\nI-1,Late,{_day(-3)},{_day(-4)}\n")
    assert "cannot be before the day the issue was raised" in plan.rows[0].errors["Need by"]


def test_converting_a_risk_asks_first_with_or_without_javascript(as_user, db, world):
    risk = make_risk(db, world, owner_id=str(world.ids["staff"]))
    db.commit()
    manager = as_user("manager")
    page = manager.get(f"/projects/TST/risks/{risk.id}").text
    assert 'hx-confirm="Convert R-001 into an issue?' in page  # with JavaScript: the browser asks, one step
    # Without JavaScript the button posts without the confirmation: the answer asks, and converts nothing.
    r = manager.post(f"/projects/TST/risks/{risk.id}/convert", {"version": "1"})
    assert r.status_code == 200 and "Convert R-001 into an issue?" in r.text
    assert 'name="confirmed" value="yes"' in r.text and 'name="version" value="1"' in r.text
    assert _count(db, Issue) == 0 and db.exec(select(Risk.status)).one() == "open"
    r = manager.post(f"/projects/TST/risks/{risk.id}/convert", {"version": "1", "confirmed": "yes"})
    issue = db.exec(select(Issue)).one()
    assert r.status_code == 303 and r.headers["location"] == f"/projects/TST/issues/{issue.id}"
    db.expire_all()
    assert db.exec(select(Risk.status)).one() == "realized"
