"""Register pages: forms with errors beside fields and input kept, stale edits, inline quick edits re-rendering
the row, the heat map linking to the filtered list, conversion, decision log, fixed query counts, my work."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import select

from tests.conftest import tst_today
from tests.register.conftest import make_issue, make_risk
from tracker.projects.models import Project
from tracker.register.actions.models import ActionItem
from tracker.register.issues.models import Issue, IssueDecision
from tracker.register.risks.models import Risk, RiskScoreHistory

FORM = {
    "title": "Interface partner late",
    "statement": "If the IRS file is late, then UAT slips",
    "category": "schedule",
    "probability": "3",
    "impact": "4",
    "proximity": "near",
    "response": "mitigate",
    "status": "open",
}


def _owned(world) -> dict[str, str]:
    """FORM with its owner: an open risk needs one."""
    return FORM | {"owner_id": str(world.ids["staff"])}


def _field_error(html: str, field: str) -> str:
    match = re.search(rf'id="f-{field}-error" class="field-error">([^<]+)<', html)
    return match.group(1) if match else ""


def test_creating_a_risk_from_the_form_shows_it_with_its_level(as_user, db, world):
    staff = as_user("staff")
    assert 'value="R-001"' in staff.get("/projects/TST/risks/new").text
    r = staff.post("/projects/TST/risks", _owned(world))
    assert r.status_code == 303
    page = staff.get(r.headers["location"]).text
    assert "Risk R-001 recorded." in page and "High · score 12" in page
    assert "probability 3 possible × impact 4 major" in page


def test_risks_and_issues_link_deliverables_from_their_forms(as_user, db, world):
    from tests.deliverables.test_api import PLAN

    manager = as_user("manager")
    d1 = manager.api("POST", "/api/v1/projects/TST/deliverables", json=PLAN).json()
    d2 = manager.api("POST", "/api/v1/projects/TST/deliverables", json=PLAN | {"code": "D-02"}).json()
    form = manager.get("/projects/TST/risks/new").text
    assert 'name="deliverable_ids" multiple size="2"' in form and "D-02 · Project Management Plan" in form
    r = manager.post("/projects/TST/risks", _owned(world) | {"deliverable_ids": [str(d1["id"]), str(d2["id"])]})
    assert r.status_code == 303
    page = manager.get(r.headers["location"]).text
    assert f'href="/projects/TST/deliverables/{d1["id"]}" class="mono">D-01</a>' in page and ">D-02</a>" in page
    risk = db.exec(select(Risk)).one()
    edit = manager.get(f"/projects/TST/risks/{risk.id}/edit").text
    assert f'<option value="{d2["id"]}" selected>' in edit
    r = manager.post(
        f"/projects/TST/risks/{risk.id}/edit", _owned(world) | {"deliverable_ids": str(d2["id"]), "version": "1"}
    )
    assert r.status_code == 303
    assert manager.api("GET", f"/api/v1/risks/{risk.id}").json()["deliverable_codes"] == ["D-02"]
    r = manager.post("/projects/TST/issues", {"title": "Linked", "priority": "low", "deliverable_ids": str(d1["id"])})
    assert r.status_code == 303 and ">D-01</a>" in manager.get(r.headers["location"]).text


def test_a_bad_risk_form_keeps_the_input_shows_each_error_and_writes_nothing(as_user, db):
    staff = as_user("staff")
    r = staff.post(
        "/projects/TST/risks",
        FORM | {"title": "", "probability": "9", "residual_probability": "2", "mitigation_plan": "Keep me"},
    )
    assert r.status_code == 422
    assert _field_error(r.text, "title") == "Title is required."
    assert _field_error(r.text, "probability") == "Probability: choose a value from 1 to 5."
    assert "Keep me</textarea>" in r.text and 'value="near" selected' in r.text
    r = staff.post("/projects/TST/risks", FORM | {"residual_probability": "2"})
    assert r.status_code == 422 and "residual impact" in _field_error(r.text, "residual_impact")
    r = staff.post("/projects/TST/risks", FORM | {"next_review_date": "next week", "owner_id": "999"})
    assert (
        r.status_code == 422
        and _field_error(r.text, "next_review_date") == "Next review must be a date, written YYYY-MM-DD."
    )
    assert db.exec(select(Risk)).first() is None


def test_a_stale_risk_edit_is_409_with_the_newer_values_and_the_input_kept(as_user, db, world):
    risk = make_risk(db, world)
    db.commit()
    staff, manager = as_user("staff"), as_user("manager")
    mine = staff.get(f"/projects/TST/risks/{risk.id}/edit").text
    version = re.search(r'name="version" value="(\d+)"', mine).group(1)
    assert (
        manager.post(
            f"/projects/TST/risks/{risk.id}/edit", _owned(world) | {"impact": "5", "version": version}
        ).status_code
        == 303
    )
    r = staff.post(f"/projects/TST/risks/{risk.id}/edit", _owned(world) | {"title": "My new title", "version": version})
    assert r.status_code == 409
    notice = r.text.split("Someone else saved this record")[1].split("</ul>")[0]
    assert "Impact: now <q>5</q>" in notice and "version" not in notice
    assert 'value="My new title"' in r.text
    assert re.search(r'name="version" value="(\d+)"', r.text).group(1) == str(int(version) + 1)
    db.expire_all()
    assert db.get(Risk, risk.id).title == FORM["title"]


def test_quick_edit_rerenders_the_row_and_tells_the_heat_map(as_user, db, world):
    risk = make_risk(db, world)
    db.commit()
    staff = as_user("staff")
    r = staff.post(
        f"/projects/TST/risks/{risk.id}/quick",
        {"probability": "5", "version": "1", "next": "/projects/TST/risks?sort=code"},
        htmx=True,
    )
    assert r.status_code == 200 and r.headers["hx-trigger"] == "risk-changed"
    assert (
        r.text.lstrip().startswith(f'<tr id="risk-{risk.id}"') and "20 Critical" in r.text and "R-001 saved." in r.text
    )
    assert "<select" not in r.text  # the saved row is read-only again; its Edit loads the fields
    edit = staff.get(f"/projects/TST/risks/{risk.id}/row-edit", headers={"HX-Request": "true"})
    assert edit.status_code == 200 and edit.text.lstrip().startswith(f'<tr id="risk-{risk.id}" class="row-editing"')
    assert 'name="version" value="2"' in edit.text and f'id="q-probability-{risk.id}"' in edit.text
    heat = staff.get("/projects/TST/risks/heat-map", headers={"HX-Request": "true"}).text
    assert heat.lstrip().startswith('<section id="heat-map"') and "1 risk: probability 5, impact 4, critical" in heat
    stale = staff.post(f"/projects/TST/risks/{risk.id}/quick", {"impact": "1", "version": "1"}, htmx=True)
    assert stale.status_code == 409 and "Someone else changed R-001" in stale.text and "20 Critical" in stale.text
    bad = staff.post(f"/projects/TST/risks/{risk.id}/quick", {"impact": "7", "version": "2"}, htmx=True)
    assert bad.status_code == 422 and "Impact: choose a value from 1 to 5." in bad.text
    plain = staff.post(
        f"/projects/TST/risks/{risk.id}/quick",
        {"owner_id": str(world.ids["viewer"]), "version": "2", "next": "/projects/TST/risks?sort=code"},
    )
    assert plain.status_code == 303 and plain.headers["location"] == "/projects/TST/risks?sort=code"
    db.expire_all()
    assert [(h.probability, h.impact) for h in db.exec(select(RiskScoreHistory).order_by(RiskScoreHistory.id))] == [
        (3, 4),
        (5, 4),
    ]
    assert db.get(Risk, risk.id).owner_id == world.ids["viewer"]
    assert (
        staff.post(f"/projects/TST/risks/{risk.id}/quick", {"version": "3", "next": "https://evil.example"}).headers[
            "location"
        ]
        == "/projects/TST/risks"
    )


def test_a_quick_edit_that_raises_the_level_brings_the_next_review_forward(as_user, db, world):
    risk = make_risk(db, world, probability="1", impact="2")
    db.commit()
    assert risk.next_review_date == tst_today() + timedelta(days=90)
    r = as_user("staff").post(f"/projects/TST/risks/{risk.id}/quick", {"probability": "4", "version": "1"}, htmx=True)
    assert r.status_code == 200 and "8 Medium" in r.text
    db.expire_all()
    assert db.get(Risk, risk.id).next_review_date == tst_today() + timedelta(days=30)


def test_a_residual_score_above_the_inherent_one_is_refused_beside_the_field_with_the_input_kept(as_user, db, world):
    staff = as_user("staff")
    r = staff.post(
        "/projects/TST/risks",
        FORM | {"residual_probability": "4", "residual_impact": "5", "mitigation_plan": "Keep me"},
    )
    assert r.status_code == 422
    assert _field_error(r.text, "residual_probability") == (
        "The residual score 20 (4 × 5) is above the inherent score 12 (3 × 4): mitigation cannot make a risk worse."
    )
    assert 'aria-describedby="f-residual_probability-help f-residual_probability-error"' in r.text
    assert re.search(r'name="residual_impact"[^>]*>.*?<option value="5" selected>', r.text, re.S)
    assert "Keep me</textarea>" in r.text
    assert db.exec(select(Risk)).first() is None
    risk = make_risk(db, world, residual_probability="3", residual_impact="3")
    db.commit()
    r = staff.post(f"/projects/TST/risks/{risk.id}/quick", {"impact": "2", "version": "1"}, htmx=True)
    assert r.status_code == 422 and "The residual score 9 (3 × 3) is above the inherent score 6 (3 × 2)" in r.text


def test_the_list_filters_in_the_url_swaps_the_table_and_heat_map_cells_link_to_it(as_user, db, world):
    make_risk(db, world, title="Small one", probability="1", impact="2")
    make_risk(db, world, title="Big one", probability="5", impact="5", category="security")
    make_risk(db, world, title="Closed one", probability="5", impact="5", status="closed")
    db.commit()
    viewer = as_user("viewer")
    page = viewer.get("/projects/TST/risks").text
    link = "/projects/TST/risks?status=active&amp;probability=5&amp;impact=5"
    assert f'href="{link}"' in page and "2 active risks now" in page
    cell = viewer.get(link.replace("&amp;", "&"), headers={"HX-Request": "true"}).text
    assert cell.lstrip().startswith('<div id="risk-table">')
    assert "Big one" in cell and "Closed one" not in cell and "Small one" not in cell
    assert "Big one" in viewer.get("/projects/TST/risks?category=security").text
    assert "Big one" not in viewer.get("/projects/TST/risks?q=small").text
    assert viewer.get("/projects/TST/risks?level=huge").status_code == 422
    assert "<select" not in viewer.get("/projects/TST/risks").text.split('id="risk-table"')[1]  # viewers read only


def test_converting_from_the_risk_page_opens_the_issue(as_user, db, world):
    risk = make_risk(db, world)
    db.commit()
    manager = as_user("manager")
    page = manager.get(f"/projects/TST/risks/{risk.id}").text
    assert "Convert to issue" in page and "Mark reviewed" in page
    assert "Convert to issue" not in as_user("viewer").get(f"/projects/TST/risks/{risk.id}").text
    r = manager.post(f"/projects/TST/risks/{risk.id}/convert", {"version": "1", "confirmed": "yes"})
    issue = db.exec(select(Issue)).one()
    assert r.status_code == 303 and r.headers["location"] == f"/projects/TST/issues/{issue.id}"
    page = manager.get(r.headers["location"]).text
    assert "Issue I-001 opened from it" in page and "R-001" in page
    risk_page = manager.get(f"/projects/TST/risks/{risk.id}").text
    assert "became issue" in risk_page and "converted into an issue" in risk_page
    again = manager.post(
        f"/projects/TST/risks/{risk.id}/convert", {"version": "2", "confirmed": "yes"}, follow_redirects=True
    )
    assert "only an open risk can be converted" in again.text
    assert len(db.exec(select(Issue)).all()) == 1


def test_plans_take_action_items_and_bad_ones_are_refused_beside_the_field(as_user, db, world):
    risk = make_risk(db, world)
    db.commit()
    staff = as_user("staff")
    r = staff.post(
        f"/projects/TST/risks/{risk.id}/actions", {"plan": "contingency", "description": "", "due_date": "2026-13-01"}
    )
    assert r.status_code == 422
    assert _field_error(r.text, "contingency-description") == "Action is required."
    assert _field_error(r.text, "contingency-due_date") == "Due must be a date, written YYYY-MM-DD."
    assert db.exec(select(ActionItem)).first() is None
    r = staff.post(
        f"/projects/TST/risks/{risk.id}/actions",
        {
            "plan": "contingency",
            "description": "Hire temps",
            "owner_id": str(world.ids["staff"]),
            "due_date": "2020-01-01",
        },
    )
    assert r.status_code == 303 and r.headers["location"].endswith("#contingency-plan")
    page = staff.get(f"/projects/TST/risks/{risk.id}").text
    assert "Hire temps" in page and "overdue" in page
    item = db.exec(select(ActionItem)).one()
    r = staff.post(f"/projects/TST/actions/{item.id}/done", {"done": "true", "version": "1"})
    assert r.status_code == 303
    db.expire_all()
    assert db.get(ActionItem, item.id).done_at is not None
    r = staff.post(f"/projects/TST/actions/{item.id}/edit", {"description": "", "version": "2", "plan": "contingency"})
    assert r.status_code == 422 and _field_error(r.text, "description")
    r = staff.post(
        f"/projects/TST/actions/{item.id}/edit", {"description": "Hire more", "version": "1", "plan": "contingency"}
    )
    assert r.status_code == 409 and "Someone else saved this record" in r.text


def test_issue_pages_log_decisions_and_refuse_resolving_without_a_resolution(as_user, db, world):
    issue = make_issue(db, world)
    db.commit()
    manager = as_user("manager")
    r = manager.post(f"/projects/TST/issues/{issue.id}/decisions", {"decision": "Extend UAT", "decided_by": ""})
    assert r.status_code == 422 and _field_error(r.text, "decided_by") and 'value="Extend UAT"' in r.text
    assert db.exec(select(IssueDecision)).first() is None
    r = manager.post(f"/projects/TST/issues/{issue.id}/decisions", {"decision": "Extend UAT", "decided_by": "SteerCo"})
    assert r.status_code == 303
    r = manager.post(
        f"/projects/TST/issues/{issue.id}/edit",
        {"title": issue.title, "priority": "high", "status": "resolved", "version": "1", "escalation_level": "project"},
    )
    assert r.status_code == 422 and "resolution" in _field_error(r.text, "resolution")
    quick = manager.post(f"/projects/TST/issues/{issue.id}/quick", {"status": "closed", "version": "1"}, htmx=True)
    assert quick.status_code == 422 and "Open the issue to complete it." in quick.text
    quick = manager.post(f"/projects/TST/issues/{issue.id}/quick", {"status": "in_progress", "version": "1"}, htmx=True)
    assert quick.status_code == 200 and quick.text.lstrip().startswith(f'<tr id="issue-{issue.id}"')
    page = manager.get(f"/projects/TST/issues/{issue.id}").text
    assert "SteerCo" in page and "logged a decision on" in page


def test_stale_issue_edit_is_409(as_user, db, world):
    issue = make_issue(db, world)
    db.commit()
    form = {"title": "Mine", "priority": "high", "status": "open", "escalation_level": "project", "version": "1"}
    assert (
        as_user("manager").post(f"/projects/TST/issues/{issue.id}/edit", form | {"title": "Theirs"}).status_code == 303
    )
    r = as_user("staff").post(f"/projects/TST/issues/{issue.id}/edit", form)
    assert r.status_code == 409 and "Title: now <q>Theirs</q>" in r.text and 'value="Mine"' in r.text


def _bulk(db, n, start=0):
    project_id = db.exec(select(Project.id).where(Project.key == "TST")).one()
    today = tst_today()
    for i in range(start, start + n):
        risk = Risk(
            project_id=project_id,
            code=f"R-{i:04d}",
            title=f"Risk {i}",
            probability=i % 5 + 1,
            impact=(i // 5) % 5 + 1,
            raised_on=today,
            next_review_date=today - timedelta(days=i % 3),
        )
        db.add(risk)
        db.flush()
        db.add(RiskScoreHistory(risk_id=risk.id, probability=risk.probability, impact=risk.impact))
        db.add(
            ActionItem(
                project_id=project_id,
                risk_id=risk.id,
                plan="mitigation",
                description="x",
                due_date=today - timedelta(days=1),
            )
        )
        db.add(
            Issue(
                project_id=project_id,
                code=f"I-{i:04d}",
                title=f"Issue {i}",
                raised_on=today - timedelta(days=i),
                priority=["critical", "high", "medium", "low"][i % 4],
                risk_id=risk.id,
            )
        )
    db.commit()


def test_register_lists_and_heat_map_run_the_same_queries_for_10_and_500_rows(as_user, db, world, count_queries):
    _bulk(db, 10)
    staff = as_user("staff")
    counts = {}
    urls = (
        "/projects/TST/risks",
        "/projects/TST/risks?due=true&overdue=true&sort=-due",
        "/projects/TST/issues?sort=-age",
        "/projects/TST/issues?escalation=true",
        "/projects/TST/risks/heat-map",
    )
    for url in urls:
        with count_queries() as c:
            assert staff.get(url).status_code == 200
        counts[url] = c.count
    _bulk(db, 490, start=10)
    for url in urls:
        with count_queries() as c:
            assert staff.get(url).status_code == 200
        assert c.count == counts[url], (url, counts[url], c.count)
    assert "Page 1 of 20" in staff.get("/projects/TST/risks").text
    assert "500 active risks now" in staff.get("/projects/TST/risks/heat-map").text


def test_my_work_lists_my_actions_my_reviews_due_and_flagged_issues_for_managers(as_user, db, world):
    risk = make_risk(db, world, owner_id=str(world.ids["staff"]), next_review_date="2020-01-01")
    make_issue(db, world, title="Stuck for ages", priority="critical", raised_on="2020-01-01")
    db.add(
        ActionItem(
            project_id=risk.project_id,
            risk_id=risk.id,
            plan="mitigation",
            description="Chase the IRS",
            owner_id=world.ids["staff"],
            due_date=__import__("datetime").date(2020, 1, 2),
        )
    )
    db.commit()
    staff_home = as_user("staff").get("/").text
    assert "Your action items" in staff_home and "Chase the IRS" in staff_home and "overdue" in staff_home
    assert "Risks due for review" in staff_home and "Data conversion slips" in staff_home
    assert "Issues flagged for escalation" not in staff_home
    manager_home = as_user("manager").get("/").text
    assert "Issues flagged for escalation" in manager_home and "Stuck for ages" in manager_home
    assert "Your action items" not in manager_home
    contractor_home = as_user("contractor").get("/").text
    assert "Stuck for ages" not in contractor_home and "Chase the IRS" not in contractor_home


def test_a_bad_issue_form_keeps_the_input_and_writes_nothing(as_user, db):
    staff = as_user("staff")
    assert 'value="I-001"' in staff.get("/projects/TST/issues/new").text
    r = staff.post(
        "/projects/TST/issues",
        {"title": "", "priority": "urgent", "need_by": "31/12/2026", "status": "escalated", "description": "Keep me"},
    )
    assert r.status_code == 422
    assert _field_error(r.text, "title") == "Title is required."
    assert _field_error(r.text, "need_by") == "Need by must be a date, written YYYY-MM-DD."
    assert _field_error(r.text, "priority") and "Keep me</textarea>" in r.text
    r = staff.post("/projects/TST/issues", {"title": "Escalated", "status": "escalated", "escalation_level": "project"})
    assert r.status_code == 422 and "executive or sponsor" in _field_error(r.text, "escalation_level")
    r = staff.post("/projects/TST/issues", {"title": "Closed", "status": "closed"})
    assert r.status_code == 422 and _field_error(r.text, "resolution")
    assert db.exec(select(Issue)).first() is None


def test_register_links_appear_only_for_those_who_may_see_the_register(as_user):
    assert 'href="/projects/TST/risks"' in as_user("viewer").get("/projects/TST").text
    assert 'href="/projects/TST/issues"' in as_user("viewer").get("/projects/TST").text
    contractor = as_user("contractor").get("/projects/TST").text
    assert "/risks" not in contractor and "/issues" not in contractor


def test_every_change_to_a_register_record_names_the_version_it_was_read_at(as_user, db, world):
    """A form without its version cannot turn the stale-edit check off: it is refused, and nothing changes."""
    staff = as_user("staff")
    risk = make_risk(db, world)
    issue = make_issue(db, world)
    item = staff.post(
        f"/projects/TST/risks/{risk.id}/actions",
        {"description": "Call them", "plan": "mitigation", "owner_id": world.ids["staff"]},
    )
    assert item.status_code == 303, item.text
    action = db.exec(select(ActionItem)).one()
    for path, data in [
        (f"/projects/TST/risks/{risk.id}/quick", {"status": "closed"}),
        (f"/projects/TST/risks/{risk.id}/edit", _owned(world) | {"title": "No version"}),
        (f"/projects/TST/risks/{risk.id}/review", {}),
        (f"/projects/TST/risks/{risk.id}/convert", {"confirmed": "yes"}),
        (f"/projects/TST/issues/{issue.id}/quick", {"priority": "low", "version": "x"}),
        (f"/projects/TST/issues/{issue.id}/edit", {"title": "No version", "priority": "low"}),
        (f"/projects/TST/actions/{action.id}/done", {"done": "true"}),
    ]:
        r = staff.post(path, data)
        assert r.status_code == 400, path
        assert "version" in r.text
    db.expire_all()
    assert (db.get(Risk, risk.id).version, db.get(Issue, issue.id).version) == (risk.version, issue.version)
    assert db.get(Issue, issue.id).priority != "low" and db.get(ActionItem, action.id).done_at is None


def test_a_list_of_25_rows_stays_light_with_its_in_place_edits_loaded_on_demand(as_user, db, world):
    _bulk(db, 25)
    long = "Interface partner cannot staff the joint test window before the county pilot begins in spring"
    for record in [*db.exec(select(Risk)), *db.exec(select(Issue))]:
        record.title, record.owner_id = f"{record.code} {long}", world.ids["staff"]
    db.commit()
    staff = as_user("staff")
    for kind in ("risks", "issues"):
        page = staff.get(f"/projects/TST/{kind}")
        assert page.status_code == 200 and page.text.count("row-edit") >= 25
        assert len(page.content) <= 40_000, (kind, len(page.content))
        rows = page.text.split(f'id="{kind[:-1]}-table"')[1].split("<tbody")[1]
        assert "<select" not in rows and "<form" not in rows
        assert rows.count(long) == 25  # each title once: the whole of it on hover comes from app.js


def test_a_rows_edit_loads_its_fields_and_cancel_puts_the_row_back(as_user, db, world):
    risk, issue = make_risk(db, world), make_issue(db, world)
    db.commit()
    staff, htmx = as_user("staff"), {"HX-Request": "true"}
    page = staff.get("/projects/TST/issues").text
    edit_link = re.search(r'<a href="([^"]+)" class="row-edit" aria-label="Edit ([^"]+)">Edit</a>', page)
    assert edit_link.groups() == (f"/projects/TST/issues/{issue.id}/edit", issue.code)  # app.js loads its /row-edit
    edit = staff.get(f"/projects/TST/issues/{issue.id}/row-edit", headers=htmx).text
    assert 'class="row-editing"' in edit and 'name="priority"' in edit and 'name="version" value="1"' in edit
    assert f'hx-get="/projects/TST/issues/{issue.id}/row"' in edit  # Cancel
    back = staff.get(f"/projects/TST/issues/{issue.id}/row", headers=htmx).text
    assert back.lstrip().startswith(f'<tr id="issue-{issue.id}">') and "<select" not in back
    assert staff.get(f"/projects/TST/risks/{risk.id}/row-edit", headers=htmx).status_code == 200
    viewer = as_user("viewer")
    assert viewer.get(f"/projects/TST/risks/{risk.id}/row-edit").status_code == 403
    assert "row-edit" not in viewer.get(f"/projects/TST/risks/{risk.id}/row").text  # readers get no Edit
