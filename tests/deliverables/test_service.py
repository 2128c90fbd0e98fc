"""Deliverable service: planning with criteria, submitting versions, the review clock, carrying comments forward."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from tests.conftest import agree_criteria, at_noon, tst_today
from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.audit.models import AuditEvent
from tracker.core.errors import Conflict, Forbidden, FormError, TooLarge
from tracker.core.files import FileStore
from tracker.core.forms import parse
from tracker.deliverables import criteria, planning, service, submissions
from tracker.deliverables.models import Comment, Criterion, Deliverable, Submission, SubmissionFile
from tracker.deliverables.planning import DeliverableForm
from tracker.deliverables.submissions import Upload
from tracker.projects import service as projects


def _as(db, world, role):
    user = principal(db.get(User, world.ids[role]))
    return user, projects.get_for(db, user, world.project_key)


def _plan(db, world, agreed: bool = True, **overrides) -> Deliverable:
    """D-07 with three criteria, agreed and acknowledged (ready to submit) unless `agreed` is False."""
    actor, access = _as(db, world, "manager")
    values = {
        "code": "d-07",
        "title": "System Design Document",
        "type": "document",
        "due_date": (tst_today() + timedelta(days=30)).isoformat(),
        "owner_id": str(world.ids["staff"]),
        "payment_amount": "$125,000.00",
        "holdback_pct": "10",
        "criteria": "1. Covers every interface\n\n- Traceable to requirements\n* Reviewed by security",
    } | overrides
    d = planning.create(db, actor, access, parse(DeliverableForm, values))
    if agreed and planning.active_criteria(db, d.id):
        agree_criteria(db, world, d)
    return d


@pytest.fixture
def store(tmp_path):
    return FileStore(tmp_path / "files", max_bytes=1024)


def test_a_manager_plans_a_deliverable_with_ordered_criteria(db, world):
    d = _plan(db, world)
    assert d.code == "D-07" and d.status == "planned" and str(d.payment_amount) == "125000.00"
    assert [c.text for c in planning.active_criteria(db, d.id)] == [
        "Covers every interface",
        "Traceable to requirements",
        "Reviewed by security",
    ]
    event = db.exec(
        select(AuditEvent).where(AuditEvent.entity_type == "deliverable", AuditEvent.action == "create")
    ).one()
    assert event.changes["criteria"][1][0] == "Covers every interface"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "D 7"}, "code"),
        ({"title": ""}, "title"),
        ({"holdback_pct": "150"}, "holdback_pct"),
        ({"payment_amount": "-5"}, "payment_amount"),
        ({"payment_amount": "12.345"}, "payment_amount"),
        ({"type": "poem"}, "type"),
        ({"due_date": "tomorrow"}, "due_date"),
    ],
)
def test_bad_plans_are_refused_field_by_field(db, world, change, field):
    with pytest.raises(FormError) as err:
        _plan(db, world, **change)
    assert field in err.value.errors


def test_codes_are_unique_per_project_and_review_leads_must_be_state_staff(db, world):
    _plan(db, world)
    with pytest.raises(FormError) as err:
        _plan(db, world, code="D-07")
    assert "already exists" in err.value.errors["code"]
    with pytest.raises(FormError) as err:
        _plan(db, world, code="D-08", owner_id=str(world.ids["contractor"]))
    assert "review lead" in err.value.errors["owner_id"]


def test_only_managers_plan(db, world):
    for role in ("staff", "contractor", "viewer"):
        actor, access = _as(db, world, role)
        with pytest.raises(Forbidden):
            planning.create(db, actor, access, parse(DeliverableForm, {"code": "X1", "title": "x"}))


def test_submission_starts_the_review_clock_in_business_days(db, world, store, clock):
    d = _plan(db, world)
    actor, access = _as(db, world, "contractor")
    # Friday 20 Nov 2026 (Los Angeles); 10 business days with Thanksgiving (26th) skipped -> 7 Dec.
    clock.set(at_noon(date(2026, 11, 20)))
    sub = submissions.submit(
        db, actor, access, d, "First draft", [Upload("../../SDD v1.pdf", "application/pdf", b"%PDF-1.7 body")], store
    )
    assert (sub.number, sub.review_due, d.status, d.current_version) == (1, date(2026, 12, 7), "submitted", 1)
    f = db.exec(select(SubmissionFile)).one()
    assert f.original_name == "SDD v1.pdf" and store.path_for(f.sha256).read_bytes() == b"%PDF-1.7 body"
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "submit")).one()
    assert event.changes["status"] == ["planned", "submitted"] and event.actor_id == actor.id


def test_submitting_needs_files_and_the_right_state_and_role(db, world, store):
    d = _plan(db, world)
    contractor, c_access = _as(db, world, "contractor")
    with pytest.raises(FormError):
        submissions.submit(db, contractor, c_access, d, "", [], store)
    viewer, v_access = _as(db, world, "viewer")
    with pytest.raises(Forbidden):
        submissions.submit(db, viewer, v_access, d, "", [Upload("a.txt", "text/plain", b"x")], store)
    submissions.submit(db, contractor, c_access, d, "", [Upload("a.txt", "text/plain", b"x")], store)
    with pytest.raises(Conflict) as err:  # submitted, not rejected: no second version yet
        submissions.submit(db, contractor, c_access, d, "", [Upload("b.txt", "text/plain", b"y")], store)
    assert "cannot" in err.value.detail
    assert len(db.exec(select(Submission)).all()) == 1


def test_an_oversized_file_is_refused_with_413(db, world, store):
    d = _plan(db, world)
    actor, access = _as(db, world, "contractor")
    with pytest.raises(TooLarge):
        submissions.submit(db, actor, access, d, "", [Upload("big.bin", "", b"x" * 2048)], store)


def test_resubmission_opens_the_next_version_and_carries_open_comments_forward(db, world, store):
    d = _plan(db, world)
    contractor, c_access = _as(db, world, "contractor")
    v1 = submissions.submit(db, contractor, c_access, d, "", [Upload("v1.pdf", "application/pdf", b"one")], store)
    reviewer = world.ids["staff"]
    db.add(Comment(submission_id=v1.id, reviewer_id=reviewer, text="Missing interface list", severity="critical"))
    db.add(Comment(submission_id=v1.id, reviewer_id=reviewer, text="Typo", severity="minor", disposition="resolved"))
    d.status = "rejected"  # the decision itself arrives with the review part of this issue
    db.flush()
    v2 = submissions.submit(db, contractor, c_access, d, "Fixed", [Upload("v2.pdf", "application/pdf", b"two")], store)
    assert v2.number == 2 and d.status == "submitted"
    carried = db.exec(select(Comment).where(Comment.submission_id == v2.id)).all()
    assert [(c.text, c.disposition, c.carried_from_id is not None) for c in carried] == [
        ("Missing interface list", "open", True)
    ]
    versions = submissions.submissions_of(db, d.id)
    assert [(s.number, [f.original_name for f in files]) for s, _, files in versions] == [
        (2, ["v2.pdf"]),
        (1, ["v1.pdf"]),
    ]


def test_criteria_are_free_before_the_first_submission_and_kept_on_record_after(db, world, store):
    d = _plan(db, world)
    manager, m_access = _as(db, world, "manager")
    planning.set_criteria(db, manager, m_access, d, ["Traceable to requirements", "New criterion"])
    assert [c.text for c in planning.active_criteria(db, d.id)] == ["Traceable to requirements", "New criterion"]
    assert len(db.exec(select(Criterion)).all()) == 2  # nothing to keep before submission
    v1 = criteria.current(db, d.id)
    assert v1.number == 1 and v1.agreed_at is None  # the change withdrew the agreement: it is agreed again
    agree_criteria(db, world, d)
    contractor, c_access = _as(db, world, "contractor")
    submissions.submit(db, contractor, c_access, d, "", [Upload("v1.pdf", "", b"one")], store)
    planning.set_criteria(db, manager, m_access, d, ["Traceable to requirements"])
    assert [c.text for c in planning.active_criteria(db, d.id)] == ["Traceable to requirements"]
    retired = db.exec(select(Criterion).where(Criterion.retired_at.is_not(None))).all()
    assert [c.text for c in retired] == ["New criterion"]
    assert len(db.exec(select(AuditEvent).where(AuditEvent.action == "criteria")).all()) == 2
    v2 = criteria.current(db, d.id)  # after the first submission a change is the next version; version 1 stays
    assert (v2.number, v2.agreed_at) == (2, None) and [c.text for c in criteria.criteria_of(db, v2)] == [
        "Traceable to requirements"
    ]
    assert [c.text for c in criteria.criteria_of(db, v1)] == ["Traceable to requirements", "New criterion"]


def test_the_running_clock_and_days_overdue_in_python_and_sql_agree(db, world):
    from datetime import timedelta

    from sqlmodel import func

    today = date(2026, 11, 20)
    _, access = _as(db, world, "manager")
    for n, status in enumerate(
        ("planned", "submitted", "in_review", "accepted", "conditionally_accepted", "rejected", "withdrawn") * 2
    ):
        day = today - timedelta(days=n - 5)
        db.add(
            Deliverable(
                project_id=access.project.id,
                code=f"C-{n}",
                title="x",
                status=status,
                due_date=day,
                review_due=day - timedelta(days=1),
                resubmit_due=day + timedelta(days=1),
            )
        )
    db.flush()
    rows = db.exec(select(Deliverable, service.clock_expr()).where(Deliverable.project_id == access.project.id)).all()
    assert [clock for _, clock in rows] == [service.running_clock(d) for d, _ in rows]
    for low, high in ((1, None), (None, 0), (2, 4), (0, None), (None, -1)):
        late = {
            d.code
            for d, _ in rows
            if (low is None or service.days_overdue(service.running_clock(d), today) >= low)
            and (high is None or service.days_overdue(service.running_clock(d), today) <= high)
        }
        found = db.exec(
            select(Deliverable.code).where(
                Deliverable.project_id == access.project.id, service.days_overdue_clause(today, low, high)
            )
        ).all()
        assert set(found) == late, (low, high)
    overdue = db.exec(select(func.count()).select_from(Deliverable).where(service.overdue_clause(today))).one()
    assert overdue == sum(1 for d, _ in rows if service.days_overdue(service.running_clock(d), today) > 0) > 0
