"""The record page's forms, as a person uses them: every action as a plain POST (303 back) and from htmx
(the record region re-rendered), with refusals re-rendered beside the form and nothing written."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import func, select

from tests.conftest import tst_today
from tests.deliverables.test_api import _plan
from tracker.audit.models import AuditEvent
from tracker.deliverables.models import Comment, CriterionResult, Decision, Deliverable, Submission

BASE = "/projects/TST/deliverables"


def _submit(b, did, name="PMP v1.docx", notes="First version"):
    return b.client.post(
        f"{BASE}/{did}/submit",
        data={"notes": notes, "_csrf_token": b.token},
        files={"files": (name, b"document bytes", "application/octet-stream")},
        follow_redirects=False,
    )


def _in_review(as_user):
    d = _plan(as_user)
    assert _submit(as_user("contractor"), d["id"]).status_code == 303
    assert as_user("staff").post(f"{BASE}/{d['id']}/start-review", {}).status_code == 303
    return d


def test_manager_plans_a_deliverable_with_criteria_through_the_form(as_user, db, world):
    manager = as_user("manager")
    form = manager.get(f"{BASE}/new")
    assert form.status_code == 200 and 'value="D-01"' in form.text  # the next code is suggested
    r = manager.post(
        f"{BASE}/",
        {
            "code": "d-01",
            "title": "Security Plan",
            "type": "plan",
            "due_date": "2026-12-18",
            "owner_id": str(world.ids["staff"]),
            "payment_amount": "$120,000",
            "holdback_pct": "10",
            "criteria": "1. Controls mapped to NIST 800-53\n- POA&M\n\n",
        },
    )
    assert r.status_code == 303
    d = db.exec(select(Deliverable).where(Deliverable.code == "D-01")).one()
    assert r.headers["location"] == f"{BASE}/{d.id}"
    page = manager.get(r.headers["location"])
    assert "Controls mapped to NIST 800-53" in page.text and "POA&amp;M" in page.text and "$12,000.00" in page.text


def test_a_bad_plan_keeps_the_input_and_writes_nothing(as_user, db, world):
    manager = as_user("manager")
    _plan(as_user)
    r = manager.post(f"{BASE}/", {"code": "D-01", "title": "", "criteria": "Kept criterion", "holdback_pct": "150"})
    assert r.status_code == 422
    assert 'id="f-title-error"' in r.text and 'id="f-holdback_pct-error"' in r.text and "Kept criterion" in r.text
    r = manager.post(f"{BASE}/", {"code": "D-01", "title": "Twin"})
    assert r.status_code == 422 and "D-01 already exists in TST" in r.text
    assert db.exec(select(func.count()).select_from(Deliverable)).one() == 1


@pytest.mark.parametrize("role", ["staff", "contractor", "viewer", "admin"])
def test_only_managers_plan(as_user, role):
    d = _plan(as_user)
    b = as_user(role)
    assert b.get(f"{BASE}/new").status_code == 403
    assert b.post(f"{BASE}/", {"code": "D-09", "title": "X"}).status_code == 403
    assert b.get(f"{BASE}/{d['id']}/edit").status_code == 403
    assert b.post(f"{BASE}/{d['id']}/edit", {"code": "D-01", "title": "X"}).status_code == 403
    assert "Edit plan and criteria" not in b.get(f"{BASE}/{d['id']}").text


def test_editing_the_plan_records_the_change_and_refuses_a_stale_form(as_user, db, world):
    d = _plan(as_user)
    manager = as_user("manager")
    page = manager.get(f"{BASE}/{d['id']}/edit")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    fields = {
        "code": "D-01",
        "title": "PMP (revised)",
        "type": "plan",
        "version": version,
        "criteria": "Schedule baseline included\nStaffing plan included",
    }
    assert manager.post(f"{BASE}/{d['id']}/edit", fields).status_code == 303
    stale = manager.post(f"{BASE}/{d['id']}/edit", fields | {"title": "Someone else's title"})
    assert stale.status_code == 409 and "Someone else saved this record" in stale.text
    assert "Someone else&#39;s title" in stale.text  # the user's input is kept
    renamed = manager.post(f"{BASE}/{d['id']}/edit", fields | {"code": "D-99", "version": str(int(version) + 1)})
    assert renamed.status_code == 422 and "fixed once planned" in renamed.text
    actions = db.exec(
        select(AuditEvent.action).where(AuditEvent.entity_type == "deliverable").order_by(AuditEvent.id)
    ).all()
    assert actions == ["create", "agree_criteria", "acknowledge_criteria", "update", "criteria"]


def test_contractor_submits_with_files_and_a_missing_file_is_refused(as_user, uploads, db):
    d = _plan(as_user)
    contractor = as_user("contractor")
    r = contractor.post(f"{BASE}/{d['id']}/submit", {"notes": "kept notes"})
    assert r.status_code == 422 and "Attach at least one file" in r.text and "kept notes" in r.text
    assert db.exec(select(func.count()).select_from(Submission)).one() == 0
    r = _submit(contractor, d["id"])
    assert r.status_code == 303 and r.headers["location"].endswith("#submissions")
    page = contractor.get(r.headers["location"].split("#")[0])
    assert "PMP v1.docx" in page.text and "Version 1 submitted" in page.text
    assert as_user("viewer").post(f"{BASE}/{d['id']}/submit", {}).status_code == 403


def test_review_comment_respond_resolve_results_then_accept(as_user, uploads, db, world):
    d = _in_review(as_user)
    staff, contractor, manager = as_user("staff"), as_user("contractor"), as_user("manager")
    r = staff.post(f"{BASE}/{d['id']}/comments", {"severity": "", "location": "§2", "text": "No baseline"})
    assert r.status_code == 422 and "No baseline" in r.text
    r = staff.post(
        f"{BASE}/{d['id']}/comments", {"severity": "critical", "location": "§2", "text": "No baseline"}, htmx=True
    )
    assert r.status_code == 200 and r.text.lstrip().startswith('<div id="record"') and "Comment #" in r.text
    comment = db.exec(select(Comment)).one()

    refused = manager.post(f"{BASE}/{d['id']}/decision", {"outcome": "accepted", "version": "99"})
    assert refused.status_code == 409
    refused = manager.post(f"{BASE}/{d['id']}/decision", {"outcome": "accepted"})
    assert refused.status_code == 409 and "1 critical comment is still open" in refused.text
    assert "Criterion 1 has no result yet" in refused.text
    assert db.exec(select(func.count()).select_from(Decision)).one() == 0

    assert (
        contractor.post(
            f"{BASE}/{d['id']}/comments/{comment.id}", {"disposition": "resolved", "version": str(comment.version)}
        ).status_code
        == 403
    )
    r = contractor.post(
        f"{BASE}/{d['id']}/comments/{comment.id}", {"response": "Baseline in §2.3", "version": str(comment.version)}
    )
    assert r.status_code == 303
    stale = staff.post(
        f"{BASE}/{d['id']}/comments/{comment.id}", {"disposition": "resolved", "version": str(comment.version)}
    )
    assert stale.status_code == 409 and "Baseline in §2.3" in stale.text
    db.refresh(comment)
    assert (
        staff.post(
            f"{BASE}/{d['id']}/comments/{comment.id}", {"disposition": "resolved", "version": str(comment.version)}
        ).status_code
        == 303
    )
    from tracker.deliverables.planning import active_criteria

    for c in active_criteria(db, d["id"]):
        r = staff.post(f"{BASE}/{d['id']}/criteria/{c.id}", {"outcome": "met", "evidence": "Checked"}, htmx=True)
        assert r.status_code == 200
    assert db.exec(select(func.count()).select_from(CriterionResult)).one() == 2
    assert "Ready" in manager.get(f"{BASE}/{d['id']}").text
    r = manager.post(f"{BASE}/{d['id']}/decision", {"outcome": "accepted"})
    assert r.status_code == 303
    page = manager.get(f"{BASE}/{d['id']}")
    assert "Accepted" in page.text and "Manager Person" in page.text and "released on acceptance" in page.text


def test_reject_needs_findings_and_conditions_need_a_date(as_user, uploads, db):
    d = _in_review(as_user)
    manager = as_user("manager")
    r = manager.post(f"{BASE}/{d['id']}/decision", {"outcome": "rejected", "findings": " "})
    assert r.status_code == 422 and "A rejection needs findings" in r.text
    r = manager.post(f"{BASE}/{d['id']}/decision", {"outcome": "conditionally_accepted", "conditions": "Fix §4"})
    assert r.status_code == 422 and "Give the date the conditions are due" in r.text and "Fix §4" in r.text
    r = manager.post(f"{BASE}/{d['id']}/decision", {"outcome": ""})
    assert r.status_code == 422
    assert (
        as_user("staff").post(f"{BASE}/{d['id']}/decision", {"outcome": "rejected", "findings": "x"}).status_code == 403
    )
    assert db.exec(select(func.count()).select_from(Decision)).one() == 0
    r = manager.post(f"{BASE}/{d['id']}/decision", {"outcome": "rejected", "findings": "Schedule missing"})
    assert r.status_code == 303
    page = manager.get(f"{BASE}/{d['id']}")
    assert "Schedule missing" in page.text
    assert "Submit version 2" not in as_user("viewer").get(f"{BASE}/{d['id']}").text
    contractor_page = as_user("contractor").get(f"{BASE}/{d['id']}")
    assert "Submit version 2" in contractor_page.text and "resubmission due" in contractor_page.text


def test_withdraw_needs_a_reason(as_user, uploads, db):
    d = _plan(as_user)
    manager = as_user("manager")
    r = manager.post(f"{BASE}/{d['id']}/withdraw", {"reason": ""})
    assert r.status_code == 422 and "Say why" in r.text
    assert manager.post(f"{BASE}/{d['id']}/withdraw", {"reason": "Descoped by change order 7"}).status_code == 303
    page = manager.get(f"{BASE}/{d['id']}")
    assert "Descoped by change order 7" in page.text and "This deliverable is closed" in page.text


def test_invalid_transition_from_the_page_is_a_clear_409(as_user, uploads, db):
    d = _plan(as_user)
    r = as_user("manager").post(f"{BASE}/{d['id']}/start-review", {})
    assert r.status_code == 409 and "Nothing has been submitted yet." in r.text
    assert db.exec(select(Deliverable.status)).one() == "planned"


def test_comment_filter_swaps_only_the_log_and_works_without_js(as_user, uploads, db):
    d = _in_review(as_user)
    staff = as_user("staff")
    for severity, text in (("critical", "Critical gap"), ("minor", "Typo on p. 3")):
        staff.post(f"{BASE}/{d['id']}/comments", {"severity": severity, "text": text})
    r = staff.get(f"{BASE}/{d['id']}/comments?severity=minor", headers={"HX-Request": "true"})
    assert r.text.lstrip().startswith('<div id="comment-log"')
    assert "Typo on p. 3" in r.text and "Critical gap" not in r.text and "1 of 2 comments" in r.text
    r = staff.get(f"{BASE}/{d['id']}/comments?severity=minor", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith(f"{d['id']}?severity=minor#comments")
    assert "<td>Critical gap</td>" not in staff.get(f"{BASE}/{d['id']}?severity=minor").text
    assert staff.get(f"{BASE}/{d['id']}?severity=bogus").status_code == 422


def test_assigning_a_reviewer_shows_the_due_date_and_refuses_contractors(as_user, uploads, db, world):
    d = _in_review(as_user)
    manager = as_user("manager")
    r = manager.post(f"{BASE}/{d['id']}/reviewers", {"reviewer_id": str(world.ids["staff"])})
    assert r.status_code == 303
    again = manager.post(f"{BASE}/{d['id']}/reviewers", {"reviewer_id": str(world.ids["staff"])})
    assert again.status_code == 422 and "Already assigned" in again.text
    bad = manager.post(f"{BASE}/{d['id']}/reviewers", {"reviewer_id": str(world.ids["contractor"])})
    assert bad.status_code == 422 and "Reviewers must be managers or staff" in bad.text
    assert "Staff Person" in manager.get(f"{BASE}/{d['id']}").text


def test_timeline_shows_comments_and_decisions_to_the_state_only(as_user, uploads, db):
    d = _in_review(as_user)
    as_user("staff").post(f"{BASE}/{d['id']}/comments", {"severity": "minor", "text": "Typo"})
    page = as_user("viewer").get(f"{BASE}/{d['id']}")
    assert "Timeline" in page.text and "commented on" in page.text and "started the review of" in page.text
    assert "Timeline" not in as_user("contractor").get(f"{BASE}/{d['id']}").text


def test_record_page_query_count_does_not_grow_with_comments(as_user, uploads, db, count_queries):
    d = _in_review(as_user)
    staff = as_user("staff")

    def count() -> int:
        with count_queries() as counter:
            assert staff.get(f"{BASE}/{d['id']}").status_code == 200
        return counter.count

    staff.post(f"{BASE}/{d['id']}/comments", {"severity": "minor", "text": "One"})
    few = count()
    for i in range(20):
        staff.post(f"{BASE}/{d['id']}/comments", {"severity": "major", "text": f"Comment {i}"})
    assert count() == few


def test_every_action_from_the_page_refuses_a_stale_form(as_user, uploads, db):
    """A form read before someone else's change is refused with 409 beside it, and changes nothing."""
    d = _plan(as_user)
    contractor, staff, manager = as_user("contractor"), as_user("staff"), as_user("manager")
    seen = str(d["version"])  # the page as it stood before the contractor submitted
    assert _submit(contractor, d["id"]).status_code == 303
    r = staff.post(f"{BASE}/{d['id']}/start-review", {"version": seen})
    assert r.status_code == 409 and "changed by someone else" in r.text
    r = manager.post(f"{BASE}/{d['id']}/withdraw", {"reason": "Descoped", "version": seen}, htmx=True)
    assert r.status_code == 409 and "Descoped" in r.text  # the reason is kept
    assert db.exec(select(Deliverable.status)).one() == "submitted"
    current = db.exec(select(Deliverable.version)).one()
    assert staff.post(f"{BASE}/{d['id']}/start-review", {"version": str(current)}).status_code == 303

    from tracker.deliverables.planning import active_criteria

    c = active_criteria(db, d["id"])[0]
    assert staff.post(f"{BASE}/{d['id']}/criteria/{c.id}", {"outcome": "met", "version": "0"}).status_code == 303
    r = manager.post(f"{BASE}/{d['id']}/criteria/{c.id}", {"outcome": "not_met", "version": "0"})
    assert r.status_code == 409 and "changed by someone else" in r.text
    assert db.exec(select(CriterionResult.outcome)).one() == "met"

    for other in active_criteria(db, d["id"])[1:]:
        staff.post(f"{BASE}/{d['id']}/criteria/{other.id}", {"outcome": "met", "version": "0"})
    seen = str(db.exec(select(Deliverable.version)).one())  # before the conditional acceptance
    due = (tst_today() + timedelta(days=10)).isoformat()
    r = manager.post(
        f"{BASE}/{d['id']}/decision",
        {"outcome": "conditionally_accepted", "conditions": "Sign\nDate", "conditions_due": due},
    )
    assert r.status_code == 303
    r = manager.post(f"{BASE}/{d['id']}/conditions-met", {"evidence": "Signed", "version": seen})
    assert r.status_code == 409 and "changed by someone else" in r.text
    assert db.exec(select(Deliverable.status)).one() == "conditionally_accepted"
