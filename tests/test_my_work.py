"""My work shows everything that needs each person, each with its clock on the project's own calendar, and
GET /api/v1/my-work lists exactly the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from tests.conftest import agree_criteria, at_noon, tst_today
from tests.register.conftest import acting, make_issue, make_risk
from tracker.core.files import FileStore
from tracker.core.forms import parse
from tracker.deliverables import decisions, planning, reviews, service, submissions
from tracker.deliverables.models import Deliverable
from tracker.register.actions import service as actions
from tracker.reports import service as reports


def _plan(db, world, code="D-01", owner="staff", agreed=True, **extra):
    d = planning.create(
        db,
        *acting(db, world, "manager"),
        parse(
            planning.DeliverableForm,
            {
                "code": code,
                "title": f"Plan {code}",
                "criteria": "Covers every interface",
                "owner_id": str(world.ids[owner]),
                "due_date": (tst_today() + timedelta(days=60)).isoformat(),
                **extra,
            },
        ),
    )
    if agreed:
        agree_criteria(db, world, d)
    return d


def _submit(db, world, d, store):
    submissions.submit(db, *acting(db, world, "contractor"), d, "", [submissions.Upload("v.pdf", "", b"%PDF")], store)


def _sections(b) -> dict:
    r = b.api("GET", "/api/v1/my-work")
    assert r.status_code == 200, r.text
    return {s["key"]: s["items"] for s in r.json()}


def test_a_review_lead_sees_the_review_they_lead_overdue_and_escalated(as_user, db, world, tmp_path, clock):
    store = FileStore(tmp_path, 1024 * 1024)
    d = _plan(db, world)  # staff is the review lead, and is not assigned as a reviewer
    _submit(db, world, d, store)
    db.commit()
    staff = as_user("staff")
    assert "Reviews you lead" in staff.get("/").text
    clock.set(datetime.combine(d.review_due + timedelta(days=3), datetime.min.time(), UTC) + timedelta(hours=20))
    service.run_clocks(db, store)  # never-deemed policy: the overdue review escalates
    db.commit()
    staff = as_user("staff")  # days later: signed in again
    page = staff.get("/").text
    assert "Nothing needs you" not in page
    assert "Reviews you lead" in page and "Plan D-01" in page and "3 days overdue" in page
    assert "review escalated: overdue with no decision" in page
    (item,) = _sections(staff)["lead_reviews"]
    assert (item["code"], item["state"], item["days"]) == ("D-01", "overdue", -3)
    assert item["flag"].startswith("review escalated") and item["url"] == f"/projects/TST/deliverables/{d.id}#decision"


def test_comments_answered_by_the_contractor_await_the_reviewers_disposition(as_user, db, world, tmp_path):
    store = FileStore(tmp_path, 1024 * 1024)
    d = _plan(db, world, owner="manager")
    _submit(db, world, d, store)
    staff, s_access = acting(db, world, "staff")
    reviews.start_review(db, staff, s_access, d)
    c = reviews.add_comment(db, staff, s_access, d, parse(reviews.CommentForm, {"text": "Index?", "severity": "major"}))
    db.commit()
    assert _sections(as_user("staff"))["dispositions"] == []  # nothing answered yet
    reviews.respond(db, *acting(db, world, "contractor"), c.id, "Added on p. 2")
    db.commit()
    for role in ("staff", "manager"):  # who raised it, and the review lead
        (item,) = _sections(as_user(role))["dispositions"]
        assert item["detail"] == "1 answered comment to dispose of"
    assert "Comments awaiting your disposition" in as_user("staff").get("/").text
    assert _sections(as_user("contractor"))["dispositions"] == []


def test_conditions_reach_their_owner_and_the_managers_who_confirm_them(as_user, db, world, tmp_path, clock):
    store = FileStore(tmp_path, 1024 * 1024)
    d = _plan(db, world, owner="manager")
    _submit(db, world, d, store)
    manager, m_access = acting(db, world, "manager")
    reviews.start_review(db, manager, m_access, d)
    decisions.decide(
        db,
        manager,
        m_access,
        d,
        parse(
            decisions.DecisionForm,
            {
                "outcome": "conditionally_accepted",
                "conditions": "Fix typos",
                "conditions_owner_id": str(world.ids["contractor"]),
                "conditions_due": (tst_today() + timedelta(days=20)).isoformat(),
            },
        ),
        store=store,
    )
    db.commit()
    assert [i["detail"] for i in _sections(as_user("contractor"))["conditions"]] == ["condition 1: Fix typos"]
    assert _sections(as_user("manager"))["conditions"] == []  # due in 20 days: not yet the managers' concern
    clock.set(at_noon(tst_today() + timedelta(days=25)))  # calendar days, whatever a DST change does to hours
    (item,) = _sections(as_user("manager"))["conditions"]
    assert item["state"] == "overdue" and item["days"] == -5
    assert (
        "Conditions due" in as_user("contractor").get("/").text and "5 days overdue" in as_user("manager").get("/").text
    )
    assert _sections(as_user("staff"))["conditions"] == []


def test_the_lead_waits_for_the_resubmission_and_the_contractor_owes_it(as_user, db, world, tmp_path):
    store = FileStore(tmp_path, 1024 * 1024)
    d = _plan(db, world)
    _submit(db, world, d, store)
    manager, m_access = acting(db, world, "manager")
    reviews.start_review(db, manager, m_access, d)
    decisions.decide(
        db, manager, m_access, d, parse(decisions.DecisionForm, {"outcome": "rejected", "findings": "No"}), store=store
    )
    db.commit()
    (waiting,) = _sections(as_user("staff"))["resubmissions"]
    (owed,) = _sections(as_user("contractor"))["to_submit"]
    assert waiting["due"] == owed["due"] == d.resubmit_due.isoformat() and owed["detail"] == "version 2 to resubmit"


def test_criteria_wait_for_the_manager_then_for_the_contractor(as_user, db, world):
    d = _plan(db, world, agreed=False)
    db.commit()
    assert [i["detail"] for i in _sections(as_user("manager"))["criteria"]] == ["criteria version 1 to agree"]
    assert _sections(as_user("contractor"))["criteria"] == []
    from tracker.deliverables import criteria

    criteria.agree(db, *acting(db, world, "manager"), d)
    db.commit()
    assert _sections(as_user("manager"))["criteria"] == []
    assert [i["detail"] for i in _sections(as_user("contractor"))["criteria"]] == ["criteria version 1 to acknowledge"]


def test_the_api_lists_every_section_of_the_page_and_only_the_users_own(as_user, db, world):
    risk = make_risk(db, world, owner_id=str(world.ids["staff"]), next_review_date=tst_today().isoformat())
    staff, s_access = acting(db, world, "staff")
    actions.add(
        db,
        staff,
        s_access,
        risk,
        parse(
            actions.ActionForm,
            {
                "description": "Chase the vendor",
                "plan": "mitigation",
                "owner_id": str(world.ids["staff"]),
                "due_date": (tst_today() - timedelta(days=1)).isoformat(),
            },
        ),
    )
    make_issue(db, world, title="Stuck for ages", priority="critical", raised_on="2020-01-01")
    db.commit()
    mine = _sections(as_user("staff"))
    assert list(mine) == [
        "clocks",
        "lead_reviews",
        "reviews",
        "dispositions",
        "conditions",
        "criteria",
        "changes_to_decide",
        "to_publish",
        "resubmissions",
        "to_submit",
        "responses",
        "actions",
        "risk_reviews",
        "flagged",
        "change_drafts",
    ]
    assert [(i["title"], i["state"], i["days"]) for i in mine["actions"]] == [("Chase the vendor", "overdue", -1)]
    assert [(i["code"], i["days"]) for i in mine["risk_reviews"]] == [(risk.code, 0)]
    assert mine["flagged"] == []  # flags are for managers
    manager = _sections(as_user("manager"))
    assert [i["title"] for i in manager["flagged"]] == ["Stuck for ages"]
    week = reports.period_of(s_access.project, reports.PeriodForm())
    assert [i["code"] for i in manager["to_publish"]] == [week.previous().label, week.label]
    outsider = _sections(as_user("outsider"))  # the manager of another project: only that project's own work
    assert {i["project"] for items in outsider.values() for i in items} == {"OTH"}
    assert as_user(None).api("GET", "/api/v1/my-work").status_code == 401


def test_clocks_count_on_the_projects_day_not_the_servers(as_user, db, world, clock):
    # 05:00 UTC on the 12th is still the evening of the 11th in Los Angeles, where TST keeps its calendar.
    clock.set(datetime(2026, 3, 12, 5, 0, tzinfo=UTC))
    risk = make_risk(db, world, owner_id=str(world.ids["staff"]), next_review_date="2026-03-11")
    staff, s_access = acting(db, world, "staff")
    actions.add(
        db,
        staff,
        s_access,
        risk,
        parse(
            actions.ActionForm,
            {
                "description": "Call the vendor",
                "plan": "mitigation",
                "owner_id": str(world.ids["staff"]),
                "due_date": "2026-03-11",
            },
        ),
    )
    db.commit()
    page = as_user("staff").get("/").text
    assert "due today" in page and "overdue" not in page
    assert [i["days"] for i in _sections(as_user("staff"))["actions"]] == [0]


def test_my_work_reads_a_fixed_number_of_queries_however_much_is_waiting(as_user, db, world, tmp_path, count_queries):
    store = FileStore(tmp_path, 1024 * 1024)

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            d = _plan(db, world, code=f"D-{i:02d}")
            _submit(db, world, d, store)
        db.commit()

    add(1, 1)
    staff = as_user("staff")
    with count_queries() as few:
        assert staff.get("/").status_code == 200
    add(8, 2)
    with count_queries() as many:
        page = staff.get("/").text
    assert page.count("Plan D-") >= 9 and many.count == few.count
    assert db.exec(select(Deliverable)).all()
