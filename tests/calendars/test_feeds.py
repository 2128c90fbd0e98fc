"""Calendar feeds: each persona's feeds hold what their role may see, as all-day events calendar apps can read; the
token is the only credential, reset makes the old address answer 404, and a feed reads a fixed number of queries."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from tests.conftest import agree_criteria, tst_today
from tests.register.conftest import acting, make_risk
from tracker.accounts.models import User
from tracker.calendars.models import CalendarFeed
from tracker.core.clock import utcnow
from tracker.core.files import FileStore
from tracker.core.forms import parse
from tracker.deliverables import decisions, planning, reviews, submissions
from tracker.projects.models import Membership
from tracker.register.actions import service as actions

REGISTER_READERS = ("manager", "staff", "viewer", "admin")


def _plan(db, world, code: str, days: int = 60):
    d = planning.create(
        db,
        *acting(db, world, "manager"),
        parse(
            planning.DeliverableForm,
            {
                "code": code,
                "title": f"Plan {code}",
                "criteria": "Covers every interface",
                "owner_id": str(world.ids["staff"]),
                "due_date": (tst_today() + timedelta(days=days)).isoformat(),
            },
        ),
    )
    agree_criteria(db, world, d)
    return d


def _submit(db, world, d, store) -> None:
    submissions.submit(db, *acting(db, world, "contractor"), d, "", [submissions.Upload("v.pdf", "", b"%PDF")], store)


@pytest.fixture
def dated(db, world, tmp_path) -> dict[str, int]:
    """A planned deliverable, one under review, one accepted with a condition, and a risk with an action item."""
    store = FileStore(tmp_path, 1024 * 1024)
    planned = _plan(db, world, "D-01", days=10)  # due soon: on the contractor's My work too
    in_review, conditional = (_plan(db, world, f"D-0{i}") for i in (2, 3))
    _submit(db, world, in_review, store)
    _submit(db, world, conditional, store)
    manager, m_access = acting(db, world, "manager")
    reviews.start_review(db, manager, m_access, conditional)
    form = {
        "outcome": "conditionally_accepted",
        "conditions": "Fix typos",
        "conditions_owner_id": str(world.ids["contractor"]),
        "conditions_due": (tst_today() + timedelta(days=20)).isoformat(),
    }
    decisions.decide(db, manager, m_access, conditional, parse(decisions.DecisionForm, form), store=store)
    risk = make_risk(db, world)
    action = actions.add(
        db,
        *acting(db, world, "staff"),
        risk,
        parse(
            actions.ActionForm,
            {
                "description": "Sample the legacy data",
                "plan": "mitigation",
                "owner_id": str(world.ids["staff"]),
                "due_date": (tst_today() + timedelta(days=5)).isoformat(),
            },
        ),
    )
    db.commit()
    return {
        "planned": planned.id,
        "in_review": in_review.id,
        "conditional": conditional.id,
        "risk": risk.id,
        "action": action.id,
    }


def _address(page: str) -> str:
    match = re.search(r'id="calendar-url"[^>]*value="([^"]+)"', page)
    assert match, "the page shows no feed address"
    return match.group(1)


def _subscribe(b, project: str | None = "TST") -> str:
    """Creates the feed from its page (profile or project) and returns the address's path."""
    action = f"/projects/{project}/calendar" if project else "/profile/calendar"
    r = b.post(action, {})
    assert r.status_code == 303, r.text
    return urlsplit(_address(b.get(f"/projects/{project}" if project else "/profile").text)).path


def _read(client, path: str) -> Calendar:
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/calendar")
    return Calendar.from_ical(r.content)


def _uids(cal: Calendar) -> set[str]:
    return {str(e["UID"]) for e in cal.walk("VEVENT")}


