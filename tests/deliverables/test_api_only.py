"""A client with bearer tokens and no browser runs a whole review through the API alone: plan, agree the criteria,
submit, assign and remove reviewers, comment, answer and dispose, record results by criterion id, decide with
conditions, confirm them, and read the decisions, the holdback ledger and My work."""

from __future__ import annotations

from datetime import timedelta

from litestar.testing import TestClient

from tests.conftest import tst_today
from tracker.accounts import service as accounts
from tracker.accounts.models import User


def _clients(app, db, world) -> dict:
    """role -> a client that sends only its bearer token: no cookie, no CSRF token."""
    out = {}
    for role in ("manager", "staff", "contractor", "viewer"):
        _, secret = accounts.create_token(db, accounts.principal(db.get(User, world.ids[role])), "script")
        client = TestClient(app, base_url="http://testserver.local")
        client.headers["Authorization"] = f"Bearer {secret}"
        out[role] = client
    db.commit()
    return out


def _ok(r, status: int = 200):
    assert r.status_code == status, r.text
    return r.json()


def test_a_whole_review_runs_through_the_api_alone(app, db, world, uploads):
    api = _clients(app, db, world)
    m, s, c, v = api["manager"], api["staff"], api["contractor"], api["viewer"]
    d = _ok(
        m.post(
            "/api/v1/projects/TST/deliverables",
            json={
                "code": "D-20",
                "title": "Data Conversion Plan",
                "type": "plan",
                "payment_amount": "60000",
                "holdback_pct": "10",
                "owner_id": world.ids["staff"],
                "criteria": ["Every legacy table mapped", "Reconciliation method stated"],
            },
        ),
        201,
    )
    url = f"/api/v1/deliverables/{d['id']}"

    # The DED: agreed by the State, acknowledged by the contractor, then the first version.
    assert _ok(c.post(f"{url}/submissions", files={"files": ("v1.pdf", b"%PDF-1")}), 409)["detail"].startswith(
        "Not submitted"
    )
    _ok(m.post(f"{url}/criteria/agree", json={"version": d["version"]}))
    ded = _ok(c.post(f"{url}/criteria/acknowledge", json={}))
    assert ded["ready_to_submit"] and ded["version"] == 1
    _ok(c.post(f"{url}/submissions", data={"notes": "First issue"}, files={"files": ("v1.pdf", b"%PDF-1")}), 201)

    # Reviewers: start the review with one, add another, take one off.
    _ok(s.post(f"{url}/transition", json={"action": "start_review", "reviewer_ids": [world.ids["staff"]]}))
    reviewers = _ok(s.post(f"{url}/reviewers", json={"reviewer_id": world.ids["manager"]}))
    assert sorted(r["reviewer_id"] for r in reviewers) == sorted([world.ids["staff"], world.ids["manager"]])
    version = next(r["version"] for r in reviewers if r["reviewer_id"] == world.ids["manager"])
    removed = _ok(m.delete(f"{url}/reviewers/{world.ids['manager']}?version={version}"))
    assert [r["reviewer_id"] for r in removed] == [world.ids["staff"]]
    assert _ok(s.delete(f"{url}/reviewers/{world.ids['manager']}?version={version}"), 404)["status_code"] == 404
    assert _ok(c.post(f"{url}/reviewers", json={"reviewer_id": world.ids["staff"]}), 403)["detail"]

    # Comments: raised, answered by the contractor, disposed of by the reviewer.
    comment = _ok(
        s.post(f"{url}/comments", json={"text": "Table 14 missing", "severity": "critical", "location": "§3"}), 201
    )
    assert [i["code"] for i in _ok(c.get("/api/v1/my-work")) if i["key"] == "responses" for i in i["items"]] == ["D-20"]
    comment = _ok(
        c.post(f"{url}/comments/{comment['id']}", json={"response": "Added in §3.4", "version": comment["version"]})
    )
    waiting = {x["key"]: x["items"] for x in _ok(s.get("/api/v1/my-work"))}
    assert [i["code"] for i in waiting["dispositions"]] == ["D-20"] and [
        i["code"] for i in waiting["lead_reviews"]
    ] == ["D-20"]
    _ok(s.post(f"{url}/comments/{comment['id']}", json={"disposition": "resolved", "version": comment["version"]}))

    # Results by criterion id, read from the criteria.
    criteria = _ok(v.get(f"{url}/criteria"))["criteria"]
    blockers = _ok(
        s.post(
            f"{url}/criteria-results",
            json=[{"criterion_id": criteria[0]["id"], "outcome": "met", "evidence": "Appendix B"}],
        )
    )["blockers"]
    assert blockers == ["Criterion 2 has no result yet: “Reconciliation method stated”."]
    _ok(s.post(f"{url}/criteria-results", json=[{"criterion_id": criteria[1]["id"], "outcome": "met"}]))
    assert [x["result"] for x in _ok(v.get(f"{url}/criteria"))["criteria"]] == ["met", "met"]

    # A conditional acceptance with two conditions, owned by the contractor; each confirmed with its evidence.
    due = (tst_today() + timedelta(days=15)).isoformat()
    current = _ok(m.get(url))["version"]
    decision = _ok(
        m.post(
            f"{url}/decision",
            json={
                "outcome": "conditionally_accepted",
                "conditions": "Sign the mapping annex\nAdd the rollback steps",
                "conditions_due": due,
                "conditions_owner_id": world.ids["contractor"],
                "version": current,
            },
        ),
        201,
    )
    assert decision["criteria_version"] == 1
    conditions = _ok(c.get(f"{url}/conditions"))
    assert [(x["text"], x["due_date"], x["owner"]) for x in conditions] == [
        ("Sign the mapping annex", due, "Contractor Person"),
        ("Add the rollback steps", due, "Contractor Person"),
    ]
    assert _ok(c.post(f"{url}/conditions/{conditions[0]['id']}/met", json={"evidence": "x"}), 403)["detail"]
    later = (tst_today() + timedelta(days=20)).isoformat()
    moved = _ok(
        m.patch(
            f"{url}/conditions/{conditions[1]['id']}",
            json={"due_date": later, "owner_id": None, "version": conditions[1]["version"]},
        )
    )
    assert (moved[1]["due_date"], moved[1]["owner"]) == (later, None)
    _ok(m.post(f"{url}/conditions/{conditions[0]['id']}/met", json={"evidence": "Annex signed 3 Mar"}))
    assert _ok(m.get(url))["status"] == "conditionally_accepted"
    done = _ok(m.post(f"{url}/conditions/{conditions[1]['id']}/met", json={"evidence": "Rollback in §9"}))
    assert all(x["met_at"] and x["met_by"] == "Manager Person" for x in done)
    assert _ok(v.get(url))["status"] == "accepted"

    # The record: the project's decisions, the letters, the holdback ledger.
    decisions = _ok(v.get("/api/v1/projects/TST/deliverables/decisions"))
    assert [(x["deliverable_code"], x["outcome"], bool(x["closes_id"])) for x in decisions] == [
        ("D-20", "accepted", True),
        ("D-20", "conditionally_accepted", False),
    ]
    assert decisions[0]["decided_by"] == "Manager Person" and "Annex signed 3 Mar" in decisions[0]["findings"]
    assert len(_ok(c.get(f"{url}/records"))) == 8  # two decisions: letter and sign-off, PDF and DOCX each
    ledger = _ok(v.get("/api/v1/projects/TST/deliverables/holdback"))
    assert [(r["code"], r["state"], r["paid"]) for r in ledger["rows"]] == [("D-20", "released", "60000.00")]
    assert ledger["released"] == "6000.00" and ledger["withheld"] == "0.00"
    across = _ok(v.get("/api/v1/holdback"))
    assert [(x["project"], x["released"], x["rows"]) for x in across] == [("TST", "6000.00", [])]


