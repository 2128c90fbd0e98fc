"""Risk score and level: the one place that says what a probability × impact means. Pages, API, exports and
reports all read these; nothing else multiplies or bands."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Level(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


# Inclusive score bands. 17–19 cannot occur (no product of two numbers 1–5 falls there).
BANDS: dict[Level, tuple[int, int]] = {
    Level.LOW: (1, 4),
    Level.MEDIUM: (5, 9),
    Level.HIGH: (10, 16),
    Level.CRITICAL: (20, 25),
}
LEVEL_LABELS = {Level.LOW: "Low", Level.MEDIUM: "Medium", Level.HIGH: "High", Level.CRITICAL: "Critical"}

PROBABILITY_WORDS = {1: "Rare", 2: "Unlikely", 3: "Possible", 4: "Likely", 5: "Almost certain"}
IMPACT_WORDS = {1: "Negligible", 2: "Minor", 3: "Moderate", 4: "Major", 5: "Severe"}


def score(probability: int, impact: int) -> int:
    return probability * impact


def level_for_score(value: int) -> Level:
    for level, (low, high) in BANDS.items():
        if low <= value <= high:
            return level
    raise ValueError(f"{value} is not a possible risk score")


def level(probability: int, impact: int) -> Level:
    return level_for_score(score(probability, impact))


def rises(before: Level, after: Level) -> bool:
    """True when `after` is a higher level than `before` (BANDS lists them lowest first)."""
    order = list(BANDS)
    return order.index(after) > order.index(before)


def score_expr(model: Any) -> Any:
    """The same score as SQL, for sorting and filtering in the database."""
    return model.probability * model.impact


def level_clause(model: Any, wanted: Level) -> Any:
    low, high = BANDS[wanted]
    return score_expr(model).between(low, high)
