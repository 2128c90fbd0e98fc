"""Score and level bands: every probability × impact pair, against the table in the design."""

from __future__ import annotations

import pytest

from tracker.register.risks import scoring
from tracker.register.risks.scoring import Level

# The whole 5×5 matrix as the design states it: rows are probability 5..1, columns impact 1..5.
MATRIX = """
M H H C C
L M H H C
L M M H H
L L M M H
L L L L M
"""
LETTERS = {"L": Level.LOW, "M": Level.MEDIUM, "H": Level.HIGH, "C": Level.CRITICAL}


def _cells():
    for row, line in zip(range(5, 0, -1), MATRIX.strip().splitlines(), strict=True):
        for impact, letter in enumerate(line.split(), start=1):
            yield row, impact, LETTERS[letter]


@pytest.mark.parametrize(("probability", "impact", "expected"), list(_cells()))
def test_every_cell_of_the_matrix_has_the_designed_level(probability, impact, expected):
    assert scoring.level(probability, impact) is expected
    assert scoring.score(probability, impact) == probability * impact


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, "low"),
        (4, "low"),
        (5, "medium"),
        (9, "medium"),
        (10, "high"),
        (16, "high"),
        (20, "critical"),
        (25, "critical"),
    ],
)
def test_band_edges(value, expected):
    assert scoring.level_for_score(value) == expected


@pytest.mark.parametrize("value", [0, 17, 19, 26])
def test_impossible_scores_are_refused(value):
    with pytest.raises(ValueError):
        scoring.level_for_score(value)


def test_the_scales_have_five_words_each():
    assert list(scoring.PROBABILITY_WORDS) == list(scoring.IMPACT_WORDS) == [1, 2, 3, 4, 5]
    assert scoring.PROBABILITY_WORDS[1] == "Rare" and scoring.PROBABILITY_WORDS[5] == "Almost certain"
    assert scoring.IMPACT_WORDS[1] == "Negligible" and scoring.IMPACT_WORDS[5] == "Severe"
