"""`tracker bench-data`: the benchmark portfolio. Every record is generated in memory with a fixed seed, as the app
would have written it over the projects' history (rows, audit trail, clocks), then written in bulk; the saved
reports and a few published status reports come from the app's own services."""

from __future__ import annotations

import gc
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from time import perf_counter
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.core.clock import frozen_time, utcnow
from tracker.core.db import make_engine
from tracker.core.files import FileStore
from tracker.deliverables.models import Deliverable
from tracker.deliverables.workflow import Status
from tracker.demo import library as library_demo
from tracker.demo.bench import deliverables, people, register
from tracker.demo.bench.rows import Store, reset_sequences
from tracker.demo.deliverables import tiny_pdf
from tracker.library.models import SavedReport
from tracker.models import metadata
from tracker.projects import service as projects
from tracker.projects.calendar import project_today
from tracker.projects.models import Project
from tracker.projects.permissions import Perm
from tracker.reports import service as reports
from tracker.reports.periods import Period, week_ending
from tracker.search import index as search_index

SEED = 20261124
LARGEST = "BIG"
PUBLISHED_WEEKS = 2  # the largest project's weekly reports published at the last Fridays; one for the others


@dataclass(frozen=True)
class Largest:
    """What the largest project holds. The benchmarks time its pages, so huge holds the same one as large, with more
    projects around it: its pages then compare like with like, and only a cost that follows the whole database
    grows."""

    deliverables: int
    risks: int
    issues: int
    reviews: int  # risk reviews in its audit trail, the bulk of it


@dataclass(frozen=True)
class Scale:
    projects: int
    users: int
    deliverables: int
    submissions: int
    comments: int
    risks: int
    issues: int
    actions: int
    audit_events: int
    largest: Largest


AT_LARGE = Largest(1_500, 5_000, 8_000, 73_000)  # 30% of large's deliverables, 20% of its risks and issues
SCALES = {
    "huge": Scale(250, 2_000, 50_000, 120_000, 600_000, 90_000, 60_000, 212_400, 10_000_000, AT_LARGE),
    "large": Scale(25, 300, 5_000, 12_000, 60_000, 25_000, 40_000, 80_000, 1_000_000, AT_LARGE),
    "small": Scale(25, 30, 500, 1_200, 6_000, 2_500, 4_000, 8_000, 100_000, Largest(150, 500, 800, 7_300)),  # a tenth
    "tiny": Scale(4, 12, 60, 140, 600, 200, 300, 600, 12_000, Largest(30, 100, 150, 3_000)),  # for the tests
}
# huge: ten times large's deliverables and audit trail around the same largest project. Its register (150,000 risks and
# issues) leans to risks, whose reviews pad the trail: 60,000 could not hold what ten million events call for (a risk
# is reviewed once a day at most).


class NotEmpty(Exception):
    """The database already holds data."""


