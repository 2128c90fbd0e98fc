"""Review and decision rules: comments, dispositions, criteria results, accept/conditional/reject, withdraw."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from tests.conftest import at_noon, tst_today
from tests.deliverables.test_service import _as, _plan
from tracker.audit.models import AuditEvent
from tracker.core.errors import Conflict, Forbidden, FormError, StaleEdit
from tracker.core.files import FileStore
from tracker.core.forms import parse
from tracker.deliverables import decisions, planning, reviews, service, submissions
from tracker.deliverables.decisions import DecisionForm
from tracker.deliverables.models import Decision, ReviewAssignment
from tracker.deliverables.reviews import CommentForm
from tracker.deliverables.submissions import Upload


@pytest.fixture
def in_review(db, world, tmp_path):
    """D-07 submitted by the contractor and under review by staff."""
    d = _plan(db, world)
    contractor, c_access = _as(db, world, "contractor")
    submissions.submit(
        db, contractor, c_access, d, "", [Upload("v1.pdf", "application/pdf", b"v1")], FileStore(tmp_path, 1024)
    )
    staff, s_access = _as(db, world, "staff")
    reviews.start_review(db, staff, s_access, d, reviewer_ids=[world.ids["staff"], world.ids["manager"]])
    return d


@pytest.fixture
def store(tmp_path):
    return FileStore(tmp_path / "records", 10 * 1024 * 1024)


def _decide(db, world, store, d, role="manager", **values):
    actor, access = _as(db, world, role)
    return decisions.decide(db, actor, access, d, parse(DecisionForm, values), store=store)


def _meet_all(db, world, d):
    staff, access = _as(db, world, "staff")
    for c in planning.active_criteria(db, d.id):
        reviews.record_result(db, staff, access, d, c.id, "met", "Checked in review session")


def test_start_review_assigns_reviewers_due_with_the_submission(db, world, in_review):
    assert in_review.status == "in_review"
    assignments = db.exec(select(ReviewAssignment)).all()
    assert {a.reviewer_id for a in assignments} == {world.ids["staff"], world.ids["manager"]}
    assert all(a.due_date == in_review.review_due for a in assignments)
    staff, access = _as(db, world, "staff")
    with pytest.raises(FormError):
        reviews.assign_reviewer(db, staff, access, in_review, world.ids["contractor"])


def test_accept_is_refused_and_says_exactly_what_blocks_it(db, world, in_review, store):
    staff, access = _as(db, world, "staff")
    comment = reviews.add_comment(
        db,
        staff,
        access,
        in_review,
        parse(CommentForm, {"location": "§3.2", "text": "Interface list is missing", "severity": "critical"}),
    )
    criteria = planning.active_criteria(db, in_review.id)
    reviews.record_result(db, staff, access, in_review, criteria[0].id, "met")
    reviews.record_result(db, staff, access, in_review, criteria[1].id, "not_met", "No trace matrix")
    with pytest.raises(Conflict) as err:
        _decide(db, world, store, in_review, outcome="accepted")
    blockers = err.value.extra["blockers"]
    assert blockers == [
        "Criterion 2 is not met: “Traceable to requirements”.",
        "Criterion 3 has no result yet: “Reviewed by security”.",
        "1 critical comment is still open.",
    ]
    assert in_review.status == "in_review" and db.exec(select(Decision)).first() is None

    contractor, c_access = _as(db, world, "contractor")
    reviews.respond(db, contractor, c_access, comment.id, "Added in §3.2, table 4", version=comment.version)
    reviews.set_disposition(db, staff, access, comment.id, "resolved")
    _meet_all(db, world, in_review)
    decision = _decide(db, world, store, in_review, outcome="accepted", findings="All criteria met.")
    assert in_review.status == "accepted" and decision.decided_by_id == world.ids["manager"]
    assert all(a.completed_at for a in db.exec(select(ReviewAssignment)))
    actions = db.exec(
        select(AuditEvent.action).where(AuditEvent.entity_type == "deliverable").order_by(AuditEvent.id)
    ).all()
    # the letters come after the decision commits (records.generate_after_commit), in a transaction of their own
    assert actions == ["create", "agree_criteria", "acknowledge_criteria", "submit", "start_review", "accept"]


def test_not_applicable_counts_as_satisfied(db, world, in_review):
    staff, access = _as(db, world, "staff")
    for c in planning.active_criteria(db, in_review.id):
        reviews.record_result(db, staff, access, in_review, c.id, "not_applicable")
    assert decisions.acceptance_blockers(db, in_review) == []


def test_only_managers_decide(db, world, store, in_review):
    _meet_all(db, world, in_review)
    for role in ("staff", "contractor", "viewer"):
        with pytest.raises(Forbidden):
            _decide(db, world, store, in_review, role=role, outcome="accepted")
    assert in_review.status == "in_review"


def test_reject_needs_findings_and_starts_the_resubmission_clock(db, world, in_review, store, clock):
    with pytest.raises(FormError) as err:
        _decide(db, world, store, in_review, outcome="rejected", findings="  ")
    assert "findings" in err.value.errors
    clock.set(at_noon(date(2026, 11, 20)))
    _decide(db, world, store, in_review, outcome="rejected", findings="Section 3 incomplete")
    assert in_review.status == "rejected" and in_review.resubmit_due == date(2026, 12, 7)
    assert in_review.review_due is None


def test_conditional_acceptance_needs_conditions_and_a_future_date_then_closes(db, world, in_review, store):
    with pytest.raises(FormError) as err:
        _decide(db, world, store, in_review, outcome="conditionally_accepted")
    assert set(err.value.errors) == {"conditions", "conditions_due"}
    due = (tst_today() + timedelta(days=30)).isoformat()
    first = _decide(
        db, world, store, in_review, outcome="conditionally_accepted", conditions="Fix typos", conditions_due=due
    )
    assert in_review.status == "conditionally_accepted"
    manager, access = _as(db, world, "manager")
    closing = decisions.conditions_met(db, manager, access, in_review, "Verified", store=store)
    assert in_review.status == "accepted" and closing.closes_id == first.id and closing.outcome == "accepted"


def test_a_second_decision_on_the_same_version_cannot_be_written(db, world, in_review, store):
    _decide(db, world, store, in_review, outcome="rejected", findings="No")
    submission = service.current_submission(db, in_review)
    db.add(Decision(deliverable_id=in_review.id, submission_id=submission.id, outcome="accepted"))
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()


def test_decisions_refuse_wrong_states(db, world, in_review, store):
    _decide(db, world, store, in_review, outcome="rejected", findings="No")
    with pytest.raises(Conflict):
        _decide(db, world, store, in_review, outcome="accepted")
    staff, access = _as(db, world, "staff")
    with pytest.raises(Conflict):
        reviews.add_comment(db, staff, access, in_review, parse(CommentForm, {"text": "late", "severity": "minor"}))


def test_stale_comment_edits_are_refused(db, world, in_review):
    staff, access = _as(db, world, "staff")
    comment = reviews.add_comment(db, staff, access, in_review, parse(CommentForm, {"text": "x", "severity": "major"}))
    seen = comment.version
    reviews.set_disposition(db, staff, access, comment.id, "deferred", version=seen)
    contractor, c_access = _as(db, world, "contractor")
    with pytest.raises(StaleEdit):
        reviews.respond(db, contractor, c_access, comment.id, "answer", version=seen)


def test_contractors_answer_but_never_disposition_or_judge(db, world, in_review):
    staff, access = _as(db, world, "staff")
    comment = reviews.add_comment(db, staff, access, in_review, parse(CommentForm, {"text": "x", "severity": "minor"}))
    contractor, c_access = _as(db, world, "contractor")
    with pytest.raises(Forbidden):
        reviews.set_disposition(db, contractor, c_access, comment.id, "resolved")
    with pytest.raises(Forbidden):
        reviews.record_result(
            db, contractor, c_access, in_review, planning.active_criteria(db, in_review.id)[0].id, "met"
        )
    with pytest.raises(FormError):
        reviews.respond(db, contractor, c_access, comment.id, "   ")


def test_withdraw_needs_a_reason_and_closes_the_clock(db, world, in_review):
    manager, access = _as(db, world, "manager")
    with pytest.raises(FormError):
        decisions.withdraw(db, manager, access, in_review, "")
    decisions.withdraw(db, manager, access, in_review, "Descoped by change order 12")
    assert in_review.status == "withdrawn" and in_review.review_due is None
    with pytest.raises(Conflict):
        decisions.withdraw(db, manager, access, in_review, "again")
