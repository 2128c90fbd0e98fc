"""Calendar feeds: their secret addresses (made, reset, found by token) and what each feed holds, as iCalendar.

A person's feed holds their My work dates across their projects; a project feed holds the project's dates their role
may see (the permission table decides: deliverables for every member, the register's dates and the status report's
days for those who read the register). Dates are all-day events on the project's own calendar day."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

from icalendar import Calendar, Event, Timezone
from sqlmodel import Session, and_, col, or_, select

from tracker import clocks
from tracker.accounts.models import User
from tracker.accounts.service import Principal, principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.calendars.models import CalendarFeed
from tracker.core.clock import utcnow
from tracker.core.errors import AppError, NotFound
from tracker.deliverables.models import Condition, Deliverable
from tracker.deliverables.workflow import Status
from tracker.home import service as home
from tracker.projects import service as projects
from tracker.projects.calendar import project_today
from tracker.projects.models import Project
from tracker.projects.permissions import Perm
from tracker.register.actions.models import ActionItem
from tracker.register.actions.service import PARENT_CODE, back_url, with_parents
from tracker.register.risks.models import Risk
from tracker.reports.periods import week_ending
from tracker.settings import Settings

TOKEN_PREFIX = "cal_"
PRODID = "-//Tracker//Calendar feeds 1.0//EN"
REFRESH = timedelta(hours=1)  # how often calendar apps are asked to fetch the feed again (X-PUBLISHED-TTL too)
# The word after a deliverable's id in an event's UID, per running clock (deliverable-12-due@host).
CLOCK_WORDS = {clocks.DELIVERY.key: "due", clocks.REVIEW.key: "review", clocks.RESUBMISSION.key: "resubmission"}

history.register(nouns={"calendar_feed": "calendar feed"}, verbs={"reset": "reset the address of"})


# --- addresses ---------------------------------------------------------------------------------------------------


def _token(settings: Settings, salt: str) -> str:
    digest = hmac.new(settings.derived_key("calendar"), salt.encode(), hashlib.sha256).digest()
    return TOKEN_PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_of(db: Session, user_id: int, project_id: int | None = None) -> CalendarFeed | None:
    """The person's own feed (no project) or their feed of one project; None until they ask for one."""
    where = CalendarFeed.project_id == project_id if project_id else col(CalendarFeed.project_id).is_(None)
    return db.exec(select(CalendarFeed).where(CalendarFeed.user_id == user_id, where)).first()


def address(settings: Settings, feed: CalendarFeed | None) -> str | None:
    """The feed's URL, or None when there is none yet or the server's key has changed since (reset gives a new one)."""
    if feed is None:
        return None
    token = _token(settings, feed.salt)
    if not hmac.compare_digest(_hash(token), feed.token_hash):
        return None
    return f"{settings.base_url.rstrip('/')}/calendars/{token}.ics"


def reset(db: Session, settings: Settings, user: Principal, project: Project | None, seen: int | None) -> CalendarFeed:
    """A new address for the person's feed (of `project`, else of their My work; the first one, the first time): the
    old address answers 404 from now on. An existing feed is reset only from the version the page showed (409 when
    stale, 400 without it)."""
    project_id = project.id if project else None
    salt = secrets.token_hex(16)
    token_hash = _hash(_token(settings, salt))
    feed = feed_of(db, user.id, project_id)
    if feed is None:
        feed = CalendarFeed(user_id=user.id, project_id=project_id, salt=salt, token_hash=token_hash)
        db.add(feed)
        action = "create"
    else:
        if seen is None:
            raise AppError(detail="This form is missing the version it was read at; reload the page.")
        feed.check_seen(seen, {}, "The feed's address was reset elsewhere since this page was loaded; reload it.")
        feed.salt, feed.token_hash, feed.reset_at = salt, token_hash, utcnow()
        action = "reset"
    db.flush()
    label = project.key if project else "My work"
    audit.record(db, actor_id=user.id, entity=feed, label=label, action=action, changes={}, project_id=project_id)
    return feed


@dataclass(frozen=True)
class Found:
    feed: CalendarFeed
    user: Principal
    access: projects.Access | None  # a project feed: the project as its person may use it today


def find(db: Session, token: str) -> Found:
    """The feed a token opens: 404 for an unknown or reset token, a deactivated person, or a project they have left."""
    missing = NotFound(detail="No such calendar.")
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise missing
    row = db.exec(
        select(CalendarFeed, User, Project.key)
        .join(User, col(User.id) == CalendarFeed.user_id)
        .outerjoin(Project, col(Project.id) == CalendarFeed.project_id)
        .where(CalendarFeed.token_hash == _hash(token))
    ).first()
    if row is None or not row[1].is_active:
        raise missing
    feed, user, key = row
    person = principal(user)
    if key is None:
        return Found(feed, person, None)
    try:
        access = projects.get_for(db, person, key)
    except NotFound:
        raise missing from None
    return Found(feed, person, access)


# --- what a feed holds --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One all-day event: `uid` before the host, `path` of the record's page."""

    uid: str
    day: date
    summary: str
    path: str
    description: str = ""
    weekly: bool = False  # repeats every week from `day`
    until: date | None = None  # the last day it repeats on, if it ends


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def my_entries(db: Session, user: Principal) -> list[Entry]:
    """The dated items of the person's My work, as My work lists them (so what they may see)."""
    return [
        Entry(
            f"{item.kind}-{_slug(item.ref or item.url)}",
            item.due,
            f"{item.project_key} {item.code}: {item.title}",
            item.url,
            f"{section.title}{': ' + item.detail if item.detail else ''}",
        )
        for section in home.my_work(db, user)
        for item in section.items
        if item.due is not None
    ]


def _deliverables(db: Session, key: str, project_id: int) -> list[Entry]:
    running = [and_(c.running_clause(), col(c.due_column).is_not(None)) for c in clocks.RUNNING]
    stmt = select(Deliverable).where(Deliverable.project_id == project_id, or_(*running)).order_by(Deliverable.code)
    out = []
    for d in db.exec(stmt):
        clock = clocks.running_for(d.status)
        out.append(
            Entry(
                f"deliverable-{d.id}-{CLOCK_WORDS[clock.key]}",
                clock.due(d),
                f"{key} {d.code} {clock.label.lower()}: {d.title}",
                f"/projects/{key}/deliverables/{d.id}",
                clock.label,
            )
        )
    return out


def _conditions(db: Session, key: str, project_id: int) -> list[Entry]:
    stmt = (
        select(Condition, Deliverable.code)
        .join(Deliverable, col(Deliverable.id) == Condition.deliverable_id)
        .where(
            Deliverable.project_id == project_id,
            Deliverable.status == Status.CONDITIONALLY_ACCEPTED,
            clocks.CONDITION.running_clause(),
        )
        .order_by(Condition.id)
    )
    return [
        Entry(
            f"condition-{c.id}-due",
            clocks.CONDITION.due(c),
            f"{key} {code} condition {c.position} due",
            f"/projects/{key}/deliverables/{c.deliverable_id}#condition-{c.id}",
            c.text,
        )
        for c, code in db.exec(stmt)
    ]


def _actions(db: Session, key: str, project_id: int) -> list[Entry]:
    stmt = (
        with_parents(select(ActionItem, PARENT_CODE))
        .where(
            ActionItem.project_id == project_id,
            clocks.ACTION.running_clause(),
            col(ActionItem.due_date).is_not(None),
        )
        .order_by(ActionItem.id)
    )
    return [
        Entry(
            f"action-{a.id}-due",
            clocks.ACTION.due(a),
            f"{key} {parent} action item due",
            back_url(key, a),
            a.description,
        )
        for a, parent in db.exec(stmt)
    ]


def _risk_reviews(db: Session, key: str, project_id: int) -> list[Entry]:
    stmt = select(Risk).where(
        Risk.project_id == project_id,
        clocks.RISK_REVIEW.running_clause(),
        col(Risk.next_review_date).is_not(None),
    )
    return [
        Entry(
            f"risk-{r.id}-review",
            clocks.RISK_REVIEW.due(r),
            f"{key} {r.code} risk review due: {r.title}",
            f"/projects/{key}/risks/{r.id}",
            clocks.RISK_REVIEW.label,
        )
        for r in db.exec(stmt.order_by(Risk.code))
    ]


def _report_days(access: projects.Access) -> Entry:
    """The weekly status report's period end, every week of the project (its start, else its creation, to its end)."""
    project = access.project
    first = project.start_date or project_today(project, project.created_at)
    return Entry(
        f"project-{project.id}-status-report",
        week_ending(first).end,
        f"{project.key} status report: week ends",
        f"/projects/{project.key}/status-reports",
        "The period of the weekly status report ends today; its draft is published from then on.",
        weekly=True,
        until=week_ending(project.end_date).end if project.end_date else None,
    )


def project_entries(db: Session, access: projects.Access) -> list[Entry]:
    """The project's dates its person's role may see: one query per kind of record, however many records."""
    key, pid = access.project.key, access.project.id
    out: list[Entry] = []
    if access.can(Perm.VIEW):
        out += _deliverables(db, key, pid) + _conditions(db, key, pid)
    if access.can(Perm.VIEW_REGISTER):
        out += _actions(db, key, pid) + _risk_reviews(db, key, pid) + [_report_days(access)]
    return out


# --- iCalendar ----------------------------------------------------------------------------------------------------


def to_ical(name: str, entries: list[Entry], base_url: str, zone: str | None = None) -> bytes:
    base = base_url.rstrip("/")
    host = urlsplit(base).hostname or "tracker"
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")  # Outlook's name for REFRESH-INTERVAL
    if zone:
        cal.add("x-wr-timezone", zone)
        cal.add_component(Timezone.from_tzid(zone))
    stamp = utcnow()
    for e in entries:
        url = base + e.path
        event = Event()
        event.add("uid", f"{e.uid}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", e.day)  # a date, so VALUE=DATE: an all-day event
        event.add("dtend", e.day + timedelta(days=1))
        event.add("summary", e.summary)
        event.add("description", f"{e.description}\n{url}" if e.description else url)
        event.add("url", url)
        event.add("transp", "TRANSPARENT")  # a due date does not make anyone busy
        if e.weekly:
            event.add("rrule", {"freq": "weekly", **({"until": e.until} if e.until else {})})
        cal.add_component(event)
    return cal.to_ical()


def feed_ical(db: Session, found: Found, base_url: str) -> bytes:
    if found.access is None:
        return to_ical(f"Tracker: {found.user.full_name}'s work", my_entries(db, found.user), base_url)
    project = found.access.project
    return to_ical(
        f"Tracker: {project.key} · {project.name}", project_entries(db, found.access), base_url, project.timezone
    )
