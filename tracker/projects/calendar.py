"""A project's calendar: its "today" in its own time zone, its holidays, and due dates counted in its business days."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tracker.core.calendar import add_business_days, holidays_between, shift_business_days
from tracker.core.clock import today_in
from tracker.projects.models import Project


def project_today(project: Project, now: datetime | None = None) -> date:
    """Clocks run on the project's calendar day, not the server's."""
    return today_in(project.timezone) if now is None else now.astimezone(ZoneInfo(project.timezone)).date()


def project_holidays(project: Project, start: date, days: int = 400) -> dict[date, str]:
    return holidays_between(project.holiday_calendar, project.extra_holidays, start, start + timedelta(days=days))


def due_after(project: Project, start: date, business_days: int) -> date:
    return add_business_days(start, business_days, project_holidays(project, start, days=business_days * 3 + 60))


def shift_due(project: Project, day: date, business_days: int) -> date:
    """A due date moved by a number of the project's business days, earlier when negative (a change request)."""
    span = timedelta(days=abs(business_days) * 3 + 60)
    return shift_business_days(
        day, business_days, holidays_between(project.holiday_calendar, project.extra_holidays, day - span, day + span)
    )
