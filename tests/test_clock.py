"""The one clock: the demo's replay, the tests' pin, and nothing in the app that asks the machine for the time."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conftest import TEST_NOW
from tracker.core.clock import frozen_time, latest_today, today_in, utcnow

ROOT = Path(__file__).resolve().parents[1]


def test_frozen_time_stops_the_clock_and_restores_it():
    then = datetime(2026, 3, 2, 17, 30, tzinfo=timezone(timedelta(hours=-8)))
    before = utcnow()
    with frozen_time(then):
        assert utcnow() == then and utcnow().tzinfo is UTC
        with frozen_time(then + timedelta(days=1)):
            assert utcnow() == then + timedelta(days=1)
        assert utcnow() == then
    assert timedelta(0) <= utcnow() - before < timedelta(seconds=5)
    with pytest.raises(ValueError), frozen_time(datetime(2026, 3, 2)):
        pass


def test_the_run_happens_at_the_pinned_instant_in_every_thread():
    seen = []
    thread = threading.Thread(target=lambda: seen.append(utcnow()))
    thread.start()
    thread.join()
    assert (
        timedelta(0) <= seen[0] - TEST_NOW < timedelta(hours=6)
    )  # the whole run (however slow the machine), not its date


def test_a_test_can_set_the_clock_and_it_is_given_back(clock):
    clock.set(datetime(2028, 2, 29, 23, 59, tzinfo=UTC))
    assert today_in("UTC") == date(2028, 2, 29)
    assert today_in("America/Los_Angeles") == date(2028, 2, 29)
    assert today_in("Pacific/Auckland") == date(2028, 3, 1)
    assert latest_today() == date(2028, 3, 1)
    clock.advance(minutes=2)
    assert today_in("UTC") == date(2028, 3, 1)


def test_the_clock_is_back_at_the_runs_instant_after_a_test_moved_it():
    assert timedelta(0) <= utcnow() - TEST_NOW < timedelta(hours=6)


# Anything that reads the machine's clock directly. Only tracker/core/clock.py may.
BYPASS = re.compile(
    r"\b(?:date\.today|datetime\.now|datetime\.utcnow|datetime\.today|time\.time|time\.localtime|"
    r"time\.gmtime)\(|\bfunc\.(?:now|current_date|current_timestamp)\b|CURRENT_(?:DATE|TIMESTAMP)|"
    r"'now'"
)


def test_nothing_in_the_app_reads_the_machines_clock_but_the_clock():
    offenders = []
    for path in sorted((ROOT / "tracker").rglob("*.py")) + sorted((ROOT / "templates").rglob("*.html")):
        if path == ROOT / "tracker" / "core" / "clock.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            if BYPASS.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []
