"""Users, projects and memberships of the benchmark portfolio, and each project's calendar as its records need it."""

from __future__ import annotations

import random
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import cycle
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from tracker.accounts.service import USER_FIELDS, hash_password
from tracker.audit.service import snapshot
from tracker.core.calendar import holidays_between, is_business_day
from tracker.core.web import DEFAULT_DATE_FORMAT
from tracker.demo.bench import texts
from tracker.demo.bench.rows import Store
from tracker.projects.models import DeemedPolicy, Role
from tracker.projects.service import PROJECT_FIELDS

PASSWORD = "bench-password"
# The known logins of the load test: every project's member in the matching role; the admin administers all.
LOGINS = {
    "bench-admin": None,
    "bench-manager": Role.MANAGER,
    "bench-staff": Role.STAFF,
    "bench-contractor": Role.CONTRACTOR,
    "bench-viewer": Role.VIEWER,
}
# Members per project besides the bench logins: (managers, staff, contractors, viewers) as (low, high).
TEAM_LARGEST = ((2, 2), (20, 20), (8, 8), (5, 5))
TEAM = ((1, 1), (4, 8), (2, 4), (1, 3))


@dataclass
class Site:
    """One project: its settings, business days (the project's holiday calendar), people, and deliverables so far."""

    id: int
    key: str
    zone: ZoneInfo
    review_days: int
    resubmit_days: int
    deemed_days: int | None  # None: the never-deemed policy (an overdue review escalates)
    days: list[date]
    midnights: list[datetime]  # UTC moment of each business day's local midnight
    first: int  # index of the project's start
    last: int  # index of the last business day before today: everything generated happened by then
    today: date
    now: datetime
    managers: list[int] = field(default_factory=list)
    staff: list[int] = field(default_factory=list)
    contractors: list[int] = field(default_factory=list)
    viewers: list[int] = field(default_factory=list)
    reviewers: list[int] = field(default_factory=list)  # managers and staff: who reviews and edits the register
    owners: list[int] = field(default_factory=list)  # who may own a risk, an issue or an action item
    deliverables: list[tuple[int, int, str]] = field(default_factory=list)  # (planned on index, id, code)

    def at(self, index: int, hour: int, minute: int = 0) -> datetime:
        return self.midnights[index] + timedelta(hours=hour, minutes=minute)

    def index(self, day: date) -> int:
        """The first business day on or after `day`."""
        return bisect_left(self.days, day)

    def tick(self, day: date) -> datetime:
        """The contract clock's first run on a calendar day (every server runs it every few minutes)."""
        return min(datetime.combine(day, time(0, 5), self.zone).astimezone(UTC), self.now - timedelta(minutes=1))


@dataclass
class People:
    names: dict[int, str]  # id: full name
    logins: dict[str, int]  # bench username: id
    state: list[int]
    leaders: list[int]
    contractors: dict[str, list[int]]  # integrator: its staff


