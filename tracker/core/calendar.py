"""Business-day arithmetic over a project's holiday calendar (weekends and holidays skipped)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays as pyholidays


def parse_calendar(code: str) -> tuple[str, str | None]:
    country, _, subdiv = code.strip().upper().partition("-")
    return country, subdiv or None


def calendar_error(code: str) -> str | None:
    """None when `code` names a supported calendar ("US", "US-CA", "NONE"), else the reason."""
    if code.strip().upper() == "NONE":
        return None
    country, subdiv = parse_calendar(code)
    supported = pyholidays.list_supported_countries()
    if country not in supported:
        return f"Unknown country code '{country}'. Use an ISO code such as US, CA, GB, AU, or NONE."
    if subdiv and subdiv not in supported[country]:
        return f"'{subdiv}' is not a subdivision of {country} (for example US-CA, US-NY)."
    return None


@lru_cache(maxsize=256)
def _official(code: str, year: int) -> tuple[tuple[date, str], ...]:
    if code.strip().upper() == "NONE":
        return ()
    country, subdiv = parse_calendar(code)
    return tuple(sorted(pyholidays.country_holidays(country, subdiv=subdiv, years=year).items()))


def holidays_between(code: str, extra: Iterable[dict], start: date, end: date) -> dict[date, str]:
    days: dict[date, str] = {}
    for year in range(start.year, end.year + 1):
        days.update(_official(code, year))
    for item in extra:
        days[date.fromisoformat(item["date"])] = item.get("name") or "Project holiday"
    return {d: n for d, n in sorted(days.items()) if start <= d <= end}


def is_business_day(day: date, holidays: set[date] | dict[date, str]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_business_days(start: date, n: int, holidays: set[date] | dict[date, str]) -> date:
    """The n-th business day after `start` (start itself never counts); n=0 is start rolled forward."""
    day = start
    if n <= 0:
        while not is_business_day(day, holidays):
            day += timedelta(days=1)
        return day
    remaining = n
    while remaining:
        day += timedelta(days=1)
        if is_business_day(day, holidays):
            remaining -= 1
    return day


def shift_business_days(day: date, n: int, holidays: set[date] | dict[date, str]) -> date:
    """`day` moved by n business days, later when n > 0 and earlier when n < 0; n=0 leaves it where it is."""
    step = timedelta(days=1 if n > 0 else -1)
    remaining = abs(n)
    while remaining:
        day += step
        if is_business_day(day, holidays):
            remaining -= 1
    return day


def business_days_between(start: date, end: date, holidays: set[date] | dict[date, str]) -> int:
    """Business days after `start` up to and including `end`; negative when end is before start."""
    if end < start:
        return -business_days_between(end, start, holidays)
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_business_day(day, holidays):
            count += 1
    return count