def test_a_project_feed_opens_in_calendar_apps_without_a_session(as_user, client, dated):
    path = _subscribe(as_user("manager"))
    assert path.startswith("/calendars/cal_") and path.endswith(".ics")
    r = client.get(path)
    assert r.headers["content-type"] == "text/calendar; charset=utf-8" and "set-cookie" not in r.headers
    raw = r.content.decode()
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in raw and "X-PUBLISHED-TTL:PT1H" in raw
    cal = _read(client, path)
    assert str(cal["VERSION"]) == "2.0" and str(cal["PRODID"]).startswith("-//Tracker//")
    assert str(cal["X-WR-CALNAME"]) == "Tracker: TST · Test Programme"
    assert str(cal["X-WR-TIMEZONE"]) == "America/Los_Angeles"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["America/Los_Angeles"]
    events = cal.walk("VEVENT")
    assert events and all(type(e.decoded("DTSTART")) is date for e in events)  # all-day: VALUE=DATE
    assert all(e.decoded("DTEND") - e.decoded("DTSTART") == timedelta(days=1) for e in events)
    assert "DTSTART;VALUE=DATE:" in raw
    now = utcnow()  # the app's clock (pinned at the run's start, it has moved on since)
    assert all(abs(e.decoded("DTSTAMP") - now) < timedelta(minutes=1) for e in events)
    assert "DTSTAMP:" in raw and raw.split("DTSTAMP:")[1][15] == "Z"  # in UTC
    due = next(e for e in events if str(e["UID"]) == f"deliverable-{dated['planned']}-due@127.0.0.1")
    assert str(due["SUMMARY"]) == "TST D-01 delivery due: Plan D-01"
    assert due.decoded("DTSTART") == tst_today() + timedelta(days=10)
    assert str(due["URL"]) == f"http://127.0.0.1:8000/projects/TST/deliverables/{dated['planned']}"
    assert str(due["URL"]) in str(due["DESCRIPTION"])
    assert _uids(_read(client, path)) == _uids(cal)  # stable across requests


def test_each_role_gets_the_project_dates_it_may_see(as_user, client, dated):
    deliverables = {
        f"deliverable-{dated['planned']}-due@127.0.0.1",
        f"deliverable-{dated['in_review']}-review@127.0.0.1",
        f"condition-{_condition_id(client, as_user, dated)}-due@127.0.0.1",
    }
    register = {f"action-{dated['action']}-due@127.0.0.1", f"risk-{dated['risk']}-review@127.0.0.1"}
    for persona in (*REGISTER_READERS, "contractor"):
        cal = _read(client, _subscribe(as_user(persona)))
        uids = _uids(cal)
        reports = [e for e in cal.walk("VEVENT") if "status-report" in str(e["UID"])]
        if persona == "contractor":
            assert uids == deliverables and not reports, persona
        else:
            assert uids - {str(r["UID"]) for r in reports} == deliverables | register, persona
            (report,) = reports
            assert report.decoded("DTSTART").weekday() == 4  # the week ends on Friday
            assert report["RRULE"]["FREQ"] == ["WEEKLY"]


def _condition_id(client, as_user, dated) -> int:
    page = as_user("manager").get(f"/projects/TST/deliverables/{dated['conditional']}").text
    return int(re.search(r'id="condition-(\d+)"', page).group(1))


def test_an_outsider_has_no_feed_of_a_project_they_do_not_belong_to(as_user, db):
    outsider = as_user("outsider")
    assert outsider.post("/projects/TST/calendar", {}).status_code == 404
    assert "calendar-h" not in outsider.get("/projects/TST").text
    assert db.exec(select(CalendarFeed)).all() == []


def test_my_feed_holds_my_work_dates_and_nothing_my_role_may_not_see(as_user, client, dated):
    staff = _read(client, _subscribe(as_user("staff"), None))
    assert str(staff["X-WR-CALNAME"]) == "Tracker: Staff Person's work"
    summaries = {str(e["SUMMARY"]) for e in staff.walk("VEVENT")}
    assert "TST R-001: Sample the legacy data" in summaries  # their action item
    assert "TST D-02: Plan D-02" in summaries  # the review they lead
    path = _subscribe(as_user("contractor"), None)
    contractor = _read(client, path)
    summaries = {str(e["SUMMARY"]) for e in contractor.walk("VEVENT")}
    assert "TST D-01: Plan D-01" in summaries and "TST D-03: Plan D-03" in summaries  # a delivery and a condition
    assert not any("R-" in s for s in summaries)
    assert all(type(e.decoded("DTSTART")) is date for e in contractor.walk("VEVENT"))
    assert _uids(_read(client, path)) == _uids(contractor)


@pytest.mark.parametrize("persona", ["manager", "staff", "contractor", "viewer", "admin", "outsider"])
def test_every_persona_has_a_my_work_feed_of_their_own_projects_only(as_user, client, dated, persona):
    """TST's dates reach only its members with something to do there: the viewer has none, the admin (who administers
    TST without belonging to it) none, and the outsider only OTH's, where they manage (its status report to publish)."""
    cal = _read(client, _subscribe(as_user(persona), None))
    summaries = [str(e["SUMMARY"]) for e in cal.walk("VEVENT")]
    own = "OTH " if persona == "outsider" else "TST "
    assert all(s.startswith(own) for s in summaries), summaries
    assert bool(summaries) == (persona not in ("viewer", "admin")), summaries


