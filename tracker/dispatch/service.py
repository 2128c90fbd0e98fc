"""The dispatcher: handlers registered for the events of the audit trail (the outbox), jobs registered to run every
so often, and the pass that runs them.

Each pass runs the jobs that are due, then for each handler reads the events past its cursor and records the effects
they call for (one row per event, handler and recipient, under a unique key, so a second reader records nothing
twice), then runs the effects that are due: claimed in a short transaction (FOR UPDATE SKIP LOCKED on PostgreSQL;
SQLite's writers take turns), done with no transaction open, their end recorded in another short one. A failed effect
is tried again later, up to MAX_ATTEMPTS. A lease on each cursor lets one process at a time run a handler or a job."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from tracker.audit.models import AuditEvent
from tracker.core.clock import utcnow
from tracker.core.db import SessionFactory, begin_write, commit
from tracker.core.files import FileStore
from tracker.dispatch.models import DispatchCursor, DispatchEffect, EffectStatus
from tracker.settings import Settings

log = logging.getLogger("tracker.dispatch")

# Ids are given as events are written, but transactions commit in their own order: an event may become visible after
# one with a higher id. A transaction that took a lower id than an event has committed once that event is SETTLE old
# (twice the longest transaction we allow), so a cursor never moves past a younger event; the younger ones are read
# again by the next pass, and the unique key of their effects keeps them from being recorded twice.
SETTLE = timedelta(seconds=60)
LEASE = timedelta(minutes=5)  # how long a claim holds a cursor or an effect: a process that stopped lets go after it
RETRY = timedelta(minutes=1)  # the wait after an effect's first failure, doubled after each one after it
MAX_ATTEMPTS = 8  # then the effect is marked failed, about two hours after its first attempt
BATCH = 200  # events read at a time
CLAIM = 10  # effects claimed at a time: few, so that their lease outlasts the work it covers
PROCESS = f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Context:
    """What handlers and jobs work with besides their session."""

    settings: Settings
    store: FileStore

    @classmethod
    def from_settings(cls, settings: Settings) -> Context:
        return cls(settings, FileStore.from_settings(settings))


Recipients = Callable[[Session, AuditEvent], Iterable[str]]
Effect = Callable[[Session, AuditEvent, str, Context], None]
JobRun = Callable[[Session, Context], str | None]


@dataclass(frozen=True)
class Handler:
    name: str
    run: Effect
    recipients: Recipients


@dataclass(frozen=True)
class Job:
    name: str
    run: JobRun
    every: timedelta


HANDLERS: dict[str, Handler] = {}
JOBS: dict[str, Job] = {}


def every_event(db: Session, event: AuditEvent) -> list[str]:
    return [""]


def _free(name: str) -> None:
    if name in HANDLERS or name in JOBS:  # they share the cursor table
        raise ValueError(f"a dispatch handler or job is already named {name!r}")


def handler(name: str, *, recipients: Recipients = every_event) -> Callable[[Effect], Effect]:
    """Registers `run(db, event, recipient, ctx)` as the effect of an event for each of `recipients(db, event)`
    (by default one effect per event, for recipient ""). `recipients` only reads and may be asked more than once for an
    event; it returns [] for the events its handler has nothing to do with. `run` is called with no transaction open
    and commits what it writes; when it raises, it is called again later. A process that stops while running it
    leaves the effect to be run again, so at least once, and once in every other case. A handler registered on a
    database with a trail starts at the trail's end: it acts on what happens from then on, not on the history."""

    def register(run: Effect) -> Effect:
        _free(name)
        HANDLERS[name] = Handler(name, run, recipients)
        return run

    return register


def job(name: str, *, every: timedelta) -> Callable[[JobRun], JobRun]:
    """Registers `run(db, ctx)`, run by one process at a time at most once `every` (a failed run too), with a fresh
    session; it commits what it writes and may return a line saying what it did."""

    def register(run: JobRun) -> JobRun:
        _free(name)
        JOBS[name] = Job(name, run, every)
        return run

    return register


@dataclass
class Pass:
    jobs: dict[str, str | None] = field(default_factory=dict)  # the jobs that ran, with what each said (or failed)
    recorded: int = 0  # effects recorded from the events read
    done: int = 0
    failed: int = 0  # attempts that failed (tried again later, or given up)

    def summary(self) -> str:
        lines = [f"{name}: {said or 'done'}" for name, said in self.jobs.items()]
        return "\n".join([*lines, f"Effects: {self.recorded} recorded, {self.done} done, {self.failed} failed."])


