"""The contract clock as a dispatcher job: one transaction that applies deemed acceptance and review escalation, then
the records of its decisions (and of any decision whose process stopped before rendering them), rendered after it.
Run by the dispatcher (one process at a time, at most every EVERY) and by `tracker clocks` from cron."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import Session

from tracker.core.db import begin_write, commit
from tracker.core.files import FileStore
from tracker.deliverables import records, service
from tracker.dispatch import service as dispatch

log = logging.getLogger("tracker.clock")

EVERY = timedelta(minutes=10)  # the clocks count days: ten minutes late is on time


def apply(db: Session, store: FileStore) -> service.ClockRun:
    begin_write(db)
    run = service.run_clocks(db, store)
    commit(db)
    if missing := records.generate_missing(db, store):
        log.warning("records generated late for decisions %s", missing)
    if run.deemed or run.escalated:
        log.warning("contract clock: deemed accepted %s; escalated %s", run.deemed or "none", run.escalated or "none")
    return run


def summary(run: service.ClockRun) -> str:
    return f"Deemed accepted: {', '.join(run.deemed) or 'none'}. Escalated: {', '.join(run.escalated) or 'none'}."


@dispatch.job("contract-clock", every=EVERY)
def contract_clock(db: Session, ctx: dispatch.Context) -> str:
    return summary(apply(db, ctx.store))