def make_users(store: Store, rng: random.Random, count: int, at: datetime) -> People:
    password_hash = hash_password(PASSWORD)  # once: the same known password for everyone
    rest = count - len(LOGINS)
    n_contractors, n_leaders = max(1, rest // 4), max(1, rest * 7 // 100)
    kinds = ["contractor"] * n_contractors + ["leader"] * n_leaders + ["state"] * (rest - n_contractors - n_leaders)
    names = [(f, la) for la in texts.LAST_NAMES for f in texts.FIRST_NAMES]
    rng.shuffle(names)
    people = People({}, {}, [], [], {})
    admin_id = None
    specs = [(u, "Bench " + u.split("-")[1].title(), "Benchmark login", texts.DEPARTMENTS[0], "login") for u in LOGINS]
    for n, kind in enumerate(kinds):
        first, last = names[n]
        if kind == "contractor":
            org, title = texts.INTEGRATORS[n % len(texts.INTEGRATORS)], rng.choice(texts.CONTRACTOR_TITLES)
        else:
            org = texts.DEPARTMENTS[n % len(texts.DEPARTMENTS)]
            title = rng.choice(texts.LEADER_TITLES if kind == "leader" else texts.STATE_TITLES)
        specs.append((f"{first[0]}{last}{n}".lower(), f"{first} {last}", title, org, kind))
    for n, (username, full_name, title, org, kind) in enumerate(specs):
        created = at + timedelta(seconds=n)
        values = {
            "username": username,
            "full_name": full_name,
            "title": title,
            "organization": org,
            "email": f"{username}@{'example.com' if kind == 'contractor' else 'example.gov'}",
            "is_admin": username == "bench-admin",
            "is_active": True,
        }
        user_id = store["app_user"].add(
            created,
            **values,
            password_hash=password_hash,
            session_epoch=0,
            timezone="",  # none chosen: each project's own zone on its pages
            date_format=DEFAULT_DATE_FORMAT,
            created_at=created,
            last_login_at=None,
            version=1,
        )
        store.trail.add(
            created,
            admin_id,
            None,
            "app_user",
            user_id,
            username,
            "create",
            {f: [None, values[f]] for f in USER_FIELDS},
        )
        admin_id = admin_id or user_id
        people.names[user_id] = full_name
        if kind == "login":
            people.logins[username] = user_id
        elif kind == "contractor":
            people.contractors.setdefault(org, []).append(user_id)
        else:
            (people.leaders if kind == "leader" else people.state).append(user_id)
    return people


def make_projects(store: Store, rng: random.Random, people: People, count: int, now: datetime) -> list[Site]:
    """The largest project first. Starts spread over the last two and a half years."""
    admin = people.logins["bench-admin"]
    state, leaders = cycle(people.state), cycle(people.leaders)
    fallback = next(iter(people.contractors.values()))
    firms = {firm: cycle(people.contractors.get(firm, fallback)) for firm in texts.INTEGRATORS}
    sites = []
    for n, (key, name) in enumerate(programmes(count)):
        zone_name, calendar = texts.ZONES[n % len(texts.ZONES)], texts.CALENDARS[n % len(texts.CALENDARS)]
        zone = ZoneInfo(zone_name)
        start = (now - timedelta(days=900 if n == 0 else rng.randint(420, 840))).astimezone(zone).date()
        integrator = texts.INTEGRATORS[n % len(texts.INTEGRATORS)]
        deemed = n % 5 == 2  # a fifth of the contracts deem acceptance after N business days of silence
        department = texts.DEPARTMENTS[n % len(texts.DEPARTMENTS)]
        values = {
            "key": key,
            "name": name,
            "description": f"{name} for the {department}.",
            "sponsor": people.names[rng.choice(people.leaders)],
            "contractor": integrator,
            "contract_number": f"{key}-{start.year}-{rng.randint(100, 9999):04d}",
            "start_date": start,
            "end_date": start.replace(year=start.year + rng.choice((3, 4))),
            "timezone": zone_name,
            "review_days": rng.choice((10, 10, 15)),
            "resubmit_days": rng.choice((10, 15)),
            "deemed_policy": DeemedPolicy.DEEMED.value if deemed else DeemedPolicy.NEVER.value,
            "deemed_days": 20,
            "holiday_calendar": calendar,
            "extra_holidays": [],
            "archived": False,
            "contact_name": f"{key} contract manager",
            "contact_title": "Contract Manager",
            "contact_address": "",
            "contact_email": f"contracts.{key.lower()}@example.com",
        }
        created = datetime.combine(start - timedelta(days=14), time(9), zone).astimezone(UTC)
        project_id = store["project"].add(
            created, **values, slo_targets={}, rag_thresholds={}, service_credits={}, created_at=created, version=1
        )
        store.trail.add(
            created,
            admin,
            project_id,
            "project",
            project_id,
            key,
            "create",
            {
                f: [None, v]
                for f, v in snapshot(SimpleNamespace(**values), PROJECT_FIELDS).items()
                if v not in (None, "", [])
            },
        )
        site = _site(project_id, key, zone, values, now)
        _members(
            store, rng, people, site, TEAM_LARGEST if n == 0 else TEAM, (state, leaders, firms[integrator]), created
        )
        sites.append(site)
    return sites


def programmes(count: int) -> list[tuple[str, str]]:
    """`count` (key, name): the programmes, then each again in the state's other regions (CWS2, …) as needed."""
    rounds = -(-count // len(texts.PROGRAMMES))
    return [
        (f"{key}{r + 1}", f"{name}, Region {r + 1}") if r else (key, name)
        for r in range(rounds)
        for key, name in texts.PROGRAMMES
    ][:count]


def _site(project_id: int, key: str, zone: ZoneInfo, values: dict, now: datetime) -> Site:
    today = now.astimezone(zone).date()
    begin, end = values["start_date"] - timedelta(days=60), today + timedelta(days=400)
    holidays = holidays_between(values["holiday_calendar"], values["extra_holidays"], begin, end)
    days = [begin + timedelta(days=k) for k in range((end - begin).days + 1)]
    days = [d for d in days if is_business_day(d, holidays)]
    midnights = [datetime.combine(d, time.min, zone).astimezone(UTC) for d in days]
    deemed = values["deemed_days"] if values["deemed_policy"] == DeemedPolicy.DEEMED else None
    return Site(
        project_id,
        key,
        zone,
        values["review_days"],
        values["resubmit_days"],
        deemed,
        days,
        midnights,
        bisect_left(days, values["start_date"]),
        bisect_left(days, today) - 1,
        today,
        now,
    )


def _members(
    store: Store,
    rng: random.Random,
    people: People,
    site: Site,
    team: tuple,
    pools: tuple[cycle, cycle, cycle],
    at: datetime,
) -> None:
    """The bench login of each role, then the next people of each pool (so everyone belongs somewhere)."""
    admin = people.logins["bench-admin"]
    taken: set[int] = set()

    def take(pool: cycle, size: int, tries: int) -> list[int]:
        chosen: list[int] = []
        for _ in range(tries):
            if len(chosen) == size:
                break
            user = next(pool)
            if user not in taken:
                taken.add(user)
                chosen.append(user)
        return chosen

    state, leaders, firm = pools
    (m_lo, m_hi), (s_lo, s_hi), (c_lo, c_hi), (v_lo, v_hi) = team
    tries = len(people.names)
    site.managers = [people.logins["bench-manager"], *take(state, rng.randint(m_lo, m_hi), tries)]
    site.staff = [people.logins["bench-staff"], *take(state, rng.randint(s_lo, s_hi), tries)]
    site.contractors = [people.logins["bench-contractor"], *take(firm, rng.randint(c_lo, c_hi), tries)]
    site.viewers = [people.logins["bench-viewer"], *take(leaders, rng.randint(v_lo, v_hi), tries)]
    site.reviewers = site.managers + site.staff
    site.owners = site.reviewers + site.viewers
    members = [
        (u, role)
        for role, users in (
            (Role.MANAGER, site.managers),
            (Role.STAFF, site.staff),
            (Role.CONTRACTOR, site.contractors),
            (Role.VIEWER, site.viewers),
        )
        for u in users
    ]
    for n, (user, role) in enumerate(members, start=1):
        created = at + timedelta(minutes=n)
        membership = store["membership"].add(
            created, project_id=site.id, user_id=user, role=role.value, created_at=created, version=1
        )
        store.trail.add(
            created,
            admin,
            site.id,
            "membership",
            membership,
            people.names[user],
            "add_member",
            {"role": [None, role.value]},
        )