@dataclass(frozen=True)
class Dispatcher:
    """The handlers and jobs, run on sessions of `session_factory` under the name `holder` (this process's).
    tracker.side_effects.dispatcher makes the one with every registered handler and job."""

    session_factory: SessionFactory
    ctx: Context
    handlers: dict[str, Handler]
    jobs: dict[str, Job]
    holder: str = PROCESS

    def once(self) -> Pass:
        """One pass: the jobs that are due, the effects of the new events, then the effects that are due."""
        result = Pass()
        for j in self.jobs.values():
            _run_job(self.session_factory, j, self.ctx, self.holder, result)
        for h in self.handlers.values():
            result.recorded += _record_effects(self.session_factory, h, self.holder)
        _run_effects(self.session_factory, self.handlers, self.ctx, result)
        return result

    def loop(self, seconds: float, stop: threading.Event) -> None:
        """Pass after pass, `seconds` apart, until `stop` is set; a pass that fails is logged and the next retries."""
        while not stop.is_set():
            try:
                self.once()
            except Exception:
                log.exception("dispatch pass failed; the next one retries")
            stop.wait(seconds)

    def start(self, seconds: float) -> threading.Event:
        """The loop in a daemon thread; set the returned event to stop it."""
        stop = threading.Event()
        threading.Thread(target=self.loop, args=(seconds, stop), name="dispatcher", daemon=True).start()
        return stop


# --- cursors and their leases --------------------------------------------------------------------------------


def _insert(db: Session, model: type) -> Any:
    return (pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert)(model)


