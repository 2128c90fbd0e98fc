"""Reporting periods: by default the week ending Friday, on the project's calendar; and where a month ends."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from tracker.core.web import show_date

FRIDAY = 4


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def label(self) -> str:
        """ "Week ending Fri 4 Dec 2026" (capital as a title; lower it mid-sentence), in the viewer's date format."""
        return (
            f"Week ending {show_date(self.end, weekday=True)}"
            if (self.end - self.start).days == 6
            else f"{show_date(self.start)} – {show_date(self.end)}"
        )

    def previous(self) -> Period:
        length = (self.end - self.start).days + 1
        return Period(self.start - timedelta(days=length), self.start - timedelta(days=1))


def week_ending(day: date) -> Period:
    """The Saturday-to-Friday week that contains `day` (a weekend day belongs to the week ending next Friday)."""
    end = day + timedelta(days=(FRIDAY - day.weekday()) % 7)
    return Period(end - timedelta(days=6), end)


def last_weeks(day: date, n: int = 12) -> list[Period]:
    """The n weeks ending Friday up to and including the one containing `day`, oldest first."""
    current = week_ending(day)
    weeks = [current]
    for _ in range(n - 1):
        weeks.append(weeks[-1].previous())
    return weeks[::-1]


def month_end(month: date) -> date:
    """The last day of the month `month` is in."""
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])
