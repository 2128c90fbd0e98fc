"""RAG (red / amber / green) of a status report: the rules as data, their thresholds in one place (THRESHOLDS,
overridable per project in project.rag_thresholds), and the manager's overrides. Pure: no session, no request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Rag(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


RAG_LABELS = {Rag.GREEN: "Green", Rag.AMBER: "Amber", Rag.RED: "Red"}
RANK = {Rag.GREEN: 0, Rag.AMBER: 1, Rag.RED: 2}
AREAS = {"deliverables": "Deliverables", "risks": "Risks", "issues": "Issues"}
OVERRIDABLE = ("overall", *AREAS)  # the manager may override each area and the overall RAG

# The one place the numbers of the rules live. A project overrides any of them (project.rag_thresholds).
THRESHOLDS: dict[str, int] = {
    "review_overdue_red_days": 5,  # a state review overdue by more than this many days turns deliverables red
    "delivery_overdue_red_days": 10,  # a delivery or resubmission overdue by more than this many days: red
    "critical_risks_red": 3,  # this many open critical risks turn risks red
    "high_risks_amber": 3,  # this many open high risks turn risks amber
    "escalations_red": 3,  # this many issues escalated or flagged for escalation turn issues red
    "overdue_actions_amber": 5,  # this many overdue action items turn issues amber
}
THRESHOLD_LABELS = {
    "review_overdue_red_days": "Red: a state review overdue by more than (days)",
    "delivery_overdue_red_days": "Red: a delivery or resubmission overdue by more than (days)",
    "critical_risks_red": "Red: open critical risks, at least",
    "high_risks_amber": "Amber: open high risks, at least",
    "escalations_red": "Red: issues escalated or flagged for escalation, at least",
    "overdue_actions_amber": "Amber: overdue action items, at least",
}


@dataclass(frozen=True)
class Facts:
    """What the rules look at, as of the report's day: codes (with a number where the rule needs one)."""

    reviews_overdue: list[tuple[str, int]]  # (deliverable code, days overdue)
    deliveries_overdue: list[tuple[str, int]]  # deliveries and resubmissions
    critical_risks: list[tuple[str, int]]  # (risk code, open mitigation actions)
    high_risks: list[str]
    critical_issues_late: list[str]  # critical priority, unresolved past the need-by date
    escalations: list[str]  # escalated, or flagged for escalation by the no-fault rule
    issues_late: list[str]  # unresolved past the need-by date
    overdue_actions: int


@dataclass(frozen=True)
class Rule:
    area: str
    rag: Rag
    text: str  # with {threshold} placeholders
    check: Callable[[Facts, dict[str, int]], list[str]]  # the reasons it fires (empty: it does not)


def _over(items: list[tuple[str, int]], days: int) -> list[str]:
    return [f"{code} ({n} day{'s' if n != 1 else ''})" for code, n in items if n > days]


def _at_least(codes: list[str], n: int) -> list[str]:
    return codes if len(codes) >= n else []


RULES = [
    Rule(
        "deliverables",
        Rag.RED,
        "A state review is overdue by more than {review_overdue_red_days} days.",
        lambda f, t: _over(f.reviews_overdue, t["review_overdue_red_days"]),
    ),
    Rule(
        "deliverables",
        Rag.RED,
        "A delivery or resubmission is overdue by more than {delivery_overdue_red_days} days.",
        lambda f, t: _over(f.deliveries_overdue, t["delivery_overdue_red_days"]),
    ),
    Rule(
        "deliverables",
        Rag.AMBER,
        "Any state review, delivery or resubmission is overdue.",
        lambda f, t: _over(f.reviews_overdue + f.deliveries_overdue, 0),
    ),
    Rule(
        "risks",
        Rag.RED,
        "A critical risk is open without an open mitigation action.",
        lambda f, t: [code for code, actions in f.critical_risks if actions == 0],
    ),
    Rule(
        "risks",
        Rag.RED,
        "{critical_risks_red} or more critical risks are open.",
        lambda f, t: _at_least([c for c, _ in f.critical_risks], t["critical_risks_red"]),
    ),
    Rule("risks", Rag.AMBER, "Any critical risk is open.", lambda f, t: [c for c, _ in f.critical_risks]),
    Rule(
        "risks",
        Rag.AMBER,
        "{high_risks_amber} or more high risks are open.",
        lambda f, t: _at_least(f.high_risks, t["high_risks_amber"]),
    ),
    Rule(
        "issues",
        Rag.RED,
        "A critical issue is unresolved past its need-by date.",
        lambda f, t: list(f.critical_issues_late),
    ),
    Rule(
        "issues",
        Rag.RED,
        "{escalations_red} or more issues are escalated or flagged for escalation.",
        lambda f, t: _at_least(f.escalations, t["escalations_red"]),
    ),
    Rule(
        "issues",
        Rag.AMBER,
        "Any issue is escalated, flagged for escalation, or unresolved past its need-by date.",
        lambda f, t: sorted(set(f.escalations) | set(f.issues_late)),
    ),
    Rule(
        "issues",
        Rag.AMBER,
        "{overdue_actions_amber} or more action items are overdue.",
        lambda f, t: [f"{f.overdue_actions} overdue"] if f.overdue_actions >= t["overdue_actions_amber"] else [],
    ),
]


def thresholds_for(overrides: dict[str, Any] | None) -> dict[str, int]:
    """THRESHOLDS with a project's own values where it set them."""
    return THRESHOLDS | {k: int(v) for k, v in (overrides or {}).items() if k in THRESHOLDS and v is not None}


def worst(rags: list[Rag | str]) -> Rag:
    return max((Rag(r) for r in rags), key=RANK.__getitem__, default=Rag.GREEN)


def evaluate(facts: Facts, thresholds: dict[str, int], overrides: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Each rule with whether it fired and why, and per area (then overall) the computed RAG, the RAG that stands
    after the manager's override, and the override's rationale. JSON-ready: it goes into the snapshot as is."""
    rules, areas = [], {}
    for rule in RULES:
        reasons = rule.check(facts, thresholds)
        rules.append(
            {
                "area": rule.area,
                "rag": rule.rag.value,
                "text": rule.text.format(**thresholds),
                "fired": bool(reasons),
                "reasons": reasons,
            }
        )
    for area, label in AREAS.items():
        fired = [r for r in rules if r["area"] == area and r["fired"]]
        areas[area] = _area(area, label, worst([r["rag"] for r in fired]), overrides)
    areas["overall"] = _area("overall", "Overall", worst([a["rag"] for a in areas.values()]), overrides)
    return {"areas": [areas[a] for a in OVERRIDABLE], "rules": rules, "thresholds": dict(thresholds)}


def _area(area: str, label: str, computed: Rag, overrides: dict[str, dict[str, str]]) -> dict[str, Any]:
    chosen = overrides.get(area) or {}
    rag = Rag(chosen["rag"]) if chosen.get("rag") else computed
    return {
        "area": area,
        "label": label,
        "computed": computed.value,
        "rag": rag.value,
        "overridden": bool(chosen.get("rag")),
        "rationale": chosen.get("rationale", "") if chosen.get("rag") else "",
    }
