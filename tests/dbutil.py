"""Test databases: a temporary SQLite file, or a uniquely named PostgreSQL database dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

TARGET = os.environ.get("TRACKER_TEST_DATABASE", "sqlite")
IS_SQLITE = TARGET == "sqlite"


@contextmanager
def fresh_database(tmp_dir: Path) -> Iterator[str]:
    """An empty database's URL, removed on exit."""
    if IS_SQLITE:
        yield f"sqlite:///{tmp_dir / f'tracker-{uuid.uuid4().hex[:8]}.db'}"
        return
    server = make_url(TARGET)
    name = f"tracker_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
