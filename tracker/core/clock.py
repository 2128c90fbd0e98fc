"""The one clock: every "now" (a UTC instant) and every "today" (a day in a time zone) in the application reads it.

Nothing else in the code asks the machine for the time (tests/test_clock.py holds the code to that), so the demo
can replay a history at each step's own moment and the tests can pin the clock to any instant they choose."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_frozen: ContextVar[datetime | None] = ContextVar("frozen_now", default=None)
_pinned: tuple[datetime, float] | None = None  # (instant, monotonic reading when pinned): the process-wide clock


def utcnow() -> datetime:
    """The current instant, in UTC."""
    if (at := _frozen.get()) is not None:
        return at
    if _pinned is not None:
        at, since = _pinned
        return at + timedelta(seconds=time.monotonic() - since)
    return datetime.now(UTC)


def as_utc(at: datetime) -> datetime:
    """A stored moment as an aware datetime: the database holds UTC, and SQLite hands it back naive."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def today_in(zone: str) -> date:
    """The calendar day it is now in the time zone `zone` (an IANA name such as America/Los_Angeles)."""
    return utcnow().astimezone(ZoneInfo(zone)).date()


UPCOMING_DAYS = 14  # DESIGN.md's "the next two weeks"


def deadline_state(due: date | None, today: date, soon: int = UPCOMING_DAYS) -> str | None:
    """The arithmetic of every "overdue" and "upcoming" list and badge: "overdue" once the day has passed, "upcoming"
    when it falls in the next `soon` days (today included; two weeks unless a clock says otherwise), else None.
    Which date and which window is each clock's: the table in tracker/clocks.py."""
    if due is None:
        return None
    if due < today:
        return "overdue"
    return "upcoming" if due <= today + timedelta(days=soon) else None


def latest_today() -> date:
    """The latest calendar day anywhere on Earth now (UTC+14): a bound for a query across projects in several time
    zones, whose rows are then held to each project's own day."""
    return today_in("Etc/GMT-14")


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("the clock needs a timezone-aware datetime")
    return at.astimezone(UTC)


@contextmanager
def frozen_time(at: datetime) -> Iterator[None]:
    """Inside, in this thread of control only, the clock stands still at `at`: the demo replays a history step by
    step at each step's own time, so timestamps, audit rows and business-day clocks come out as the app would have
    written them."""
    token = _frozen.set(_aware(at))
    try:
        yield
    finally:
        _frozen.reset(token)


def pin(at: datetime | None) -> None:
    """Set the clock of the whole process (every thread: the app under test, live servers) to `at`, from where it
    runs on at the real pace; None gives it back to the machine. For tests."""
    global _pinned
    _pinned = None if at is None else (_aware(at), time.monotonic())
