"""The contract clock as a job: one transaction that applies deemed acceptance and review escalation, then the
records of its decisions (and of any decision whose process stopped before rendering them), rendered after it.
Run by each server process every few minutes (settings.clock_minutes) and by `tracker clocks` from cron."""

from __future__ import annotations

import logging
import threading

from tracker.core.db import SessionFactory, begin_write, commit
from tracker.core.files import FileStore
from tracker.deliverables import records, service

log = logging.getLogger("tracker.clock")


def tick(session_factory: SessionFactory, store: FileStore) -> service.ClockRun:
    with session_factory() as db:
        begin_write(db)
        run = service.run_clocks(db, store)
        commit(db)
        if missing := records.generate_missing(db, store):
            log.warning("records generated late for decisions %s", missing)
    if run.deemed or run.escalated:
        log.warning("contract clock: deemed accepted %s; escalated %s", run.deemed or "none", run.escalated or "none")
    return run


def start(session_factory: SessionFactory, store: FileStore, minutes: int) -> threading.Event:
    """Tick now and then every `minutes` in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                tick(session_factory, store)
            except Exception:  # a failed tick must not kill the server; the next one retries
                log.exception("contract clock tick failed")
            stop.wait(minutes * 60)

    threading.Thread(target=loop, name="contract-clock", daemon=True).start()
    return stop
