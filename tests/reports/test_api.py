"""The status reports API: draft, save with a version, publish, snapshot, correction, scorecard, portfolio."""

from __future__ import annotations


def _period(record) -> dict[str, str]:
    return {"period_start": record.week.start.isoformat(), "period_end": record.week.end.isoformat()}


def test_a_manager_drafts_saves_and_publishes_and_anyone_reading_gets_the_same_snapshot(as_user, record):
    manager = as_user("manager")
    draft = manager.api("GET", f"/api/v1/projects/TST/status-reports/draft?period_end={record.week.end}").json()
    assert (draft["id"], draft["number"], draft["version"]) == (None, 1, None)
    assert draft["content"]["rag"]["areas"][0]["rag"] == "red" and draft["period_label"] == record.week.label

    body = _period(record) | {"number": 1, "summary": "Recovering", "overrides": {"risks": {"rag": "amber"}}}
    r = manager.api("PUT", "/api/v1/projects/TST/status-reports/draft", json=body)
    assert r.status_code == 422 and "why_risks" in r.json()["extra"]
    body["overrides"]["risks"]["rationale"] = "Mitigation funded"
    saved = manager.api("PUT", "/api/v1/projects/TST/status-reports/draft", json=body).json()
    assert (saved["version"], saved["summary"]) == (1, "Recovering")
    risks = saved["content"]["rag"]["areas"][2]
    assert (risks["area"], risks["computed"], risks["rag"], risks["rationale"]) == (
        "risks",
        "red",
        "amber",
        "Mitigation funded",
    )
    r = manager.api("PUT", "/api/v1/projects/TST/status-reports/draft", json=body)  # the version it read is stale now
    assert r.status_code == 409 and r.json()["extra"]["current"]["summary"] == "Recovering"
    r = manager.api(
        "PUT", "/api/v1/projects/TST/status-reports/draft", json=body | {"overrides": {"sky": {"rag": "red"}}}
    )
    assert r.status_code == 422 and "overrides" in r.json()["extra"]

    r = manager.api("POST", f"/api/v1/status-reports/{saved['id']}/publish", json={"version": 1})
    assert r.status_code == 201
    snapshot = r.json()
    assert snapshot["content"] == saved["content"] and (snapshot["number"], snapshot["rag"]) == (1, "red")
    assert snapshot["published_by"] == "Manager Person" and snapshot["superseded"] is False
    read = as_user("viewer").api("GET", f"/api/v1/status-reports/{snapshot['id']}").json()
    assert read["content"] == snapshot["content"]
    assert manager.api("POST", f"/api/v1/status-reports/{saved['id']}/publish", json={"version": 2}).status_code == 409

    correction = manager.api("POST", "/api/v1/projects/TST/status-reports", json=_period(record) | {"number": 2})
    assert correction.status_code == 201 and correction.json()["number"] == 2
    listed = manager.api("GET", "/api/v1/projects/TST/status-reports").json()
    assert [(x["number"], x["superseded"]) for x in listed] == [(2, False), (1, True)]
    assert manager.api("GET", f"/api/v1/status-reports/{snapshot['id']}").json()["superseded"] is True


def test_portfolio_and_scorecard(as_user, record):
    manager = as_user("manager")
    assert manager.api("GET", "/api/v1/portfolio").json()[0]["trend"] == "none"
    manager.api("POST", "/api/v1/projects/TST/status-reports", json=_period(record) | {"number": 1})
    row = as_user("viewer").api("GET", "/api/v1/portfolio?sort=-critical").json()[0]
    assert (row["project_key"], row["rag"], row["trend"], row["counts"]["critical_risks"]) == ("TST", "red", "new", 2)
    card = as_user("viewer").api("GET", f"/api/v1/projects/TST/scorecard?period_end={record.week.end}").json()
    metrics = {m["key"]: m for m in card["metrics"]}
    assert (
        metrics["first_pass_acceptance_rate"]["value"] == 0.5 and len(metrics["issue_resolution_rate"]["trend"]) == 13
    )
    r = manager.api("GET", "/api/v1/projects/TST/scorecard?period_start=2026-02-01&period_end=2026-01-01")
    assert r.status_code == 422 and "period_start" in r.json()["extra"]
