"""Engine creation (SQLite WAL or PostgreSQL) and the per-request session dependency."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable
from typing import Any

import anyio.to_thread
from litestar import Request
from litestar.datastructures import State
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine


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
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
            # Let SQLAlchemy emit BEGIN itself (pysqlite's own handling breaks SAVEPOINT).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:  # noqa: ANN001
            # Write requests take the write lock up front, so two writers queue on busy_timeout instead of
            # failing with "database is locked" when a read transaction tries to upgrade.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_immediate") else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **kwargs)


SessionFactory = Callable[[], Session]


def session_factory_for(engine: Engine) -> SessionFactory:
    return lambda: Session(engine, expire_on_commit=False)


def begin_write(session: Session) -> None:
    """Begins a write transaction: on SQLite it takes the write lock at once."""
    session.connection(execution_options={"sqlite_immediate": True})


def _end(session: Session, commit: bool) -> None:
    try:
        session.commit() if commit else session.rollback()
    finally:
        session.close()


async def provide_db(state: State, request: Request) -> AsyncGenerator[Session, None]:
    """One session per request; committed once after the handler, rolled back on error.

    Beginning and ending run in a worker thread, never on the event loop: a write waiting for SQLite's write lock
    would otherwise stall the loop, and with it the commit of the request that holds the lock (a deadlock until
    the busy timeout)."""
    session: Session = state.session_factory()
    try:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            await anyio.to_thread.run_sync(begin_write, session)
        yield session
        await anyio.to_thread.run_sync(_end, session, True)
    except Exception:
        await anyio.to_thread.run_sync(_end, session, False)
        raise