def test_the_openapi_schema_documents_the_review_endpoints_with_examples(client):
    schema = client.get("/schema/openapi.json").json()
    paths = schema["paths"]
    for path, method in (
        ("/api/v1/deliverables/{deliverable_id}/reviewers", "post"),
        ("/api/v1/deliverables/{deliverable_id}/reviewers/{reviewer_id}", "delete"),
        ("/api/v1/deliverables/{deliverable_id}/criteria", "get"),
        ("/api/v1/deliverables/{deliverable_id}/criteria/agree", "post"),
        ("/api/v1/deliverables/{deliverable_id}/criteria/acknowledge", "post"),
        ("/api/v1/deliverables/{deliverable_id}/conditions/{condition_id}/met", "post"),
        ("/api/v1/projects/{key}/deliverables/decisions", "get"),
        ("/api/v1/projects/{key}/deliverables/holdback", "get"),
        ("/api/v1/holdback", "get"),
        ("/api/v1/my-work", "get"),
    ):
        assert method in paths.get(path, {}), f"{method.upper()} {path} is not documented"
        assert paths[path][method].get("summary"), f"{method.upper()} {path} has no summary"
    text = str(schema["components"]["schemas"])
    assert "Revised section 4 delivered as v1.1, p. 12" in text and "lead_reviews" in text
