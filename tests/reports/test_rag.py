"""The RAG rules as data: each fires at its threshold and not below, red wins over amber, overrides stand."""

from __future__ import annotations

import pytest

from tracker.reports import rag
from tracker.reports.rag import Facts

CALM = Facts(
    reviews_overdue=[],
    deliveries_overdue=[],
    critical_risks=[],
    high_risks=[],
    critical_issues_late=[],
    escalations=[],
    issues_late=[],
    overdue_actions=0,
)
T = rag.THRESHOLDS


def _areas(facts: Facts, overrides: dict | None = None, thresholds: dict | None = None) -> dict[str, str]:
    out = rag.evaluate(facts, thresholds or T, overrides or {})
    return {a["area"]: a["rag"] for a in out["areas"]}


def test_nothing_wrong_is_green_everywhere():
    assert _areas(CALM) == {"overall": "green", "deliverables": "green", "risks": "green", "issues": "green"}


@pytest.mark.parametrize(
    ("facts", "area", "expected"),
    [
        ({"reviews_overdue": [("D-1", T["review_overdue_red_days"])]}, "deliverables", "amber"),
        ({"reviews_overdue": [("D-1", T["review_overdue_red_days"] + 1)]}, "deliverables", "red"),
        ({"deliveries_overdue": [("D-1", T["delivery_overdue_red_days"])]}, "deliverables", "amber"),
        ({"deliveries_overdue": [("D-1", T["delivery_overdue_red_days"] + 1)]}, "deliverables", "red"),
        ({"critical_risks": [("R-1", 1)]}, "risks", "amber"),
        ({"critical_risks": [("R-1", 0)]}, "risks", "red"),
        ({"critical_risks": [(f"R-{n}", 1) for n in range(T["critical_risks_red"])]}, "risks", "red"),
        ({"high_risks": [f"R-{n}" for n in range(T["high_risks_amber"] - 1)]}, "risks", "green"),
        ({"high_risks": [f"R-{n}" for n in range(T["high_risks_amber"])]}, "risks", "amber"),
        ({"issues_late": ["I-1"]}, "issues", "amber"),
        ({"critical_issues_late": ["I-1"], "issues_late": ["I-1"]}, "issues", "red"),
        ({"escalations": [f"I-{n}" for n in range(T["escalations_red"] - 1)]}, "issues", "amber"),
        ({"escalations": [f"I-{n}" for n in range(T["escalations_red"])]}, "issues", "red"),
        ({"overdue_actions": T["overdue_actions_amber"] - 1}, "issues", "green"),
        ({"overdue_actions": T["overdue_actions_amber"]}, "issues", "amber"),
    ],
)
def test_each_rule_turns_its_area_at_its_threshold(facts, area, expected):
    areas = _areas(Facts(**(CALM.__dict__ | facts)))
    assert areas[area] == expected
    assert areas["overall"] == expected  # the worst area
    assert all(v == "green" for k, v in areas.items() if k not in (area, "overall"))


def test_a_project_threshold_replaces_the_default_and_is_written_into_the_rule():
    thresholds = rag.thresholds_for({"review_overdue_red_days": 10, "unknown": 1, "high_risks_amber": None})
    assert thresholds == T | {"review_overdue_red_days": 10}
    facts = Facts(**(CALM.__dict__ | {"reviews_overdue": [("D-1", 8)]}))
    out = rag.evaluate(facts, thresholds, {})
    assert out["areas"][1]["rag"] == "amber"
    assert "A state review is overdue by more than 10 days." in [r["text"] for r in out["rules"]]


def test_the_reasons_name_the_records():
    facts = Facts(**(CALM.__dict__ | {"reviews_overdue": [("D-1", 9), ("D-2", 1)], "critical_risks": [("R-7", 0)]}))
    fired = {r["text"]: r["reasons"] for r in rag.evaluate(facts, T, {})["rules"] if r["fired"]}
    assert fired["A state review is overdue by more than 5 days."] == ["D-1 (9 days)"]
    assert fired["Any state review, delivery or resubmission is overdue."] == ["D-1 (9 days)", "D-2 (1 day)"]
    assert fired["A critical risk is open without an open mitigation action."] == ["R-7"]


def test_an_override_stands_with_its_rationale_and_the_overall_is_the_worst_area_after_overrides():
    facts = Facts(**(CALM.__dict__ | {"critical_risks": [("R-1", 0)]}))
    out = rag.evaluate(facts, T, {"risks": {"rag": "amber", "rationale": "Mitigation agreed"}})
    risks, overall = out["areas"][2], out["areas"][0]
    assert (risks["computed"], risks["rag"], risks["overridden"], risks["rationale"]) == (
        "red",
        "amber",
        True,
        "Mitigation agreed",
    )
    assert (overall["computed"], overall["rag"], overall["overridden"]) == ("amber", "amber", False)
    out = rag.evaluate(facts, T, {"overall": {"rag": "green", "rationale": "Sponsor accepts the risk"}})
    assert (out["areas"][0]["computed"], out["areas"][0]["rag"]) == ("red", "green")
