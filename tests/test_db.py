"""Rows, audit events and project clocks take their times from the app's clock."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from tests.deliverables.test_service import _as
from tracker.audit.models import AuditEvent
from tracker.core.clock import frozen_time
from tracker.core.forms import parse
from tracker.deliverables import planning
from tracker.deliverables.planning import DeliverableForm
from tracker.projects.calendar import project_today


def test_rows_audit_events_and_project_clocks_follow_the_frozen_time(db, world):
    then = datetime(2026, 3, 2, 17, 30, tzinfo=UTC)
    actor, access = _as(db, world, "manager")
    with frozen_time(then):
        d = planning.create(db, actor, access, parse(DeliverableForm, {"code": "D-01", "title": "Plan"}))
        today = project_today(access.project)
    event = db.exec(select(AuditEvent).where(AuditEvent.entity_type == "deliverable")).one()
    db.refresh(d)
    db.refresh(event)
    assert d.created_at.replace(tzinfo=UTC) == then and event.at.replace(tzinfo=UTC) == then
    assert str(today) == "2026-03-02"
