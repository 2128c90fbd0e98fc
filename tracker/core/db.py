"""Engine creation (SQLite WAL or PostgreSQL) and the per-request session dependency."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import anyio.to_thread
from litestar import Request
from litestar.datastructures import State
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

log = logging.getLogger("tracker.db")


def sort_order(columns: Iterable[Any], descending: bool) -> list[Any]:
    """ORDER BY terms for a list's sort. A nullable column puts its blanks last in either direction; the others
    stay plain, so an index in their order (or against it) serves the sort on SQLite and PostgreSQL alike."""
    terms = []
    for c in columns:
        term = c.desc() if descending else c.asc()
        terms.append(term.nulls_last() if getattr(getattr(c, "expression", c), "nullable", False) else term)
    return terms


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        # No request ever waits for a connection (max_overflow=-1: a SQLite connection is a file handle): one that
        # waited for a connection while another, holding the write lock, waited for a thread would stall both.
        kwargs.setdefault("max_overflow", -1)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            # Let SQLAlchemy emit BEGIN itself (pysqlite's own handling breaks SAVEPOINT).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            # Write requests take the write lock as their transaction begins, so two writers queue on busy_timeout
            # instead of failing with "database is locked" when a read transaction tries to upgrade.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_immediate") else "BEGIN")

        return engine
    return create_engine(url, **({"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10} | kwargs))


SessionFactory = Callable[[], Session]


def session_factory_for(engine: Engine) -> SessionFactory:
    return lambda: Session(engine, expire_on_commit=False)


def begin_write(session: Session) -> None:
    """Begins a write transaction now: on SQLite it takes the write lock at once."""
    session.connection(execution_options={"sqlite_immediate": True})


@cache
def _writing_engine(engine: Engine) -> Engine:
    return engine.execution_options(sqlite_immediate=True)


def writing(session: Session) -> None:
    """Marks a request's session as a writer's: its transaction takes SQLite's write lock as it begins, at the
    handler's first statement, in the handler's own thread. Never before the handler, in another thread: a request
    holding the lock while it queued for a thread to run its handler in would wait on the very threads that wait
    for its lock. (A test's session, bound to a connection already in a transaction, is left as it is.)"""
    if isinstance(session.bind, Engine):
        session.info["engine"] = session.bind
        session.bind = _writing_engine(session.bind)


AfterCommit = Callable[[Session], None]


def after_commit(session: Session, key: Hashable, work: AfterCommit) -> None:
    """Slow work a write leaves to be done once it has committed (rendering a letter, storing its files): it then
    runs with no transaction open, so nobody waits on the write lock for it, and begins its own short writes.
    Keyed, so that one request asking twice runs it once."""
    session.info.setdefault("after_commit", {})[key] = work


def commit(session: Session) -> None:
    """Commit, then run the work left for after the commit (after_commit) on the same session. Work that fails is
    logged and left: it did not belong to the transaction, and whoever left it also sweeps for it later."""
    session.commit()
    if "engine" in session.info:  # the work after reads as any session does, and takes the lock where it writes
        session.bind = session.info.pop("engine")
    while pending := session.info.pop("after_commit", None):
        for work in pending.values():
            try:
                work(session)
            except Exception:
                session.rollback()
                log.exception("work after a commit failed; the next sweep retries it")


def detach(session: Session, rows: Iterable[Any]) -> None:
    """Take rows out of the session so other requests may share them (tracker.core.memo): nothing this session does
    later (a rollback) can expire them then. Every column they show must already be read, and no relationship is
    ever read from them; a row named twice, or no longer in the session, is left as it is."""
    for row in rows:
        if row in session:
            session.expunge(row)


def _end(session: Session, commit_it: bool) -> None:
    try:
        commit(session) if commit_it else session.rollback()
    finally:
        session.info.pop("after_commit", None)
        session.close()


async def provide_db(state: State, request: Request) -> AsyncGenerator[Session, None]:
    """One session per request; committed once after the handler, rolled back on error. Its transaction begins in
    the handler's thread (writing); the end runs in a worker thread, never on the event loop."""
    session: Session = state.session_factory()
    request.state.db = session  # for what the page's template asks (request_db), on this same connection
    try:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            writing(session)
        yield session
        await anyio.to_thread.run_sync(_end, session, True)
    except Exception:
        await anyio.to_thread.run_sync(_end, session, False)
        raise
    finally:
        del request.state.db


@contextmanager
def request_db(request: Request) -> Iterator[Session]:
    """The request's own session while its handler's response is made (a template rendering asks for something):
    never a second connection beside it, which under load would wait for the pool while holding the first. A
    request without one gets a session of its own, closed after."""
    if (session := getattr(request.state, "db", None)) is not None:
        yield session
    else:
        with request.app.state.session_factory() as session:
            yield session
