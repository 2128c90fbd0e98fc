"""The register's JSON API per role: risks, conversion, issues, decisions, action items, settings."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from tests.conftest import tst_today
from tracker.audit.models import AuditEvent
from tracker.register.issues.models import Issue, IssueDecision
from tracker.register.risks.models import Risk

RISK = {
    "title": "Interface partner late",
    "statement": "If the IRS interface is late, then UAT slips",
    "category": "schedule",
    "probability": 3,
    "impact": 4,
}
ISSUE = {"title": "UAT environment down", "priority": "high"}


def _risk(as_user, **overrides):
    """An open risk needs an owner: the staff member who records it, unless `overrides` say otherwise."""
    staff = as_user("staff")
    r = staff.api(
        "POST",
        "/api/v1/projects/TST/risks",
        json=RISK | {"owner_id": staff.api("GET", "/api/v1/me").json()["id"]} | overrides,
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_a_risk_through_the_api_from_creation_to_conversion(as_user, world):
    staff, manager = as_user("staff"), as_user("manager")
    risk = _risk(as_user, owner_id=world.ids["staff"])
    assert (risk["code"], risk["score"], risk["level"], risk["owner_name"]) == ("R-001", 12, "high", "Staff Person")
    assert risk["next_review_date"] and not risk["due_for_review"] and risk["version"] == 1

    r = manager.api("PATCH", f"/api/v1/risks/{risk['id']}", json={"impact": 5, "version": risk["version"]})
    assert r.status_code == 200 and (r.json()["score"], r.json()["level"]) == (15, "high")
    r = staff.api("PATCH", f"/api/v1/risks/{risk['id']}", json={"probability": 5, "version": risk["version"]})
    assert r.status_code == 409 and r.json()["extra"]["current"]["impact"] == 5
    history = staff.api("GET", f"/api/v1/risks/{risk['id']}/history").json()
    assert [(h["probability"], h["impact"], h["level"]) for h in history] == [(3, 4, "high"), (3, 5, "high")]

    r = staff.api(
        "POST",
        f"/api/v1/risks/{risk['id']}/actions",
        json={"description": "Weekly call with IRS", "plan": "mitigation", "due_date": "2026-01-05"},
    )
    assert r.status_code == 201 and r.json()["overdue"] is True
    item = r.json()
    listed = as_user("viewer").api("GET", "/api/v1/projects/TST/risks?overdue=true").json()
    assert [i["code"] for i in listed["items"]] == ["R-001"] and listed["items"][0]["overdue"] is True
    r = staff.api("PATCH", f"/api/v1/action-items/{item['id']}", json={"done": True, "version": item["version"]})
    assert r.status_code == 200 and r.json()["done_at"] and r.json()["overdue"] is False

    assert manager.api("POST", f"/api/v1/risks/{risk['id']}/convert", json={}).status_code == 400  # no version
    version = staff.api("GET", f"/api/v1/risks/{risk['id']}").json()["version"]
    r = manager.api("POST", f"/api/v1/risks/{risk['id']}/convert", json={"version": version})
    assert r.status_code == 201
    issue = r.json()
    assert (issue["code"], issue["risk_code"], issue["priority"], issue["status"]) == ("I-001", "R-001", "high", "open")
    assert staff.api("GET", f"/api/v1/risks/{risk['id']}").json()["status"] == "realized"
    assert manager.api("POST", f"/api/v1/risks/{risk['id']}/convert", json={"version": version}).status_code == 409


def test_the_risk_list_filters_sorts_and_pages(as_user):
    for p, i in ((1, 1), (5, 5), (3, 3), (4, 5)):
        _risk(as_user, probability=p, impact=i, title=f"Risk {p}x{i}")
    viewer = as_user("viewer")
    page = viewer.api("GET", "/api/v1/projects/TST/risks?limit=2").json()
    assert [i["score"] for i in page["items"]] == [25, 20] and page["total"] == 4
    assert [i["score"] for i in viewer.api("GET", "/api/v1/projects/TST/risks?sort=score").json()["items"]] == [
        1,
        9,
        20,
        25,
    ]
    critical = viewer.api("GET", "/api/v1/projects/TST/risks?level=critical&sort=code").json()
    assert [i["title"] for i in critical["items"]] == ["Risk 5x5", "Risk 4x5"]
    assert viewer.api("GET", "/api/v1/projects/TST/risks?q=3x3").json()["total"] == 1
    assert viewer.api("GET", "/api/v1/projects/TST/risks?level=extreme").status_code == 422
    heat = viewer.api("GET", "/api/v1/projects/TST/risks/heatmap").json()
    assert {(c["probability"], c["impact"], c["count"]) for c in heat["now"]} == {
        (1, 1, 1),
        (5, 5, 1),
        (3, 3, 1),
        (4, 5, 1),
    }


def test_bad_risk_input_is_a_json_error_and_writes_nothing(as_user, db):
    staff = as_user("staff")
    for body, status in [
        (RISK | {"probability": 9}, 422),
        (RISK | {"title": ""}, 422),
        (RISK | {"bogus": 1}, 400),
        (RISK | {"probability": "often"}, 400),
        ({"title": "No scores"}, 400),
        (RISK | {"residual_probability": 2}, 422),
        (RISK | {"status": "realized"}, 422),
    ]:
        r = staff.api("POST", "/api/v1/projects/TST/risks", json=body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["status_code"] == status and r.json()["detail"]
    assert db.exec(select(Risk)).first() is None
    risk = _risk(as_user)
    r = staff.api("PATCH", f"/api/v1/risks/{risk['id']}", json={"impact": 0, "version": 1})
    assert r.status_code == 422 and "impact" in r.json()["extra"]
    assert staff.api("PATCH", f"/api/v1/risks/{risk['id']}", json={"impact": 2}).status_code == 400  # no version


def test_a_patch_that_raises_the_level_brings_the_next_review_forward_on_the_record(as_user, db):
    today = tst_today()
    risk = _risk(as_user, probability=1, impact=2)
    assert risk["next_review_date"] == (today + timedelta(days=90)).isoformat()
    r = as_user("staff").api("PATCH", f"/api/v1/risks/{risk['id']}", json={"probability": 5, "impact": 4, "version": 1})
    assert r.status_code == 200 and r.json()["level"] == "critical"
    assert r.json()["next_review_date"] == (today + timedelta(days=7)).isoformat()
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "update")).one()
    assert event.changes["next_review_date"] == [risk["next_review_date"], r.json()["next_review_date"]]


def test_a_residual_score_above_the_inherent_one_is_a_422_naming_the_field(as_user, db):
    staff = as_user("staff")
    r = staff.api("POST", "/api/v1/projects/TST/risks", json=RISK | {"residual_probability": 5, "residual_impact": 3})
    assert r.status_code == 422 and r.json()["status_code"] == 422
    assert r.json()["extra"] == {
        "residual_probability": "The residual score 15 (5 × 3) is above the inherent score 12 "
        "(3 × 4): mitigation cannot make a risk worse."
    }
    assert db.exec(select(Risk)).first() is None
    risk = _risk(as_user, residual_probability=3, residual_impact=3)
    r = staff.api("PATCH", f"/api/v1/risks/{risk['id']}", json={"impact": 2, "version": 1})
    assert r.status_code == 422 and list(r.json()["extra"]) == ["residual_probability"]
    assert staff.api("GET", f"/api/v1/risks/{risk['id']}").json()["impact"] == 4


def test_register_api_roles(as_user, world):
    risk = _risk(as_user)
    for role in ("viewer", "contractor", "outsider"):
        b = as_user(role)
        expected_write = 404 if role == "outsider" else 403
        assert b.api("POST", "/api/v1/projects/TST/risks", json=RISK).status_code == expected_write
        assert (
            b.api("PATCH", f"/api/v1/risks/{risk['id']}", json={"impact": 1, "version": 1}).status_code
            == expected_write
        )
        assert b.api("POST", f"/api/v1/risks/{risk['id']}/convert", json={"version": 1}).status_code == expected_write
        assert b.api("POST", "/api/v1/projects/TST/issues", json=ISSUE).status_code == expected_write
    for role in ("contractor", "outsider"):
        expected_read = 404 if role == "outsider" else 403
        for path in (
            "/api/v1/projects/TST/risks",
            f"/api/v1/risks/{risk['id']}",
            f"/api/v1/risks/{risk['id']}/history",
            "/api/v1/projects/TST/issues",
            "/api/v1/projects/TST/risks/heatmap",
        ):
            assert as_user(role).api("GET", path).status_code == expected_read, (role, path)
    assert as_user("viewer").api("GET", f"/api/v1/risks/{risk['id']}").status_code == 200
    assert as_user("manager").api("GET", "/api/v1/risks/999999").status_code == 404


def test_an_issue_through_the_api_with_decisions_actions_escalation_and_resolution(as_user, db, world):
    staff, manager = as_user("staff"), as_user("manager")
    r = staff.api(
        "POST",
        "/api/v1/projects/TST/issues",
        json=ISSUE
        | {
            "owner_id": world.ids["manager"],
            "raised_on": (tst_today() - timedelta(days=10)).isoformat(),
            "need_by": (tst_today() - timedelta(days=9)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    issue = r.json()
    assert (issue["code"], issue["overdue"], issue["age_days"]) == ("I-001", True, 10)
    r = manager.api(
        "POST",
        f"/api/v1/issues/{issue['id']}/decisions",
        json={"decision": "Rent a cloud UAT environment", "decided_by": "Steering committee"},
    )
    assert r.status_code == 201
    assert staff.api("POST", f"/api/v1/issues/{issue['id']}/decisions", json={"decision": ""}).status_code == 400
    assert (
        staff.api(
            "POST", f"/api/v1/issues/{issue['id']}/decisions", json={"decision": "", "decided_by": "x"}
        ).status_code
        == 422
    )
    assert [
        d["decided_by"] for d in as_user("viewer").api("GET", f"/api/v1/issues/{issue['id']}/decisions").json()
    ] == ["Steering committee"]
    r = staff.api("POST", f"/api/v1/issues/{issue['id']}/actions", json={"description": "Order environment"})
    assert r.status_code == 201 and r.json()["plan"] == "issue"
    r = staff.api("PATCH", f"/api/v1/issues/{issue['id']}", json={"status": "escalated", "version": issue["version"]})
    assert r.status_code == 422 and "escalation_level" in r.json()["extra"]
    r = staff.api(
        "PATCH",
        f"/api/v1/issues/{issue['id']}",
        json={
            "status": "escalated",
            "escalation_level": "executive",
            "escalation_reason": "Needs funding",
            "version": issue["version"],
        },
    )
    assert r.status_code == 200 and r.json()["status"] == "escalated"
    version = r.json()["version"]
    r = staff.api("PATCH", f"/api/v1/issues/{issue['id']}", json={"status": "resolved", "version": version})
    assert r.status_code == 422 and "resolution" in r.json()["extra"]
    r = staff.api(
        "PATCH",
        f"/api/v1/issues/{issue['id']}",
        json={"status": "resolved", "resolution": "Cloud env live", "version": version},
    )
    assert r.status_code == 200 and r.json()["resolved_on"] and r.json()["overdue"] is False
    assert (
        staff.api("PATCH", f"/api/v1/issues/{issue['id']}", json={"title": "x", "version": version}).status_code == 409
    )
    assert db.exec(select(IssueDecision)).one().decision == "Rent a cloud UAT environment"
    actions = [
        e.action for e in db.exec(select(AuditEvent).where(AuditEvent.entity_type == "issue").order_by(AuditEvent.id))
    ]
    assert actions == ["create", "decision", "add_action", "update", "update"]
    for role in ("viewer", "contractor"):
        b = as_user(role)
        assert b.api("PATCH", f"/api/v1/issues/{issue['id']}", json={"title": "x", "version": 9}).status_code == 403
        assert (
            b.api(
                "POST", f"/api/v1/issues/{issue['id']}/decisions", json={"decision": "x", "decided_by": "y"}
            ).status_code
            == 403
        )
    assert as_user("contractor").api("GET", f"/api/v1/issues/{issue['id']}").status_code == 403
    assert as_user("outsider").api("GET", f"/api/v1/issues/{issue['id']}").status_code == 404
    assert db.exec(select(Issue)).one().title == "UAT environment down"


def test_issue_list_filters(as_user):
    staff = as_user("staff")
    for priority in ("low", "critical", "high"):
        staff.api("POST", "/api/v1/projects/TST/issues", json={"title": f"{priority} one", "priority": priority})
    listed = as_user("viewer").api("GET", "/api/v1/projects/TST/issues").json()
    assert [i["priority"] for i in listed["items"]] == ["critical", "high", "low"]
    assert as_user("viewer").api("GET", "/api/v1/projects/TST/issues?priority=low").json()["total"] == 1
    assert as_user("viewer").api("GET", "/api/v1/projects/TST/issues?status=nope").status_code == 422


def test_register_settings_are_read_by_members_and_changed_by_the_projects_managers_and_admins(as_user):
    values = {
        "review_days_critical": 5,
        "review_days_high": 10,
        "review_days_medium": 20,
        "review_days_low": 60,
        "escalate_days_critical": 1,
        "escalate_days_high": 5,
        "escalate_days_medium": 10,
        "escalate_days_low": 20,
    }
    assert as_user("viewer").api("GET", "/api/v1/projects/TST/register-settings").json()["review_days_critical"] == 7
    assert as_user("staff").api("PUT", "/api/v1/projects/TST/register-settings", json=values).status_code == 403
    r = as_user("manager").api("PUT", "/api/v1/projects/TST/register-settings", json=values)
    assert r.status_code == 200 and r.json()["escalate_days_low"] == 20
    r = as_user("admin").api("PUT", "/api/v1/projects/TST/register-settings", json=values | {"review_days_low": 61})
    assert r.status_code == 200 and r.json()["review_days_low"] == 61
    r = as_user("admin").api(
        "PUT", "/api/v1/projects/TST/register-settings", json=values | {"review_days_low": 0, "version": 1}
    )
    assert r.status_code == 422 and "review_days_low" in r.json()["extra"]


def test_bad_issue_and_action_input_is_a_json_error_and_writes_nothing(as_user, db, world):
    from tracker.register.actions.models import ActionItem

    staff = as_user("staff")
    for body, status in [
        ({"title": ""}, 422),
        ({"title": "x", "status": "closed"}, 422),
        ({"title": "x", "priority": "urgent"}, 400),
        ({"title": "x", "code": "I 1"}, 422),
        ({"title": "x", "owner_id": 999999}, 422),
        ({"title": "x", "deliverable_ids": [999999]}, 422),
        ({"title": "x", "need_by": "soon"}, 400),
    ]:
        r = staff.api("POST", "/api/v1/projects/TST/issues", json=body)
        assert r.status_code == status, (body, r.text)
    assert db.exec(select(Issue)).first() is None
    risk = _risk(as_user)
    for body in (
        {"description": "", "plan": "mitigation"},
        {"description": "No plan"},
        {"description": "x", "plan": "mitigation", "owner_id": world.ids["contractor"]},
    ):
        r = staff.api("POST", f"/api/v1/risks/{risk['id']}/actions", json=body)
        assert r.status_code == 422, (body, r.text)
    assert db.exec(select(ActionItem)).first() is None
    r = staff.api("POST", f"/api/v1/risks/{risk['id']}/actions", json={"description": "ok", "plan": "contingency"})
    item = r.json()
    r = staff.api("PATCH", f"/api/v1/action-items/{item['id']}", json={"description": "", "version": item["version"]})
    assert r.status_code == 422 and "description" in r.json()["extra"]
    r = staff.api("PATCH", f"/api/v1/action-items/{item['id']}", json={"done": True, "version": item["version"] + 1})
    assert r.status_code == 409