def test_only_a_hash_of_the_token_is_stored(as_user, db):
    path = _subscribe(as_user("viewer"))
    token = path.removeprefix("/calendars/").removesuffix(".ics")
    (feed,) = db.exec(select(CalendarFeed)).all()
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(feed.model_dump())


def test_reset_makes_the_old_address_answer_404(as_user, client, db):
    manager = as_user("manager")
    old = _subscribe(manager, None)
    (feed,) = db.exec(select(CalendarFeed)).all()
    r = manager.post("/profile/calendar", {"version": str(feed.version)})
    assert r.status_code == 303 and r.headers["location"] == "/profile#calendar"
    new = urlsplit(_address(manager.get("/profile").text)).path
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_a_stale_or_missing_version_does_not_reset(as_user, client, db):
    manager = as_user("manager")
    path = _subscribe(manager)
    (feed,) = db.exec(select(CalendarFeed)).all()
    assert manager.post("/projects/TST/calendar", {"version": str(feed.version + 5)}).status_code == 409
    assert manager.post("/projects/TST/calendar", {}).status_code == 400
    assert client.get(path).status_code == 200


def test_reset_by_htmx_answers_the_section_with_the_new_address(as_user, db, world):
    staff = as_user("staff")
    _subscribe(staff)
    (feed,) = db.exec(select(CalendarFeed)).all()
    r = staff.post("/projects/TST/calendar", {"version": str(feed.version)}, htmx=True)
    assert feed.version == 1 and db.get(CalendarFeed, feed.id, populate_existing=True).version == 2
    assert r.status_code == 200 and r.text.lstrip().startswith('<section id="calendar"')
    assert "/calendars/cal_" in _address(r.text) and "<html" not in r.text
    assert "risk reviews" in r.text
    contractor = as_user("contractor")
    assert "risk reviews" not in contractor.get("/projects/TST").text  # the page names only what the role sees
    _subscribe(contractor)
    (mine,) = db.exec(select(CalendarFeed).where(CalendarFeed.user_id == world.ids["contractor"])).all()
    r = contractor.post("/projects/TST/calendar", {"version": str(mine.version)}, htmx=True)
    assert r.status_code == 200 and "risk reviews" not in r.text


@pytest.mark.parametrize("path", ["/calendars/cal_unknown.ics", "/calendars/nothing.ics", "/calendars/cal_x.txt"])
def test_an_unknown_token_answers_404(client, path):
    assert client.get(path).status_code == 404


def test_a_deactivated_persons_feeds_answer_404(as_user, client, db):
    staff = as_user("staff")
    mine, project = _subscribe(staff, None), _subscribe(staff)
    db.get(User, db.exec(select(User.id).where(User.username == "staff")).one()).is_active = False
    db.commit()
    assert client.get(mine).status_code == 404 and client.get(project).status_code == 404


def test_a_person_who_leaves_the_project_loses_its_feed(as_user, client, db, world):
    path = _subscribe(as_user("viewer"))
    db.delete(db.exec(select(Membership).where(Membership.user_id == world.ids["viewer"])).one())
    db.commit()
    assert client.get(path).status_code == 404


def test_a_feed_reads_a_fixed_number_of_queries_however_much_it_holds(as_user, client, db, world, count_queries):
    manager = as_user("manager")
    project, mine = _subscribe(manager), _subscribe(manager, None)
    _plan(db, world, "D-01")
    make_risk(db, world)
    db.commit()
    with count_queries() as few:
        _read(client, project)
        _read(client, mine)
    for i in range(2, 9):
        _plan(db, world, f"D-{i:02d}")
        make_risk(db, world, title=f"Risk {i}")
    db.commit()
    with count_queries() as many:
        cal = _read(client, project)
        _read(client, mine)
    assert len(cal.walk("VEVENT")) >= 16 and many.count == few.count


def test_a_person_has_one_my_work_feed_and_one_feed_per_project(db, world):
    """A reset must reach every address a person was given, so two requests at once cannot make a second one."""
    for project_id in (None, db.exec(select(Membership.project_id)).first()):
        db.add(CalendarFeed(user_id=world.ids["staff"], project_id=project_id, salt="a", token_hash=f"a{project_id}"))
        db.flush()
        with pytest.raises(IntegrityError), db.begin_nested():
            db.add(
                CalendarFeed(user_id=world.ids["staff"], project_id=project_id, salt="b", token_hash=f"b{project_id}")
            )
            db.flush()
