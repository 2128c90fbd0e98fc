"""Fixtures: the pinned clock, a migrated database per run, a rolled-back transaction per test, the app, personas,
and the demo portfolio loaded once per run for the tests that read it."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from tests.dbutil import fresh_database, statements
from tests.smtp import Inbox, running_inbox
from tracker.accounts import service as accounts
from tracker.app import create_app
from tracker.cli import migrate_database
from tracker.core import clock as app_clock
from tracker.core import memo
from tracker.core.db import make_engine
from tracker.settings import Settings, get_settings

# --- the clock ------------------------------------------------------------------------------------------------

# The whole run happens at one instant, whatever the machine's date: TRACKER_TEST_NOW (ISO 8601 with an offset) or a
# Wednesday morning in spring on every project's calendar. From there the clock runs on at the real pace, so a run
# never sees time go backwards. `make test-dates` runs the suite at awkward instants (README: "Time").
DEFAULT_TEST_NOW = "2026-03-11T17:00:00+00:00"
TEST_NOW = datetime.fromisoformat(os.environ.get("TRACKER_TEST_NOW") or DEFAULT_TEST_NOW).astimezone(UTC)


def pytest_configure(config: pytest.Config) -> None:
    app_clock.pin(TEST_NOW)
    memo.enabled = False  # tests roll their transactions back, so a data version recurs with other data behind it


def pytest_unconfigure(config: pytest.Config) -> None:
    app_clock.pin(None)


class Clock:
    """A test's hand on the app's clock: `clock.set(at)` pins every thread (the app, live servers) to `at`."""

    def set(self, at: datetime) -> None:
        app_clock.pin(at)

    def advance(self, **delta: float) -> None:
        """Elapsed time (sessions, lockouts). To move by calendar days, set noon of the day: `set(at_noon(day))`."""
        app_clock.pin(app_clock.utcnow() + timedelta(**delta))


def tst_today() -> date:
    """Today on the calendar of the test project TST (the default time zone, America/Los_Angeles)."""
    return app_clock.today_in("America/Los_Angeles")


def at_noon(day: date) -> datetime:
    """Noon of `day` on TST's calendar: a moment well inside that day in every zone a test reads it in."""
    return datetime.combine(day, time(12), ZoneInfo("America/Los_Angeles"))


@pytest.fixture
def clock() -> Iterator[Clock]:
    saved = app_clock._pinned
    yield Clock()
    app_clock._pinned = saved


# Cheap hashing keeps persona setup fast; production parameters are exercised in test_accounts.
accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        migrate_database(url)
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    connection = engine.connect()
    outer = connection.begin()
    yield connection
    outer.rollback()
    connection.close()


def _session(conn: Connection) -> Session:
    return Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def db(conn: Connection) -> Iterator[Session]:
    session = _session(conn)
    yield session
    session.close()


# --- the demo portfolio ---------------------------------------------------------------------------------


@dataclass
class DemoTemplate:
    url: str
    uploads: Path
    exit_code: int  # what `tracker demo` answered when it loaded the portfolio into the empty database
    output: str


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTemplate]:
    """`tracker demo` run once per run on an empty database. Loading takes most of a minute (its decision letters are
    rendered PDFs), so the tests that need the demo each take a copy of it (demo_copy) and none sees another's
    changes; tests/test_cli.py checks the command's own answer here."""
    from click.testing import CliRunner

    from tracker import cli

    tmp = tmp_path_factory.mktemp("demo")
    with fresh_database(tmp) as url:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("DATABASE_URL", url)
            env.setenv("TRACKER_UPLOAD_DIR", str(tmp / "uploads"))
            get_settings.cache_clear()
            result = CliRunner().invoke(cli.main, ["demo"])
        get_settings.cache_clear()
        yield DemoTemplate(url, tmp / "uploads", result.exit_code, result.output)


@contextmanager
def demo_copy(template: DemoTemplate, tmp_dir: Path) -> Iterator[tuple[str, Path]]:
    """A database of its own holding the demo, and a copy of the demo's stored files: (url, upload dir)."""
    assert template.exit_code == 0, template.output
    uploads = tmp_dir / "uploads"
    shutil.copytree(template.uploads, uploads)
    with fresh_database(tmp_dir, template=template.url) as url:
        yield url, uploads


def make_settings(database_url: str, **overrides) -> Settings:
    values = {
        "env": "test",
        "database_url": database_url,
        "secret_key": "test-secret-" + "x" * 32,
        "dispatch_seconds": 0,
    } | overrides
    return Settings(**values)