def split(rng: random.Random, total: int, projects: int, largest: int) -> list[int]:
    """`total` records over the projects: `largest` for the first, the rest spread unevenly over the others."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(projects - 1)]
    rest = total - largest
    counts = [int(rest * w / sum(weights)) for w in weights]
    for n in range(rest - sum(counts)):
        counts[n % len(counts)] += 1
    return [largest, *counts]


def build(scale: Scale, files: dict[str, tuple[str, int]], now: datetime) -> Store:
    """Every row and audit event of the portfolio, ids in time order."""
    rng = random.Random(SEED)
    store = Store()
    joined = datetime.combine((now - timedelta(days=930)).date(), time(16), UTC)  # before any project started
    crowd = people.make_users(store, rng, scale.users, joined)
    sites = people.make_projects(store, rng, crowd, scale.projects, now)
    plans = deliverables.plan_all(
        rng, sites, split(rng, scale.deliverables, len(sites), scale.largest.deliverables), scale.submissions
    )
    deliverables.allocate_comments(rng, plans, scale.comments)
    for site in sites:
        deliverables.write_project(store, rng, crowd.names, files, site, [p for p in plans if p.site is site])
    risks, issues = [], []
    counts = zip(
        sites,
        split(rng, scale.risks, len(sites), scale.largest.risks),
        split(rng, scale.issues, len(sites), scale.largest.issues),
        strict=True,
    )
    for site, n_risks, n_issues in counts:
        site_risks = register.write_risks(store, rng, site, n_risks)
        risks += site_risks
        issues += register.write_issues(store, rng, site, n_issues, site_risks)
    register.write_actions(store, rng, risks, issues, scale.actions)
    # The largest project's reviews as stated; the other projects' risks pad the trail to its size.
    budget = scale.audit_events - len(store.trail) - scale.largest.reviews
    largest = sum(1 for r in risks if r.site is sites[0])  # the risks come project by project, the largest first
    register.write_reviews(store, rng, risks[:largest], scale.largest.reviews)
    register.write_reviews(store, rng, risks[largest:], budget)
    store.finish()
    return store


def sample_files(store: FileStore) -> dict[str, tuple[str, int]]:
    """The few files every submission points at, put in the file store once (content-addressed, so shared)."""
    pdf = tiny_pdf(["Benchmark deliverable", "", "Generated by `tracker bench-data`."])
    csv = "Entity,Source records,Target records,Difference\nPerson,1200345,1200345,0\nCase,880412,880409,3\n"
    return {"pdf": store.put(pdf), "csv": store.put(csv.encode()), "txt": store.put(b"benchmark\n")}


def run(url: str, scale: Scale, files: FileStore, say: Callable[[str], object] = print) -> dict[str, int]:
    """Fill the migrated, empty database at `url`; says what it did and returns the rows per table."""
    started = perf_counter()
    now = utcnow()
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            if db.exec(select(func.count()).select_from(User)).one():
                raise NotEmpty("The database already holds data: use --reset to replace it.")
        gc.disable()  # millions of live rows, no cycles: the collector would only rescan them again and again
        store = build(scale, sample_files(files), now)
        generated = perf_counter()
        say(f"Generated {sum(store.counts().values()):,} rows in {generated - started:.1f} s; writing…")
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":  # a bulk load is simply redone if the machine fails meanwhile
                raw = conn.connection.driver_connection  # outside a transaction, where SQLite takes these
                raw.execute("PRAGMA synchronous=OFF")
                raw.execute("PRAGMA cache_size=-400000")
            with conn.begin():
                store.write(conn)
                if conn.dialect.name == "postgresql":
                    reset_sequences(conn)
                    conn.exec_driver_sql("ANALYZE")  # the services' queries below, planned on the rows just written
        written = perf_counter()
        keys = [row["key"] for row in store["project"].rows]
        del store
        gc.enable()
        say(f"Wrote them in {written - generated:.1f} s; saved reports and status reports…")
        with Session(engine, expire_on_commit=False) as db:
            _services(db, keys, now)
            db.commit()
        with engine.begin() as conn:  # the rows were written in bulk, past the ORM's hook: index them in bulk too
            search_index.reindex(conn)
        served = perf_counter()
        _settle(engine)
        counts = table_counts(engine)
        say("\n".join(f"  {name:<22} {n:>10,}" for name, n in counts.items()))
        say(
            f"Done in {perf_counter() - started:.1f} s (generate {generated - started:.1f} s, write "
            f"{written - generated:.1f} s, services {served - written:.1f} s, housekeeping "
            f"{perf_counter() - served:.1f} s)."
        )
        return counts
    finally:
        gc.enable()
        engine.dispose()


def _services(db: Session, keys: list[str], now: datetime) -> None:
    """What the app's own services write cheaply: the library's starter reports, shared by bench-manager in every
    project, and last week's status report published in every project on Friday afternoon (the largest project's
    the week before too, so its trend shows), as the portfolio reads them."""
    library_demo.load(db, dict.fromkeys(keys, "bench-manager"))
    manager = principal(db.exec(select(User).where(User.username == "bench-manager")).one())
    for key in keys:
        access = projects.get_for(db, manager, key, Perm.PUBLISH)
        zone = ZoneInfo(access.project.timezone)
        current = week_ending(project_today(access.project, now))
        for ago in range(PUBLISHED_WEEKS if key == LARGEST else 1, 0, -1):
            week = Period(current.start - timedelta(weeks=ago), current.end - timedelta(weeks=ago))
            with frozen_time(datetime.combine(week.end, time(16, 30), zone)):
                reports.publish(db, manager, access, week, 1, None)


def _settle(engine: Engine) -> None:
    """Leave the database as a running server would find it: SQLite with its write-ahead log folded in, PostgreSQL
    vacuumed and analysed (what autovacuum would do within minutes of a bulk load)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            conn.exec_driver_sql("VACUUM ANALYZE")


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in metadata.sorted_tables}


def landmarks(url: str) -> dict[str, int | str]:
    """What a load test asks for: the largest project's key, a deliverable in review on its third version or later
    (a full record page), and its shared "Overdue reviews" saved report."""
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            project = db.exec(select(Project).where(Project.key == LARGEST)).one()
            deliverable = db.exec(
                select(Deliverable.id)
                .where(
                    Deliverable.project_id == project.id,
                    Deliverable.status == Status.IN_REVIEW,
                    Deliverable.current_version >= 3,
                )
                .order_by(Deliverable.code)
            ).first()
            report = db.exec(
                select(SavedReport.id).where(
                    SavedReport.project_id == project.id, SavedReport.name == "Overdue reviews"
                )
            ).one()
        return {"project": LARGEST, "deliverable_id": deliverable, "saved_report_id": report}
    finally:
        engine.dispose()


def logins_text(url: str) -> str:
    marks = landmarks(url)
    return "\n".join(
        [
            f"Logins (password {people.PASSWORD}): bench-manager, bench-staff, bench-contractor, bench-viewer — members "
            "of every project in that role — and bench-admin (site admin).",
            f"Largest project {marks['project']}: /projects/{marks['project']}/deliverables/{marks['deliverable_id']} "
            f"(a deliverable in review), /projects/{marks['project']}/saved-reports/{marks['saved_report_id']} "
            "(a saved report).",
        ]
    )
