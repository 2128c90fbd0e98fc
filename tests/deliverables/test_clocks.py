"""Contract clocks: deemed acceptance after N business days of silence (with a warning first), or escalation
of an overdue review under the never-deemed policy; and the holdback ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from tests.deliverables.test_api import PLAN, _plan
from tracker.audit.models import AuditEvent
from tracker.core.db import commit
from tracker.core.files import FileStore
from tracker.deliverables import decisions, service
from tracker.deliverables.clock import EVERY
from tracker.deliverables.models import Decision, Deliverable, GeneratedRecord
from tracker.dispatch import service as dispatch
from tracker.projects.calendar import due_after, project_today
from tracker.projects.models import Project


def _submitted(as_user, db, policy: str) -> Deliverable:
    project = db.exec(select(Project).where(Project.key == "TST")).one()
    project.deemed_policy, project.deemed_days, project.review_days = policy, 5, 3
    db.commit()
    d = _plan(as_user)
    r = as_user("contractor").api(
        "POST", f"/api/v1/deliverables/{d['id']}/submissions", files={"files": ("a.pdf", b"x", "application/pdf")}
    )
    assert r.status_code == 201
    deliverable = db.get(Deliverable, d["id"])
    db.refresh(deliverable)
    return deliverable


@pytest.fixture
def store(tmp_path) -> FileStore:
    return FileStore(tmp_path / "records", 1024 * 1024)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 20, 0, tzinfo=UTC)  # noon in Los Angeles


def test_silence_past_the_deemed_day_is_recorded_as_deemed_acceptance(as_user, uploads, db, store):
    d = _submitted(as_user, db, "deemed")
    project = db.get(Project, d.project_id)
    today = project_today(project)
    assert d.deemed_on == due_after(project, today, 5)
    assert service.run_clocks(db, store, _at(d.deemed_on)).deemed == []  # the last day still belongs to the state
    assert service.deemed_warning(d, d.deemed_on - timedelta(days=2)) == 2
    assert service.deemed_warning(d, d.deemed_on - timedelta(days=30)) is None

    run = service.run_clocks(db, store, _at(d.deemed_on + timedelta(days=1)))
    assert run.deemed == ["TST D-01"]
    commit(db)  # the letters are rendered once the clock's transaction has committed
    db.refresh(d)
    assert d.status == "accepted" and d.deemed_on is None
    decision = db.exec(select(Decision)).one()
    assert decision.outcome == "deemed_accepted" and decision.decided_by_id is None
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "deem_accept")).one()
    from tracker.deliverables.models import GeneratedRecord

    kinds = db.exec(
        select(GeneratedRecord.kind).where(GeneratedRecord.format == "pdf").order_by(GeneratedRecord.kind)
    ).all()
    assert kinds == ["acceptance_letter", "signoff"]
    assert event.actor_id is None
    assert service.run_clocks(db, store, _at(d.deemed_on or date.max - timedelta(days=2))).deemed == []  # idempotent
    page = as_user("contractor").get(f"/projects/TST/deliverables/{d.id}")
    assert "the contract clock" in page.text and "Deemed accepted under the contract" in page.text


def test_the_dispatcher_runs_the_contract_clock_as_a_job_every_ten_minutes(
    app, as_user, uploads, conn, db, store, clock
):
    d = _submitted(as_user, db, "deemed")
    clock.set(_at(d.deemed_on + timedelta(days=1)))

    def sessions() -> Session:  # in the test's transaction
        return Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)

    jobs = {"contract-clock": dispatch.JOBS["contract-clock"]}
    dispatcher = dispatch.Dispatcher(sessions, dispatch.Context(app.state.settings, store), {}, jobs)
    assert dispatcher.once().jobs == {"contract-clock": "Deemed accepted: TST D-01. Escalated: none."}
    db.refresh(d)
    assert d.status == "accepted"
    assert db.exec(select(GeneratedRecord.kind).where(GeneratedRecord.format == "pdf")).all()  # its letters, after it
    clock.advance(seconds=EVERY.total_seconds() - 60)
    assert dispatcher.once().jobs == {}
    clock.advance(seconds=60)
    assert dispatcher.once().jobs == {"contract-clock": "Deemed accepted: none. Escalated: none."}


def test_a_decision_before_the_deemed_day_stops_the_clock(as_user, uploads, db, store):
    d = _submitted(as_user, db, "deemed")
    deemed_on = d.deemed_on
    manager = as_user("manager")
    manager.api("POST", f"/api/v1/deliverables/{d.id}/transition", json={"action": "start_review"})
    r = manager.api("POST", f"/api/v1/deliverables/{d.id}/decision", json={"outcome": "rejected", "findings": "No"})
    assert r.status_code == 201
    assert service.run_clocks(db, store, _at(deemed_on + timedelta(days=10))).deemed == []
    db.refresh(d)
    assert d.status == "rejected"


def test_the_deemed_warning_reaches_the_record_and_my_work(as_user, uploads, db):
    d = _submitted(as_user, db, "deemed")
    d.deemed_on = project_today(db.get(Project, d.project_id)) + timedelta(days=2)
    db.commit()
    assert "Deemed acceptance in 2 days" in as_user("staff").get(f"/projects/TST/deliverables/{d.id}").text
    assert "deemed accepted by silence unless decided" in as_user("manager").get("/").text
    assert "deemed accepted by silence" not in as_user("contractor").get("/").text


def test_an_overdue_review_escalates_once_under_the_never_policy(as_user, uploads, db, store):
    d = _submitted(as_user, db, "never")
    assert d.deemed_on is None
    assert service.run_clocks(db, store, _at(d.review_due)).escalated == []
    later = _at(d.review_due + timedelta(days=1))
    assert service.run_clocks(db, store, later).escalated == ["TST D-01"]
    assert service.run_clocks(db, store, later).escalated == []
    db.refresh(d)
    assert d.status == "submitted" and d.escalated_at is not None
    assert db.exec(select(AuditEvent.action).where(AuditEvent.action == "escalate")).all() == ["escalate"]
    assert "review escalated" in as_user("manager").get("/").text
    assert "review escalated" not in as_user("staff").get("/").text
    assert "escalated</span>" in as_user("viewer").get("/projects/TST/deliverables").text
    assert "Escalated: review overdue" in as_user("viewer").get(f"/projects/TST/deliverables/{d.id}").text


def test_holdback_ledger_pays_less_the_holdback_until_final_acceptance(as_user, uploads, db):
    first = _plan(as_user)
    manager = as_user("manager")
    for code, status, amount, pct in (
        ("D-02", "conditionally_accepted", "20000", "15"),
        ("D-03", "withdrawn", "1000", "10"),
        ("D-04", "planned", None, None),
    ):
        r = manager.api(
            "POST",
            "/api/v1/projects/TST/deliverables",
            json=PLAN | {"code": code, "title": code, "payment_amount": amount, "holdback_pct": pct},
        )
        db.get(Deliverable, r.json()["id"]).status = status
    db.get(Deliverable, first["id"]).status = "accepted"
    db.commit()
    ledger = decisions.holdback_ledger(db, db.get(Deliverable, first["id"]).project_id)
    assert [(r.deliverable.code, r.state, r.holdback, r.paid) for r in ledger.rows] == [
        ("D-01", "released", Decimal("5000.00"), Decimal("50000.00")),
        ("D-02", "withheld", Decimal("3000.00"), Decimal("17000.00")),
        ("D-03", "cancelled", Decimal("100.00"), Decimal("0.00")),
    ]  # D-04 has no payment
    assert (ledger.payment, ledger.paid, ledger.withheld, ledger.released, ledger.pending) == (
        Decimal("70000.00"),
        Decimal("67000.00"),
        Decimal("3000.00"),
        Decimal("5000.00"),
        Decimal("0.00"),
    )
    page = as_user("contractor").get("/projects/TST/holdback")
    assert page.status_code == 200 and "$3,000.00 withheld" in page.text and "$5,000.00 released" in page.text
    assert as_user("outsider").get("/projects/TST/holdback").status_code == 404
