"""Business-day arithmetic across weekends, holidays, month and year ends (no database needed)."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.core.calendar import add_business_days, business_days_between, calendar_error, holidays_between

US = holidays_between("US", [], date(2025, 1, 1), date(2027, 12, 31))


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 11, 20), 1, date(2026, 11, 23)),  # Friday + 1 -> Monday
        (date(2026, 11, 21), 1, date(2026, 11, 23)),  # Saturday + 1 -> Monday
        (date(2026, 11, 25), 1, date(2026, 11, 27)),  # Thanksgiving Thursday skipped
        (date(2026, 12, 24), 1, date(2026, 12, 28)),  # Christmas Friday + weekend
        (date(2026, 12, 31), 1, date(2027, 1, 4)),  # New Year's Day (Friday) + weekend, across the year end
        (date(2026, 1, 30), 2, date(2026, 2, 3)),  # across a month end
        (date(2026, 11, 23), 10, date(2026, 12, 8)),  # two weeks with Thanksgiving
        (date(2026, 11, 21), 0, date(2026, 11, 23)),  # zero rolls a weekend forward
        (date(2026, 11, 24), 0, date(2026, 11, 24)),
    ],
)
def test_add_business_days(start, n, expected):
    assert add_business_days(start, n, US) == expected


def test_project_holidays_are_skipped_too():
    extra = holidays_between(
        "US", [{"date": "2026-11-27", "name": "Day after Thanksgiving"}], date(2026, 11, 1), date(2026, 12, 31)
    )
    assert add_business_days(date(2026, 11, 25), 1, extra) == date(2026, 11, 30)


def test_state_calendars_differ():
    ca = holidays_between("US-CA", [], date(2026, 3, 1), date(2026, 4, 30))
    assert date(2026, 3, 31) in ca  # César Chávez Day is a California holiday
    assert date(2026, 3, 31) not in US


def test_business_days_between_is_the_inverse():
    start = date(2026, 11, 20)
    for n in range(0, 40):
        end = add_business_days(start, n, US)
        assert business_days_between(start, end, US) == n
    assert business_days_between(date(2026, 11, 23), date(2026, 11, 20), US) == -1


def test_calendar_codes_are_checked():
    assert calendar_error("US-CA") is None and calendar_error("none") is None
    assert "Unknown country" in calendar_error("XX")
    assert "not a subdivision" in calendar_error("US-QQ")
