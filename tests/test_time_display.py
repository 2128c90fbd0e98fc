"""How times and dates read: the viewer's zone (else the project's on its pages, else UTC), named; the viewer's date
format everywhere; preferences saved from the profile; mail in the recipient's zone and format."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from tests.conftest import agree_criteria, at_noon, make_settings
from tests.register.conftest import acting
from tracker.accounts.models import User
from tracker.core.clock import utcnow
from tracker.core.files import FileStore
from tracker.core.forms import parse
from tracker.core.web import DATE_FORMATS, display_zone, show_date, show_datetime, viewing
from tracker.deliverables import planning, reviews, submissions
from tracker.deliverables.models import ReviewAssignment
from tracker.mail import service as mail
from tracker.reports.periods import week_ending

LA = "America/Los_Angeles"


def test_a_moment_reads_in_the_viewers_zone_across_the_change_to_summer_time():
    with viewing(LA):
        # 8 Mar 2026: Los Angeles moves from PST (UTC-8) to PDT (UTC-7) at 2:00 local time.
        assert show_datetime(datetime(2026, 3, 8, 9, 59, tzinfo=UTC)) == "8 Mar 2026 01:59 PST"
        assert show_datetime(datetime(2026, 3, 8, 10, 0, tzinfo=UTC)) == "8 Mar 2026 03:00 PDT"
        # 1 Nov 2026: back to PST; and a naive value (SQLite) is UTC.
        assert show_datetime(datetime(2026, 11, 1, 8, 30)) == "1 Nov 2026 01:30 PDT"
        assert show_datetime(datetime(2026, 11, 1, 9, 30)) == "1 Nov 2026 01:30 PST"


def test_the_zone_is_named_and_a_late_moment_falls_on_the_viewers_day():
    late = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    with viewing("Asia/Tokyo"):
        assert show_datetime(late) == "7 Dec 2026 08:30 JST"
        assert show_date(late) == "7 Dec 2026"
    with viewing("Europe/London"):
        assert show_datetime(datetime(2026, 7, 1, 12, tzinfo=UTC)) == "1 Jul 2026 13:00 BST"


def test_without_a_preference_the_project_zone_else_utc():
    at = datetime(2026, 12, 6, 22, 5, tzinfo=UTC)
    with viewing():
        assert display_zone() == "UTC" and show_datetime(at) == "6 Dec 2026 22:05 UTC"
        assert display_zone(LA) == LA and show_datetime(at, LA) == "6 Dec 2026 14:05 PST"
    with viewing("Europe/Paris"):  # the viewer's own zone wins over the project's
        assert show_datetime(at, LA) == "6 Dec 2026 23:05 CET"


@pytest.mark.parametrize(
    ("key", "full", "weekday", "short"),
    [
        ("d_mon_y", "6 Dec 2026", "Sun 6 Dec 2026", "6 Dec"),
        ("mon_d_y", "Dec 6, 2026", "Sun Dec 6, 2026", "Dec 6"),
        ("iso", "2026-12-06", "Sun 2026-12-06", "12-06"),
        ("dd_mm_yyyy", "06/12/2026", "Sun 06/12/2026", "06/12"),
    ],
)
def test_each_date_format(key, full, weekday, short):
    day = date(2026, 12, 6)
    assert DATE_FORMATS[key][2] == full  # the example offered is what it gives
    with viewing(None, key):
        assert show_date(day) == full
        assert show_date(day, weekday=True) == weekday
        assert show_date(day, short=True) == short
        assert show_datetime(datetime(2026, 12, 6, 14, 5, tzinfo=UTC)) == f"{full} 14:05 UTC"


def test_a_period_is_named_by_its_friday_in_the_viewers_format():
    period = week_ending(date(2026, 12, 1))
    with viewing():
        assert period.label == "Week ending Fri 4 Dec 2026"
    with viewing(None, "iso"):
        assert period.label == "Week ending Fri 2026-12-04"


def test_the_pinned_clock_reads_in_the_viewers_zone(clock):
    clock.set(datetime(2026, 12, 6, 22, 5, tzinfo=UTC))
    with viewing(LA, "mon_d_y"):
        assert show_datetime(utcnow()) == "Dec 6, 2026 14:05 PST"


def test_preferences_are_saved_and_pages_then_read_in_that_zone(as_user, db, world, clock):
    clock.set(datetime(2026, 12, 6, 22, 5, tzinfo=UTC))
    admin = as_user("admin")  # signing in stamps last_login_at, which the users page shows
    assert "6 Dec 2026 22:05 UTC" in admin.get("/admin/users").text
    r = admin.post("/profile/preferences", {"title": "Chief", "timezone": "Asia/Tokyo", "date_format": "iso"})
    assert r.status_code == 303
    user = db.exec(select(User).where(User.username == "admin")).one()
    db.refresh(user)
    assert (user.title, user.timezone, user.date_format) == ("Chief", "Asia/Tokyo", "iso")
    assert "2026-12-07 07:05 JST" in admin.get("/admin/users").text
    profile = admin.get("/profile").text
    assert '<option value="Asia/Tokyo" selected>' in profile and '<option value="iso" selected>' in profile


def test_a_bad_zone_is_refused_beside_its_field_with_the_input_kept(as_user):
    r = as_user("viewer").post("/profile/preferences", {"title": "", "timezone": "Mars/Olympus", "date_format": "x"})
    assert r.status_code == 422
    assert 'id="f-timezone-error"' in r.text and "IANA name" in r.text
    assert '<option value="Mars/Olympus" selected>' in r.text
    assert 'id="f-date_format-error"' in r.text


def _submitted(db, world, tmp_path):
    manager, m_access = acting(db, world, "manager")
    d = planning.create(
        db,
        manager,
        m_access,
        parse(planning.DeliverableForm, {"code": "D-01", "title": "Plan", "criteria": "Has a schedule"}),
    )
    agree_criteria(db, world, d)
    contractor, c_access = acting(db, world, "contractor")
    submissions.submit(
        db, contractor, c_access, d, "", [submissions.Upload("v1.pdf", "", b"%PDF-1.4 x")], FileStore(tmp_path, 10**6)
    )
    return d, manager, m_access


def test_a_project_page_shows_the_projects_zone_to_someone_without_one(as_user, db, world, clock, tmp_path):
    clock.set(datetime(2026, 12, 6, 22, 5, tzinfo=UTC))
    d, _, _ = _submitted(db, world, tmp_path)
    db.commit()
    url = f"/projects/{world.project_key}/deliverables/{d.id}"
    assert "6 Dec 2026 14:05 PST" in as_user("manager").get(url).text  # TST keeps Los Angeles time
    viewer = db.get(User, world.ids["viewer"])
    viewer.timezone = "UTC"
    db.commit()
    assert "6 Dec 2026 22:05 UTC" in as_user("viewer").get(url).text


def test_a_reminder_reads_in_its_recipients_date_format(db, world, database_url, clock, tmp_path):
    d, manager, m_access = _submitted(db, world, tmp_path)
    reviews.start_review(db, manager, m_access, d, [world.ids["staff"]])
    db.commit()
    due = db.exec(select(ReviewAssignment.due_date).where(ReviewAssignment.reviewer_id == world.ids["staff"])).one()
    clock.set(at_noon(due - timedelta(days=1)))
    staff = db.get(User, world.ids["staff"])
    staff.date_format, staff.timezone = "dd_mm_yyyy", "Europe/Paris"
    settings = make_settings(database_url, base_url="https://tracker.example.gov")
    (reminder,) = mail.reminders_for(db, settings, staff)
    assert f"is due {due:%d/%m/%Y}" in reminder.text
    with mail.for_recipient(staff):
        assert show_datetime(datetime(2026, 12, 6, 22, 5, tzinfo=UTC)) == "06/12/2026 23:05 CET"
