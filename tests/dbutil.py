"""Test databases: a temporary SQLite file, or a uniquely named PostgreSQL database dropped afterwards; either one
empty or a copy of another (a template built once, so an expensive load is paid once per run)."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

TARGET = os.environ.get("TRACKER_TEST_DATABASE", "sqlite")
IS_SQLITE = TARGET == "sqlite"


@contextmanager
def fresh_database(tmp_dir: Path, template: str | None = None) -> Iterator[str]:
    """An empty database's URL, or with `template` (a URL from here, with no connection open to it) a copy of that
    database; removed on exit."""
    if IS_SQLITE:
        path = tmp_dir / f"tracker-{uuid.uuid4().hex[:8]}.db"
        if template:
            with closing(sqlite3.connect(make_url(template).database)) as src, closing(sqlite3.connect(path)) as dst:
                src.backup(dst)
        yield f"sqlite:///{path}"
        return
    server = make_url(TARGET)
    name = f"tracker_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def statements(target: object, run: Callable[[], object]) -> list[tuple[str, object]]:
    """Every statement (with its parameters) that `run` sends through `target` (an engine or a connection)."""
    seen: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
        seen.append((statement, parameters))

    event.listen(target, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(target, "before_cursor_execute", capture)
    return seen