class SharedApp:
    """One app for many tests, as building one takes about half a second (Litestar inspects every handler). All a
    test can change in it is its state, which `fresh` sets back for each test, with sessions in the test's
    rolled-back transaction."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings, session_factory=self._outside_a_test)
        self.state = dict(self.app.state)

    @staticmethod
    def _outside_a_test() -> Session:
        raise RuntimeError("the shared app was used outside a test (take it through the app fixture)")

    def fresh(self, conn: Connection) -> Litestar:
        self.app.state.clear()
        self.app.state.update(self.state | {"session_factory": lambda: _session(conn)})
        return self.app


@pytest.fixture(scope="session")
def shared_app(database_url: str) -> SharedApp:
    return SharedApp(make_settings(database_url))


@pytest.fixture
def app(shared_app: SharedApp, conn: Connection) -> Litestar:
    return shared_app.fresh(conn)


# --- personas ---------------------------------------------------------------------------------------


@dataclass
class World:
    project_key: str
    ids: dict[str, int]


ROLES = ("manager", "staff", "contractor", "viewer")


def make_world(db: Session) -> World:
    """Project TST with one user per role, an admin, and an outsider who belongs to another project."""
    from tracker.core.forms import parse
    from tracker.projects import service as projects

    ids = {}
    for name in ("admin", *ROLES, "outsider"):
        form = parse(
            accounts.UserForm,
            {
                "username": name,
                "full_name": f"{name.title()} Person",
                "email": f"{name}@example.gov",
                "password": PASSWORD,
                "is_admin": name == "admin",
            },
        )
        ids[name] = accounts.create_user(db, None, form).id
    admin = accounts.principal(db.get(accounts.User, ids["admin"]))
    spec = {"key": "TST", "name": "Test Programme", "contractor": "Acme Integrators", "holiday_calendar": "US"}
    project = projects.create_project(db, admin, parse(projects.ProjectForm, spec))
    other = projects.create_project(db, admin, parse(projects.ProjectForm, spec | {"key": "OTH", "name": "Other"}))
    for role in ROLES:
        access = projects.get_for(db, admin, "TST", projects.Perm.MANAGE)
        projects.add_member(db, admin, access, projects.MemberForm(user_id=ids[role], role=role))
    other_access = projects.get_for(db, admin, other.key, projects.Perm.MANAGE)
    projects.add_member(db, admin, other_access, projects.MemberForm(user_id=ids["outsider"], role="manager"))
    db.commit()
    return World(project.key, ids)


@pytest.fixture
def world(db: Session) -> World:
    return make_world(db)


def agree_criteria(db: Session, world: World, deliverable) -> None:
    """The DED agreement every submission waits for: TST's manager agrees the criteria, its contractor acknowledges."""
    agree_as(
        db, deliverable, *(accounts.principal(db.get(accounts.User, world.ids[r])) for r in ("manager", "contractor"))
    )


def agree_as(db: Session, deliverable, manager, contractor) -> None:
    """The DED agreement by these two people (principals) of the deliverable's project."""
    from tracker.deliverables import criteria
    from tracker.projects import service as projects
    from tracker.projects.models import Project

    key = db.get(Project, deliverable.project_id).key
    for user, step in ((manager, criteria.agree), (contractor, criteria.acknowledge)):
        step(db, user, projects.get_for(db, user, key), deliverable)


def csrf_from(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Browser:
    """A TestClient that signs in through the login form and posts forms with their CSRF token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.token = ""

    def login(self, username: str, password: str = PASSWORD):
        page = self.client.get("/login")
        self.token = csrf_from(page.text)
        return self.client.post(
            "/login",
            data={"username": username, "password": password, "_csrf_token": self.token},
            follow_redirects=False,
        )

    def get(self, url: str, **kw):
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict | None = None, htmx: bool = False, **kw):
        if not self.token:
            self.token = csrf_from(self.client.get("/login").text)
        headers = kw.pop("headers", {}) | ({"HX-Request": "true"} if htmx else {})
        return self.client.post(
            url,
            data={**(data or {}), "_csrf_token": self.token},
            headers=headers,
            follow_redirects=kw.pop("follow_redirects", False),
            **kw,
        )

    def api(self, method: str, url: str, **kw):
        return self.client.request(method, url, headers={"x-csrftoken": self.token, **kw.pop("headers", {})}, **kw)


def agree_via_api(as_user, deliverable_id: int) -> None:
    """The DED agreement through the API: the manager agrees, the contractor acknowledges."""
    for role, step in (("manager", "agree"), ("contractor", "acknowledge")):
        r = as_user(role).api("POST", f"/api/v1/deliverables/{deliverable_id}/criteria/{step}", json={})
        assert r.status_code == 200, r.text


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver.local") as c:
        yield c


@pytest.fixture
def as_user(app: Litestar, world: World):
    """as_user("manager") -> a signed-in Browser. Anonymous: as_user(None)."""

    def make(username: str | None) -> Browser:
        # Not entered as a context manager: several clients sharing one app would each run (and wait on)
        # its lifespan; requests work without it.
        b = Browser(TestClient(app, base_url="http://testserver.local"))
        if username:
            r = b.login(username)
            assert r.status_code == 303, r.text
        return b

    return make


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, *args) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN")):
            self.count += 1
            self.statements.append(statement)


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A real SMTP server on a free loopback port for this test; `inbox.url` is its TRACKER_SMTP_URL."""
    with running_inbox() as box:
        yield box


@pytest.fixture
def count_queries(engine: Engine):
    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)

    return counting


@pytest.fixture
def plan_of_list_query(engine, conn):
    """Run a list's search and return SQLite's plan for its page query (the one with ORDER BY and LIMIT); `within`:
    only the steps under the step so named (a subquery's)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("query plans are compared on SQLite")

    def run(search, within: str = "") -> str:
        seen = [(s, p) for s, p in statements(engine, search) if "ORDER BY" in s and "LIMIT" in s]
        assert len(seen) == 1
        statement, parameters = seen[0]
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        return "\n".join(row[-1] for row in rows if not within or _under(rows, row, within))

    return run


def _under(rows, row, name: str) -> bool:
    """Whether a step of a query plan (id, parent, _, detail) lies under the step whose detail starts with `name`."""
    parents = {r[0]: r for r in rows}
    while row[1] in parents:
        row = parents[row[1]]
        if row[-1].startswith(name):
            return True
    return False


@pytest.fixture
def uploads(app, tmp_path):
    """Uploads go to a temporary folder, with a 1 MB limit so the 413 path is cheap to test."""
    app.state.settings = app.state.settings.model_copy(update={"upload_dir": tmp_path / "up", "max_upload_mb": 1})
    return tmp_path / "up"
