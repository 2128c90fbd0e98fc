"""The dispatcher: each effect of an event recorded and run once, whichever of several processes sees it; failures
tried again and recorded; the cursor moving past settled events only, so an event committed late is not skipped;
jobs run by one process at a time when due; and `tracker dispatch --once`. On a database of the module's own, as the
dispatchers under test each use their own engine and commit."""

from __future__ import annotations

import ast
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.conftest import make_settings
from tests.dbutil import fresh_database
from tracker import cli, side_effects
from tracker.audit.models import AuditEvent
from tracker.cli import migrate_database
from tracker.core.clock import utcnow
from tracker.core.db import make_engine, session_factory_for
from tracker.core.files import FileStore
from tracker.dispatch import service as dispatch
from tracker.dispatch.models import DispatchCursor, DispatchEffect
from tracker.settings import ROOT, get_settings

# A write never begins inside a read (on SQLite that upgrade fails under contention instead of waiting its turn).
pytestmark = pytest.mark.filterwarnings("error:Connection is already established:sqlalchemy.exc.SAWarning")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(tmp_path_factory.mktemp("dispatch")) as url:
        migrate_database(url)
        yield url


@pytest.fixture
def one(url: str) -> Iterator[Engine]:
    """An engine of its own for each dispatcher, as each process has."""
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def other(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def ctx(url: str, tmp_path: Path) -> dispatch.Context:
    return dispatch.Context(make_settings(url), FileStore(tmp_path / "files", 1024 * 1024))


class Calls:
    """What a handler did: (event id, recipient), in order, from any thread."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, str]] = []
        self.lock = threading.Lock()

    def add(self, event: AuditEvent, recipient: str) -> None:
        with self.lock:
            self.seen.append((event.id, recipient))


def recorder(
    name: str, calls: Calls, recipients=dispatch.every_event, fails: int = 0, pause: float = 0
) -> dispatch.Handler:
    """A handler that records each call; its first `fails` calls raise."""
    left = [fails]

    def run(db: Session, event: AuditEvent, recipient: str, ctx: dispatch.Context) -> None:
        time.sleep(pause)
        if left[0] > 0:
            left[0] -= 1
            raise RuntimeError("the mail server said no")
        calls.add(event, recipient)

    return dispatch.Handler(name, run, recipients)


def dispatcher(engine: Engine, ctx, *handlers: dispatch.Handler, jobs=(), holder: str = "one") -> dispatch.Dispatcher:
    return dispatch.Dispatcher(
        session_factory_for(engine), ctx, {h.name: h for h in handlers}, {j.name: j for j in jobs}, holder
    )


def poke(engine: Engine, n: int = 1) -> list[int]:
    """Commits n audit events; their ids."""
    with Session(engine) as db:
        events = [AuditEvent(entity_type="test", entity_id=i, action="poke") for i in range(n)]
        db.add_all(events)
        db.commit()
        return [e.id for e in events]


def cursor(engine: Engine, name: str) -> DispatchCursor:
    with Session(engine) as db:
        return db.get(DispatchCursor, name)


def effects(engine: Engine, handler: str) -> list[DispatchEffect]:
    with Session(engine) as db:
        return list(
            db.exec(select(DispatchEffect).where(DispatchEffect.handler == handler).order_by(DispatchEffect.id))
        )


def test_a_handler_starts_at_the_end_of_the_trail_then_runs_once_per_event_and_recipient(one, ctx):
    calls = Calls()
    d = dispatcher(one, ctx, recorder("fan-out", calls, recipients=lambda db, e: ["ann", "bob", "ann"]))
    poke(one)  # history: before the handler was first seen
    assert d.once().recorded == 0 and calls.seen == []

    first, second = poke(one, 2)
    result = d.once()
    assert (result.recorded, result.done, result.failed) == (4, 4, 0)
    assert calls.seen == [(first, "ann"), (first, "bob"), (second, "ann"), (second, "bob")]
    assert d.once().recorded == 0  # read again (too young to pass), recorded once
    assert len(calls.seen) == 4
    assert {(e.status, e.attempts) for e in effects(one, "fan-out")} == {("done", 1)}


def test_the_cursor_moves_past_events_once_they_are_settled(one, ctx, clock):
    calls = Calls()
    d = dispatcher(one, ctx, recorder("settle", calls))
    d.once()
    start = cursor(one, "settle").last_event_id
    ids = poke(one, 3)
    d.once()
    assert cursor(one, "settle").last_event_id == start  # a transaction with a lower id may not have committed
    clock.advance(seconds=dispatch.SETTLE.total_seconds() + 1)
    assert d.once().recorded == 0
    assert cursor(one, "settle").last_event_id == ids[-1]
    assert calls.seen == [(i, "") for i in ids]


def _reserve_event_id(engine: Engine) -> int:
    """An id taken as a transaction still open would take it: given, but its event not yet committed."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            return conn.execute(text("SELECT nextval(pg_get_serial_sequence('audit_event', 'id'))")).scalar_one()
        return conn.execute(
            text("UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'audit_event' RETURNING seq")
        ).scalar_one()


def test_an_event_committed_after_a_later_one_is_not_skipped(one, ctx, clock):
    calls = Calls()
    d = dispatcher(one, ctx, recorder("late", calls))
    poke(one)
    d.once()
    written = utcnow()
    late = _reserve_event_id(one)  # the slow transaction takes its id ...
    (early,) = poke(one)  # ... a quicker one commits after it ...
    assert early > late
    d.once()
    clock.advance(seconds=10)
    with Session(one) as db:  # ... and the slow one commits now, its event written before the quick one's
        db.add(AuditEvent(id=late, at=written, entity_type="test", entity_id=0, action="late"))
        db.commit()
    d.once()
    clock.advance(seconds=dispatch.SETTLE.total_seconds())
    d.once()
    assert calls.seen == [(early, ""), (late, "")]
    assert cursor(one, "late").last_event_id == early


def test_two_dispatchers_at_once_run_each_effect_once(one, other, ctx):
    calls, by, inside, both = Calls(), {}, set(), threading.Event()
    race = recorder("race", calls, recipients=lambda db, e: ["x", "y"], pause=0.01)

    def run_together(db: Session, event: AuditEvent, recipient: str, c: dispatch.Context) -> None:
        """Each dispatcher's effects wait until the other is running one too, so the two really work at once however
        busy the machine is: the one holding a claim cannot be the only one that gets to work."""
        with calls.lock:
            inside.add(threading.get_ident())
            if len(inside) == 2:
                both.set()
        both.wait(timeout=30)
        race.run(db, event, recipient, c)

    handler = dispatch.Handler("race", run_together, race.recipients)
    first, second = dispatcher(one, ctx, handler, holder="one"), dispatcher(other, ctx, handler, holder="other")
    first.once()
    ids = poke(one, 20)
    start = threading.Barrier(2)

    def run(d: dispatch.Dispatcher) -> None:
        start.wait()
        deadline, done = time.monotonic() + 60, 0
        while time.monotonic() < deadline and len(calls.seen) < 40:
            done += d.once().done
        by[d.holder] = done

    threads = [threading.Thread(target=run, args=(d,)) for d in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert both.is_set()  # both were running an effect at the same moment
    assert sorted(calls.seen) == [(i, r) for i in ids for r in ("x", "y")]
    assert [e.attempts for e in effects(one, "race")] == [1] * 40
    assert by["one"] + by["other"] == 40 and by["one"] and by["other"]


def test_a_failed_effect_is_recorded_and_tried_again_later(one, ctx, clock):
    calls = Calls()
    d = dispatcher(one, ctx, recorder("flaky", calls, fails=1))
    d.once()
    (event,) = poke(one)
    assert (d.once().failed, calls.seen) == (1, [])
    (effect,) = effects(one, "flaky")
    assert (effect.status, effect.attempts) == ("pending", 1)
    assert effect.last_error == "RuntimeError: the mail server said no"
    assert d.once().failed == 0 and calls.seen == []  # not due yet
    clock.advance(seconds=dispatch.RETRY.total_seconds())
    assert d.once().done == 1
    (effect,) = effects(one, "flaky")
    assert (effect.status, effect.attempts, effect.last_error) == ("done", 2, "")
    assert calls.seen == [(event, "")]


def test_an_effect_that_keeps_failing_is_given_up(one, ctx, clock):
    calls = Calls()
    d = dispatcher(one, ctx, recorder("broken", calls, fails=99))
    d.once()
    poke(one)
    for attempt in range(1, dispatch.MAX_ATTEMPTS + 1):
        assert d.once().failed == 1
        clock.advance(seconds=(dispatch.RETRY * 2 ** (attempt - 1)).total_seconds())
    (effect,) = effects(one, "broken")
    assert (effect.status, effect.attempts) == ("failed", dispatch.MAX_ATTEMPTS)
    clock.advance(days=1)
    assert d.once().failed == 0


class Stopped(BaseException):
    """The process stops (killed) in the middle of an effect."""


def test_an_effect_left_by_a_process_that_stopped_runs_once_its_claim_lapses(one, other, ctx, clock):
    calls = Calls()

    def dies(db, event, recipient, ctx) -> None:
        raise Stopped

    first = dispatcher(one, ctx, dispatch.Handler("lapse", dies, dispatch.every_event), holder="one")
    first.once()
    (event,) = poke(one)
    with pytest.raises(Stopped):
        first.once()
    second = dispatcher(other, ctx, recorder("lapse", calls), holder="other")
    assert second.once().done == 0  # still claimed
    clock.advance(seconds=dispatch.LEASE.total_seconds() + 1)
    assert second.once().done == 1 and calls.seen == [(event, "")]
    assert [(e.status, e.attempts) for e in effects(one, "lapse")] == [("done", 2)]


def test_a_job_runs_when_due_and_in_one_process_at_a_time(one, other, ctx, clock):
    entered, leave = threading.Event(), threading.Event()
    runs: list[str] = []

    def work(db: Session, ctx) -> str:
        runs.append("ran")
        entered.set()
        leave.wait(30)
        return "swept"

    job = dispatch.Job("sweep", work, timedelta(minutes=10))
    first, second = dispatcher(one, ctx, jobs=[job], holder="one"), dispatcher(other, ctx, jobs=[job], holder="other")
    results: list[dispatch.Pass] = []
    thread = threading.Thread(target=lambda: results.append(first.once()))
    thread.start()
    assert entered.wait(30)
    assert second.once().jobs == {}  # the first holds it
    leave.set()
    thread.join(30)
    assert results[0].jobs == {"sweep": "swept"}
    assert second.once().jobs == {}  # not due again yet
    clock.advance(minutes=10)
    assert second.once().jobs == {"sweep": "swept"}
    assert runs == ["ran", "ran"]
    assert cursor(one, "sweep").holder is None


def test_a_failed_job_is_recorded_and_runs_again_at_its_next_time(one, ctx, clock):
    def work(db: Session, ctx) -> str:
        raise RuntimeError("no disk")

    d = dispatcher(one, ctx, jobs=[dispatch.Job("failing", work, timedelta(minutes=10))])
    assert d.once().jobs == {"failing": "failed (RuntimeError: no disk)"}
    assert cursor(one, "failing").last_error == "RuntimeError: no disk"
    assert d.once().jobs == {}
    clock.advance(minutes=10)
    d = dispatcher(one, ctx, jobs=[dispatch.Job("failing", lambda db, ctx: None, timedelta(minutes=10))])
    assert d.once().jobs == {"failing": None}
    assert cursor(one, "failing").last_error == ""


def _registering_modules() -> set[str]:
    """The modules of tracker/ that call dispatch.handler or dispatch.job."""
    found = set()
    for path in (ROOT / "tracker").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("handler", "job")
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "dispatch"
            ):
                found.add(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return found


def test_side_effects_names_every_module_that_registers_a_handler_or_job():
    assert {m.__name__ for m in side_effects.MODULES} == _registering_modules()
    assert "contract-clock" in dispatch.JOBS


def test_tracker_dispatch_once_runs_the_jobs_and_says_what_they_did(url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TRACKER_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv("TRACKER_DISPATCH_SECONDS", "0")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        result = runner.invoke(cli.main, ["dispatch", "--once"])
        assert result.exit_code == 0, result.output
        assert sorted(result.output.splitlines()) == [
            "Effects: 0 recorded, 0 done, 0 failed.",
            "contract-clock: Deemed accepted: none. Escalated: none.",
            "mail-digest: 0 digest(s)",  # no one in this database
            "mail-reminders: 0 reminder(s)",
            "report-schedules: 0 scheduled report(s)",
            "sign-in-log-retention: 0 sign-in(s) older than 365 days deleted",
        ]
        again = runner.invoke(cli.main, ["dispatch", "--once"])
        assert again.output.splitlines() == ["Effects: 0 recorded, 0 done, 0 failed."]  # no job is due
        looping = runner.invoke(cli.main, ["dispatch"])
        assert looping.exit_code != 0 and "TRACKER_DISPATCH_SECONDS is 0" in looping.output
    finally:
        get_settings.cache_clear()