def _take(db: Session, name: str, holder: str, now: datetime, due_before: datetime | None = None) -> int | None:
    """Takes the lease on a cursor unless another process holds it (and, for a job, only when the job is due): its
    last event id, or None. A handler's cursor is made at the end of the trail the first time."""
    begin_write(db)
    if db.get(DispatchCursor, name) is None:
        end = db.exec(select(func.coalesce(func.max(AuditEvent.id), 0))).one()
        db.execute(
            _insert(db, DispatchCursor).values(name=name, last_event_id=end, last_error="").on_conflict_do_nothing()
        )
    cursor = col(DispatchCursor.name) == name
    free = [cursor, or_(col(DispatchCursor.holder).is_(None), col(DispatchCursor.held_until) < now)]
    if due_before is not None:
        free.append(or_(col(DispatchCursor.ran_at).is_(None), col(DispatchCursor.ran_at) <= due_before))
    taken = db.execute(
        update(DispatchCursor)
        .where(*free)
        .values(holder=holder, held_until=now + LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    last = db.exec(select(DispatchCursor.last_event_id).where(cursor)).one() if taken else None
    commit(db)
    return last


def _release(db: Session, name: str, holder: str, error: str, **values: Any) -> None:
    begin_write(db)
    db.execute(
        update(DispatchCursor)
        .where(col(DispatchCursor.name) == name, col(DispatchCursor.holder) == holder)
        .values(holder=None, held_until=None, last_error=error[:2000], **values)
        .execution_options(synchronize_session=False)
    )
    commit(db)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def ask(db: Session, event_id: int, handler_name: str, recipient: str) -> bool:
    """Records one more effect of an event for a handler, asked for by hand (a delivery sent again), in the caller's
    transaction: it runs after that commits, like any other. False when that effect was already recorded."""
    insert = _insert(db, DispatchEffect).values(
        event_id=event_id,
        handler=handler_name,
        recipient=recipient,
        status=EffectStatus.PENDING,
        attempts=0,
        due_at=utcnow(),
        last_error="",
        created_at=utcnow(),
    )
    return bool(db.execute(insert.on_conflict_do_nothing().returning(DispatchEffect.id)).all())


# --- jobs ----------------------------------------------------------------------------------------------------


def _run_job(session_factory: SessionFactory, j: Job, ctx: Context, holder: str, result: Pass) -> None:
    with session_factory() as db:
        now = utcnow()
        if _take(db, j.name, holder, now, due_before=now - j.every) is None:
            return
        error = ""
        try:
            said = j.run(db, ctx)
            commit(db)
            result.jobs[j.name] = said
        except Exception as exc:
            db.rollback()
            log.exception("job %s failed; it runs again in %s", j.name, j.every)
            error = _describe(exc)
            result.jobs[j.name] = f"failed ({error})"
        finally:
            _release(db, j.name, holder, error, ran_at=now)


# --- recording the effects of new events ---------------------------------------------------------------------


def _settled(events: list[AuditEvent], before: datetime) -> int | None:
    """The id up to which every one of the events (in id order) was written before `before`."""
    last = None
    for e in events:
        if e.at > before:
            break
        last = e.id
    return last


def _record_effects(session_factory: SessionFactory, h: Handler, holder: str) -> int:
    """Records the effects of the events past the handler's cursor, a batch at a time: its recipients asked while
    reading, their rows written in one short transaction with the cursor moved past the settled events."""
    recorded, error = 0, ""
    with session_factory() as db:
        after = _take(db, h.name, holder, utcnow())
        if after is None:
            return 0
        try:
            moving = True  # until an event too young to pass is read
            while True:
                now = utcnow()
                events = list(
                    db.exec(select(AuditEvent).where(col(AuditEvent.id) > after).order_by(AuditEvent.id).limit(BATCH))
                )
                rows = [
                    {
                        "event_id": e.id,
                        "handler": h.name,
                        "recipient": r,
                        "status": EffectStatus.PENDING,
                        "attempts": 0,
                        "due_at": now,
                        "last_error": "",
                        "created_at": now,
                    }
                    for e in events
                    for r in dict.fromkeys(h.recipients(db, e))
                ]
                last = events[-1].id if events else None
                settled = _settled(events, now - SETTLE) if moving else None
                moving = moving and settled is not None and settled == last
                db.rollback()  # the reading ends here (and the events read are expired)
                if rows or settled:
                    begin_write(db)
                    for i in range(0, len(rows), 100):  # SQLite takes a few thousand parameters at most
                        insert = _insert(db, DispatchEffect).values(rows[i : i + 100]).on_conflict_do_nothing()
                        recorded += len(db.execute(insert.returning(DispatchEffect.id)).all())  # the new ones
                    if settled:
                        db.execute(
                            update(DispatchCursor)
                            .where(col(DispatchCursor.name) == h.name, col(DispatchCursor.last_event_id) < settled)
                            .values(last_event_id=settled)
                            .execution_options(synchronize_session=False)
                        )
                    commit(db)
                if len(events) < BATCH:
                    break
                after = last
        except Exception as exc:
            db.rollback()
            log.exception("handler %s could not read the events past %s; the next pass retries", h.name, after)
            error = _describe(exc)
        finally:
            _release(db, h.name, holder, error)
    return recorded


# --- running the effects -------------------------------------------------------------------------------------


def _claim(db: Session, names: list[str], now: datetime) -> list[tuple[DispatchEffect, AuditEvent]]:
    """The next effects due, each claimed for LEASE (its attempt counted), in one short transaction. Two processes
    never claim the same one: on PostgreSQL each passes over the rows another is claiming (SKIP LOCKED); SQLite's
    writers take turns."""
    begin_write(db)
    ids = list(
        db.exec(
            select(DispatchEffect.id)
            .where(
                DispatchEffect.status == EffectStatus.PENDING,
                col(DispatchEffect.due_at) <= now,
                col(DispatchEffect.handler).in_(names),
            )
            .order_by(DispatchEffect.id)
            .limit(CLAIM)
            .with_for_update(skip_locked=True)
        )
    )
    claimed = []
    if ids:
        db.execute(
            update(DispatchEffect)
            .where(col(DispatchEffect.id).in_(ids))
            .values(attempts=DispatchEffect.attempts + 1, due_at=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        claimed = list(
            db.exec(
                select(DispatchEffect, AuditEvent)
                .join(AuditEvent, col(AuditEvent.id) == DispatchEffect.event_id)
                .where(col(DispatchEffect.id).in_(ids))
                .order_by(DispatchEffect.id)
                .execution_options(populate_existing=True)
            )
        )
    commit(db)
    return claimed


def _finish(db: Session, effect: DispatchEffect, error: str | None) -> None:
    """Records how the effect's attempt ended: done, or failed and due again later (or given up)."""
    now = utcnow()
    if error is None:
        values: dict[str, Any] = {"status": EffectStatus.DONE, "done_at": now, "last_error": ""}
    else:
        gave_up = effect.attempts >= MAX_ATTEMPTS
        values = {
            "status": EffectStatus.FAILED if gave_up else EffectStatus.PENDING,
            "due_at": now + RETRY * 2 ** (effect.attempts - 1),
            "last_error": error,
        }
    begin_write(db)
    db.execute(
        update(DispatchEffect)
        .where(col(DispatchEffect.id) == effect.id, col(DispatchEffect.attempts) == effect.attempts)  # still our claim
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    commit(db)


def _run_effects(session_factory: SessionFactory, handlers: dict[str, Handler], ctx: Context, result: Pass) -> None:
    if not handlers:
        return
    while True:
        with session_factory() as db:
            claimed = _claim(db, list(handlers), utcnow())
        if not claimed:
            return
        for effect, event in claimed:
            with session_factory() as db:
                error = None
                try:
                    handlers[effect.handler].run(db, event, effect.recipient, ctx)
                    commit(db)
                except Exception as exc:
                    db.rollback()
                    log.warning("%s for event %s (%s) failed: %s", effect.handler, event.id, effect.recipient, exc)
                    error = _describe(exc)
                _finish(db, effect, error)
                if error is None:
                    result.done += 1
                else:
                    result.failed += 1
