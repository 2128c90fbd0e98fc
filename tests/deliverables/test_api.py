"""The deliverables JSON API end to end, per role: plan → submit with a file → review → comment → decide."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from tests.conftest import agree_via_api, tst_today
from tracker.deliverables.models import Decision, Deliverable

PLAN = {
    "code": "D-01",
    "title": "Project Management Plan",
    "type": "plan",
    "due_date": (tst_today() + timedelta(days=30)).isoformat(),
    "payment_amount": "50000",
    "holdback_pct": "10",
    "criteria": ["Schedule baseline included", "Risk management approach described"],
}


def _plan(as_user, agreed: bool = True):
    """D-01 with two criteria, agreed and acknowledged (ready to submit) unless `agreed` is False."""
    r = as_user("manager").api("POST", "/api/v1/projects/TST/deliverables", json=PLAN)
    assert r.status_code == 201, r.text
    if not agreed:
        return r.json()
    agree_via_api(as_user, r.json()["id"])
    return as_user("manager").api("GET", f"/api/v1/deliverables/{r.json()['id']}").json()


def test_the_whole_acceptance_journey_through_the_api(as_user, uploads, db):
    d = _plan(as_user)
    assert d["status"] == "planned" and d["criteria"] == PLAN["criteria"] and d["actions"] == ["submit", "withdraw"]
    contractor, staff, manager = as_user("contractor"), as_user("staff"), as_user("manager")
    assert contractor.api("GET", f"/api/v1/deliverables/{d['id']}").json()["actions"] == ["submit"]

    r = contractor.api(
        "POST",
        f"/api/v1/deliverables/{d['id']}/submissions",
        data={"notes": "v1"},
        files={"files": ("PMP v1.docx", b"docx bytes", "application/octet-stream")},
    )
    assert r.status_code == 201, r.text
    assert r.json()["number"] == 1 and r.json()["files"][0]["original_name"] == "PMP v1.docx"

    r = staff.api("POST", f"/api/v1/deliverables/{d['id']}/transition", json={"action": "start_review"})
    assert r.status_code == 200 and r.json()["status"] == "in_review"
    r = staff.api(
        "POST",
        f"/api/v1/deliverables/{d['id']}/comments",
        json={"location": "§2", "text": "No baseline dates", "severity": "critical"},
    )
    comment = r.json()
    assert r.status_code == 201

    r = manager.api("POST", f"/api/v1/deliverables/{d['id']}/decision", json={"outcome": "accepted"})
    assert r.status_code == 409
    assert r.json()["extra"]["blockers"][-1] == "1 critical comment is still open."

    r = contractor.api(
        "POST",
        f"/api/v1/deliverables/{d['id']}/comments/{comment['id']}",
        json={"response": "Added in §2.3", "version": comment["version"]},
    )
    assert r.status_code == 200 and r.json()["response"] == "Added in §2.3"
    r = staff.api(
        "POST",
        f"/api/v1/deliverables/{d['id']}/comments/{comment['id']}",
        json={"disposition": "resolved", "version": r.json()["version"]},
    )
    assert r.json()["disposition"] == "resolved"
    criteria = db.exec(select(Deliverable)).one()
    from tracker.deliverables.planning import active_criteria

    results = [{"criterion_id": c.id, "outcome": "met"} for c in active_criteria(db, criteria.id)]
    r = staff.api("POST", f"/api/v1/deliverables/{d['id']}/criteria-results", json=results)
    assert r.json() == {"blockers": []}
    r = manager.api("POST", f"/api/v1/deliverables/{d['id']}/decision", json={"outcome": "accepted"})
    assert r.status_code == 201 and r.json()["outcome"] == "accepted"
    assert manager.api("GET", f"/api/v1/deliverables/{d['id']}").json()["status"] == "accepted"


def test_roles_are_enforced_on_every_deliverable_endpoint(as_user, uploads):
    d = _plan(as_user)
    for role in ("staff", "contractor", "viewer"):
        r = as_user(role).api("POST", "/api/v1/projects/TST/deliverables", json=PLAN | {"code": f"X-{role}"})
        assert r.status_code == 403, role
    viewer = as_user("viewer")
    r = viewer.api("POST", f"/api/v1/deliverables/{d['id']}/submissions", files={"files": ("a.txt", b"x")})
    assert r.status_code == 403
    outsider = as_user("outsider")
    for path in ("", "/submissions", "/comments"):
        assert outsider.api("GET", f"/api/v1/deliverables/{d['id']}{path}").status_code == 404
    assert outsider.api("GET", "/api/v1/projects/TST/deliverables").status_code == 404
    assert as_user("manager").api("GET", "/api/v1/deliverables/999999").status_code == 404


def test_invalid_transitions_are_409_and_change_nothing(as_user, uploads, db):
    d = _plan(as_user)
    manager = as_user("manager")
    r = manager.api("POST", f"/api/v1/deliverables/{d['id']}/decision", json={"outcome": "accepted"})
    assert r.status_code == 409 and "cannot" in r.json()["detail"]
    r = manager.api("POST", f"/api/v1/deliverables/{d['id']}/transition", json={"action": "start_review"})
    assert r.status_code == 409
    assert db.exec(select(Decision)).first() is None
    assert manager.api("GET", f"/api/v1/deliverables/{d['id']}").json()["status"] == "planned"


def test_bad_deliverable_input_gets_4xx_json(as_user, uploads, db):
    manager = as_user("manager")
    for bad in (
        {"code": "D 1", "title": "x"},
        {"code": "D-1"},
        {"code": "D-2", "title": "x", "holdback_pct": 500},
        {"code": "D-3", "title": "x", "type": "poem"},
        {"code": "D-4", "title": "x", "extra": 1},
        {"code": "D-5", "title": "x", "owner_id": 999999},
    ):
        r = manager.api("POST", "/api/v1/projects/TST/deliverables", json=bad)
        assert r.status_code in (400, 422), (bad, r.status_code, r.text)
        assert set(r.json()) == {"status_code", "detail", "extra"}
    _plan(as_user)
    r = manager.api("POST", "/api/v1/projects/TST/deliverables", json=PLAN)
    assert r.status_code == 422 and "already exists" in r.json()["extra"]["code"]
    assert len(db.exec(select(Deliverable)).all()) == 1


def test_submissions_need_a_file_and_respect_the_size_limit(as_user, uploads):
    d = _plan(as_user)
    contractor = as_user("contractor")
    r = contractor.api("POST", f"/api/v1/deliverables/{d['id']}/submissions", files={"notes": (None, "no file")})
    assert r.status_code == 422 and "Attach at least one file" in r.json()["extra"]["files"]
    r = contractor.api(
        "POST", f"/api/v1/deliverables/{d['id']}/submissions", files={"files": ("big.bin", b"x" * (1024 * 1024 + 1))}
    )
    assert r.status_code == 413 and "at most 1 MB" in r.json()["detail"]
    assert contractor.api("GET", f"/api/v1/deliverables/{d['id']}").json()["status"] == "planned"


def test_files_download_as_attachments_only_for_those_who_may_see_them(as_user, uploads, db):
    d = _plan(as_user)
    contractor = as_user("contractor")
    r = contractor.api(
        "POST",
        f"/api/v1/deliverables/{d['id']}/submissions",
        files={"files": ('../evil "name".html', b"<script>alert(1)</script>", "text/html")},
    )
    file_id = r.json()["files"][0]["id"]
    assert r.json()["files"][0]["original_name"] == 'evil "name".html'
    for role in ("manager", "staff", "contractor", "viewer"):
        got = as_user(role).api("GET", f"/api/v1/deliverables/{d['id']}/files/{file_id}")
        assert got.status_code == 200, role
        assert got.content == b"<script>alert(1)</script>"
        assert got.headers["content-disposition"].startswith("attachment")
        assert got.headers["content-type"] == "application/octet-stream"
    assert as_user("outsider").api("GET", f"/api/v1/deliverables/{d['id']}/files/{file_id}").status_code == 404
    assert as_user("manager").api("GET", f"/api/v1/deliverables/{d['id']}/files/999999").status_code == 404


def test_patch_changes_the_plan_and_refuses_a_stale_version(as_user, uploads, db):
    d = _plan(as_user)
    manager = as_user("manager")
    url = f"/api/v1/deliverables/{d['id']}"
    r = manager.api(
        "PATCH", url, json={"title": "PMP rev A", "criteria": ["Schedule baseline included"], "version": d["version"]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "PMP rev A" and r.json()["criteria"] == ["Schedule baseline included"]
    assert r.json()["payment_amount"] == "50000.00"  # untouched fields keep their values
    stale = manager.api("PATCH", url, json={"title": "Lost update", "version": d["version"]})
    assert stale.status_code == 409 and stale.json()["extra"]["current"]["title"] == "PMP rev A"
    assert manager.api("PATCH", url, json={"holdback_pct": "150", "version": r.json()["version"]}).status_code == 422
    assert manager.api("PATCH", url, json={"code": "D-99", "version": r.json()["version"]}).status_code == 400
    assert as_user("staff").api("PATCH", url, json={"title": "x", "version": r.json()["version"]}).status_code == 403
    assert as_user("outsider").api("PATCH", url, json={"title": "x", "version": 1}).status_code == 404


def test_list_filters_sorts_and_pages_like_the_page(as_user, uploads):
    _plan(as_user)
    manager = as_user("manager")
    manager.api(
        "POST",
        "/api/v1/projects/TST/deliverables",
        json=PLAN | {"code": "D-02", "title": "Training Plan", "type": "training"},
    )
    url = "/api/v1/projects/TST/deliverables"
    assert [i["code"] for i in manager.api("GET", f"{url}?sort=-code").json()["items"]] == ["D-02", "D-01"]
    body = manager.api("GET", f"{url}?type=training").json()
    assert body["total"] == 1 and body["items"][0]["criteria"] == PLAN["criteria"]
    assert body["items"][0]["days_overdue"] == 0 and body["items"][0]["open_critical"] == 0
    assert manager.api("GET", f"{url}?q=pmp&limit=1&offset=0").json()["total"] == 0
    assert manager.api("GET", f"{url}?status=bogus").status_code == 400


def test_too_many_criteria_results_are_refused_not_truncated(as_user, uploads):
    d = _plan(as_user)
    r = as_user("staff").api(
        "POST", f"/api/v1/deliverables/{d['id']}/criteria-results", json=[{"criterion_id": 1, "outcome": "met"}] * 101
    )
    assert r.status_code == 422 and "At most 100" in r.text


def test_every_transition_and_result_refuses_a_stale_version(as_user, uploads, db):
    d = _plan(as_user)
    contractor, staff, manager = as_user("contractor"), as_user("staff"), as_user("manager")
    url = f"/api/v1/deliverables/{d['id']}"
    seen = d["version"]  # read before the contractor submitted
    r = contractor.api("POST", f"{url}/submissions", data={"notes": "v1"}, files={"files": ("v1.pdf", b"%PDF-1")})
    assert r.status_code == 201
    for who, body in ((staff, {"action": "start_review"}), (manager, {"action": "withdraw", "reason": "Descoped"})):
        r = who.api("POST", f"{url}/transition", json=body | {"version": seen})
        assert r.status_code == 409 and r.json()["extra"]["current"] == {"status": "submitted"}, body
    seen = manager.api("GET", url).json()["version"]
    r = staff.api("POST", f"{url}/transition", json={"action": "start_review", "version": seen})
    assert r.status_code == 200 and r.json()["status"] == "in_review"

    criteria = staff.api("GET", f"{url}/criteria").json()["criteria"]
    assert {c["result_version"] for c in criteria} == {0}
    first = [{"criterion_id": c["id"], "outcome": "met", "version": 0} for c in criteria]
    assert staff.api("POST", f"{url}/criteria-results", json=first).status_code == 200
    r = manager.api("POST", f"{url}/criteria-results", json=[first[0] | {"outcome": "not_met"}])
    assert r.status_code == 409 and r.json()["extra"]["current"]["outcome"] == "met"  # recorded meanwhile
    criteria = staff.api("GET", f"{url}/criteria").json()["criteria"]
    again = {"criterion_id": criteria[0]["id"], "outcome": "not_applicable", "version": criteria[0]["result_version"]}
    assert manager.api("POST", f"{url}/criteria-results", json=[again]).status_code == 200
    assert staff.api("GET", f"{url}/criteria").json()["criteria"][0]["result"] == "not_applicable"

    seen = manager.api("GET", url).json()["version"]  # read before the conditional acceptance
    due = (tst_today() + timedelta(days=15)).isoformat()
    r = manager.api(
        "POST",
        f"{url}/decision",
        json={"outcome": "conditionally_accepted", "conditions": "Sign", "conditions_due": due},
    )
    assert r.status_code == 201
    r = manager.api(
        "POST", f"{url}/transition", json={"action": "conditions_met", "evidence": "Signed", "version": seen}
    )
    assert r.status_code == 409 and r.json()["extra"]["current"] == {"status": "conditionally_accepted"}
    seen = manager.api("GET", url).json()["version"]
    r = manager.api(
        "POST", f"{url}/transition", json={"action": "conditions_met", "evidence": "Signed", "version": seen}
    )
    assert r.status_code == 200 and r.json()["status"] == "accepted"
