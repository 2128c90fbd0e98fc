"""The acceptance record cannot be bent: comments freeze at the decision, criteria are agreed before the first
submission and versioned after it, and conditions are tracked one by one to their due dates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from tests.conftest import agree_criteria, at_noon, tst_today
from tests.deliverables.test_api import PLAN, _plan
from tests.deliverables.test_service import _as
from tests.deliverables.test_service import _plan as plan
from tracker.audit.models import AuditEvent
from tracker.core.errors import Conflict, Forbidden, FormError
from tracker.core.files import FileStore
from tracker.core.forms import parse
from tracker.deliverables import conditions, criteria, decisions, planning, records, reviews, submissions
from tracker.deliverables.decisions import DecisionForm
from tracker.deliverables.models import Condition, Decision
from tracker.deliverables.reviews import CommentForm
from tracker.deliverables.submissions import Upload

BASE = "/projects/TST/deliverables"
PDF = {"files": ("v.pdf", b"%PDF-1.4", "application/pdf")}


@pytest.fixture
def store(tmp_path) -> FileStore:
    return FileStore(tmp_path / "files", 1024 * 1024)


def _review(db, world, store, d):
    submissions.submit(db, *_as(db, world, "contractor"), d, "", [Upload("v.pdf", "", b"%PDF")], store)
    reviews.start_review(db, *_as(db, world, "staff"), d)
    return d


def _decide(db, world, store, d, **values):
    return decisions.decide(db, *_as(db, world, "manager"), d, parse(DecisionForm, values), store=store)


def _meet_all(db, world, d) -> None:
    for c in planning.active_criteria(db, d.id):
        reviews.record_result(db, *_as(db, world, "staff"), d, c.id, "met")


# --- comments freeze at the decision ------------------------------------------------------------------


def test_a_decided_versions_comments_can_no_longer_change_on_the_api_or_the_page(as_user, uploads):
    d = _plan(as_user)
    contractor, staff, manager = as_user("contractor"), as_user("staff"), as_user("manager")
    contractor.api("POST", f"/api/v1/deliverables/{d['id']}/submissions", files=PDF)
    staff.api("POST", f"/api/v1/deliverables/{d['id']}/transition", json={"action": "start_review"})
    c = staff.api(
        "POST", f"/api/v1/deliverables/{d['id']}/comments", json={"text": "Index missing", "severity": "critical"}
    ).json()
    c = contractor.api(
        "POST",
        f"/api/v1/deliverables/{d['id']}/comments/{c['id']}",
        json={"response": "Added on p. 3", "version": c["version"]},
    ).json()
    r = manager.api("POST", f"/api/v1/deliverables/{d['id']}/decision", json={"outcome": "rejected", "findings": "No"})
    assert r.status_code == 201, r.text
    # The letter quotes the response and the disposition as they stood: nobody may change them now.
    changes = (
        {"response": "Actually it was never missing", "version": c["version"]},
        {"disposition": "resolved", "version": c["version"]},
    )
    for who, body in ((contractor, changes[0]), (staff, changes[1]), (manager, changes[1])):
        r = who.api("POST", f"/api/v1/deliverables/{d['id']}/comments/{c['id']}", json=body)
        assert r.status_code == 409 and "stay on the record as they stood" in r.json()["detail"], r.text
    r = contractor.post(f"{BASE}/{d['id']}/comments/{c['id']}", {"response": "Rewritten", "version": c["version"]})
    assert r.status_code == 409 and "stay on the record as they stood" in r.text
    page = contractor.get(f"{BASE}/{d['id']}").text
    assert f'id="response-{c["id"]}"' not in page  # no form offered either
    # The open comment lives on as an editable copy on version 2.
    contractor.api("POST", f"/api/v1/deliverables/{d['id']}/submissions", files=PDF)
    copy = contractor.api("GET", f"/api/v1/deliverables/{d['id']}/comments").json()[0]
    assert copy["carried_from_id"] == c["id"] and copy["response"] == "Added on p. 3"
    r = contractor.api(
        "POST",
        f"/api/v1/deliverables/{d['id']}/comments/{copy['id']}",
        json={"response": "Index added in v2", "version": copy["version"]},
    )
    assert r.status_code == 200 and r.json()["response"] == "Index added in v2"
    r = contractor.api("GET", f"/api/v1/deliverables/{d['id']}/submissions")
    assert [s["number"] for s in r.json()] == [2, 1]


def test_a_critical_comment_cannot_be_reopened_on_an_accepted_deliverable(db, world, store):
    d = _review(db, world, store, plan(db, world))
    staff, access = _as(db, world, "staff")
    c = reviews.add_comment(db, staff, access, d, parse(CommentForm, {"text": "Wrong totals", "severity": "critical"}))
    reviews.set_disposition(db, staff, access, c.id, "resolved")
    _meet_all(db, world, d)
    _decide(db, world, store, d, outcome="accepted")
    with pytest.raises(Conflict, match="stay on the record"):
        reviews.set_disposition(db, staff, access, c.id, "open")
    with pytest.raises(Conflict, match="stay on the record"):
        reviews.respond(db, *_as(db, world, "contractor"), c.id, "Changed my mind")


# --- the criteria are agreed before the first submission ------------------------------------------------


def test_nothing_is_submitted_until_the_state_agrees_and_the_contractor_acknowledges(db, world, store):
    d = plan(db, world, agreed=False)
    contractor, c_access = _as(db, world, "contractor")
    manager, m_access = _as(db, world, "manager")
    upload = [Upload("v.pdf", "", b"%PDF")]
    with pytest.raises(Conflict, match="is not agreed yet"):
        submissions.submit(db, contractor, c_access, d, "", upload, store)
    with pytest.raises(Conflict, match="has not been agreed by the State yet"):
        criteria.acknowledge(db, contractor, c_access, d)
    for role in ("staff", "contractor", "viewer"):
        with pytest.raises(Forbidden):
            criteria.agree(db, *_as(db, world, role), d)
    criteria.agree(db, manager, m_access, d)
    with pytest.raises(Conflict, match="has not acknowledged it yet"):
        submissions.submit(db, contractor, c_access, d, "", upload, store)
    for role in ("manager", "staff", "viewer"):  # the acknowledgment is the contractor's own word
        with pytest.raises(Forbidden):
            criteria.acknowledge(db, *_as(db, world, role), d)
    criteria.acknowledge(db, contractor, c_access, d)
    assert submissions.submit(db, contractor, c_access, d, "", upload, store).number == 1
    version = criteria.current(db, d.id)
    assert (version.agreed_by_id, version.acknowledged_by_id) == (world.ids["manager"], world.ids["contractor"])
    assert version.agreed_at <= version.acknowledged_at
    events = db.exec(
        select(AuditEvent.action, AuditEvent.actor_id)
        .where(AuditEvent.entity_id == d.id, AuditEvent.entity_type == "deliverable")
        .order_by(AuditEvent.id)
    ).all()
    assert ("agree_criteria", world.ids["manager"]) in events and (
        "acknowledge_criteria",
        world.ids["contractor"],
    ) in events


def test_a_deliverable_with_no_criteria_can_neither_be_agreed_nor_accepted(db, world, store):
    d = plan(db, world, criteria="")
    with pytest.raises(FormError) as err:
        criteria.agree(db, *_as(db, world, "manager"), d)
    assert "at least one acceptance criterion" in err.value.errors["criteria"]
    assert criteria.agreement_missing(criteria.current(db, d.id)).startswith(
        "The deliverable has no acceptance criteria"
    )


def test_the_agreement_shows_on_the_page_and_is_recorded_from_it(as_user, uploads):
    d = _plan(as_user, agreed=False)
    manager, contractor = as_user("manager"), as_user("contractor")
    page = contractor.get(f"{BASE}/{d['id']}").text
    assert "Not agreed" in page and "Acknowledge criteria" not in page and 'name="files"' not in page
    r = manager.post(f"{BASE}/{d['id']}/criteria/agree", {"version": str(d["version"])})
    assert r.status_code == 303
    page = contractor.get(f"{BASE}/{d['id']}").text
    assert "Awaiting the contractor" in page and "agreed" in page and "Manager Person" in page
    version = manager.api("GET", f"/api/v1/deliverables/{d['id']}").json()["version"]
    assert contractor.post(f"{BASE}/{d['id']}/criteria/acknowledge", {"version": str(version)}).status_code == 303
    body = contractor.api("GET", f"/api/v1/deliverables/{d['id']}/criteria").json()
    assert (
        body["ready_to_submit"]
        and body["agreed_by"] == "Manager Person"
        and body["acknowledged_by"] == "Contractor Person"
    )
    assert [c["text"] for c in body["criteria"]] == PLAN["criteria"] and all(c["id"] for c in body["criteria"])
    assert 'name="files"' in contractor.get(f"{BASE}/{d['id']}").text


# --- criteria are versioned ----------------------------------------------------------------------------


def test_a_change_to_the_criteria_alone_moves_the_version_so_a_stale_edit_gets_409(as_user, uploads):
    d = _plan(as_user)
    manager = as_user("manager")
    url = f"/api/v1/deliverables/{d['id']}"
    r = manager.api("PATCH", url, json={"criteria": ["Schedule baseline included"], "version": d["version"]})
    assert r.status_code == 200 and r.json()["version"] > d["version"]
    stale = manager.api("PATCH", url, json={"title": "Made from the old page", "version": d["version"]})
    assert stale.status_code == 409
    stale = manager.api("PATCH", url, json={"criteria": ["Something else"], "version": d["version"]})
    assert stale.status_code == 409
    assert manager.api("GET", f"{url}/criteria").json()["criteria"][0]["text"] == "Schedule baseline included"


@pytest.mark.parametrize(
    "texts",
    [["Covers every interface", "Covers every interface"], ["Covers every interface", "  covers   EVERY interface "]],
)
def test_a_criterion_listed_twice_is_refused(as_user, uploads, texts):
    r = as_user("manager").api("POST", "/api/v1/projects/TST/deliverables", json=PLAN | {"criteria": texts})
    assert r.status_code == 422 and "repeats criterion 1" in r.text
    page = as_user("manager").post(f"{BASE}/", {"code": "D-02", "title": "Twice", "criteria": "\n".join(texts)})
    assert page.status_code == 422 and "repeats criterion 1" in page.text and "Twice" in page.text


def test_after_the_first_submission_a_change_is_a_new_version_and_the_letter_names_the_one_judged(db, world, store):
    d = _review(db, world, store, plan(db, world))
    manager, m_access = _as(db, world, "manager")
    planning.set_criteria(db, manager, m_access, d, ["Covers every interface", "Traceable to requirements"])
    assert criteria.current(db, d.id).number == 2
    planning.set_criteria(db, manager, m_access, d, ["Covers every interface"])  # v2 is not agreed: edited in place
    assert criteria.current(db, d.id).number == 2
    rejected = _decide(db, world, store, d, outcome="rejected", findings="Interfaces incomplete")
    assert rejected.criteria_version == 2
    criteria.agree(db, manager, m_access, d)
    criteria.acknowledge(db, *_as(db, world, "contractor"), d)
    planning.set_criteria(db, manager, m_access, d, ["Covers every interface", "Signed by the architect"])
    v3 = criteria.current(db, d.id)
    assert v3.number == 3 and v3.agreed_at is None  # v2 was agreed and judged: it never changes
    with pytest.raises(Conflict, match="not agreed yet"):  # the next submission waits for version 3's agreement
        submissions.submit(db, *_as(db, world, "contractor"), d, "", [Upload("v2.pdf", "", b"%PDF2")], store)
    agree_criteria(db, world, d)
    _review(db, world, store, d)
    _meet_all(db, world, d)
    accepted = _decide(db, world, store, d, outcome="accepted")
    assert accepted.criteria_version == 3
    g = records.gather(db, accepted.id)
    assert [c.text for c in g.criteria] == ["Covers every interface", "Signed by the architect"]
    letter = records.compose(g, records.RecordKind.ACCEPTANCE_LETTER)
    judged = dict(letter.facts)["Judged against"]
    assert judged.startswith("acceptance criteria version 3, agreed") and "Manager Person" in judged
    assert [c.text for c in records.gather(db, rejected.id).criteria] == ["Covers every interface"]


# --- conditions are tracked ---------------------------------------------------------------------------


def _conditional(db, world, store, **extra):
    d = _review(db, world, store, plan(db, world))
    due = (tst_today() + timedelta(days=10)).isoformat()
    decision = _decide(
        db,
        world,
        store,
        d,
        outcome="conditionally_accepted",
        conditions="Fix typos\nAdd the index",
        conditions_due=due,
        conditions_owner_id=str(world.ids["contractor"]),
        **extra,
    )
    return d, decision


def test_each_condition_has_a_due_date_and_an_owner_and_the_last_one_met_accepts(db, world, store):
    d, decision = _conditional(db, world, store)
    rows = conditions.open_of(db, d.id)
    assert [(c.position, c.text, c.owner_id) for c in rows] == [
        (1, "Fix typos", world.ids["contractor"]),
        (2, "Add the index", world.ids["contractor"]),
    ]
    manager, m_access = _as(db, world, "manager")
    later = tst_today() + timedelta(days=30)
    conditions.update(
        db,
        manager,
        m_access,
        d,
        rows[1].id,
        parse(
            conditions.ConditionForm,
            {"due_date": later.isoformat(), "owner_id": str(world.ids["staff"]), "version": rows[1].version},
        ),
    )
    assert (rows[1].due_date, rows[1].owner_id) == (later, world.ids["staff"])
    with pytest.raises(FormError) as err:
        decisions.confirm_condition(db, manager, m_access, d, rows[0].id, "  ", store=store)
    assert "evidence" in err.value.errors
    with pytest.raises(Forbidden):
        decisions.confirm_condition(db, *_as(db, world, "staff"), d, rows[0].id, "Done", store=store)
    assert (
        decisions.confirm_condition(db, manager, m_access, d, rows[0].id, "Typos fixed in v1.1 p. 4", store=store)
        is None
    )
    assert d.status == "conditionally_accepted" and rows[0].met_by_id == world.ids["manager"] and rows[0].met_at
    closing = decisions.confirm_condition(db, manager, m_access, d, rows[1].id, "Index on p. 2", store=store)
    assert d.status == "accepted" and closing.closes_id == decision.id
    assert "Typos fixed in v1.1 p. 4" in closing.findings and "Index on p. 2" in closing.findings
    with pytest.raises(Conflict, match="is met"):
        conditions.update(
            db, manager, m_access, d, rows[0].id, parse(conditions.ConditionForm, {"due_date": later.isoformat()})
        )


def test_a_conditions_owner_must_be_a_member(db, world, store):
    d = _review(db, world, store, plan(db, world))
    with pytest.raises(FormError) as err:
        _decide(
            db,
            world,
            store,
            d,
            outcome="conditionally_accepted",
            conditions="Fix typos",
            conditions_due=(tst_today() + timedelta(days=5)).isoformat(),
            conditions_owner_id=str(world.ids["outsider"]),
        )
    assert "member" in err.value.errors["conditions_owner_id"]
    assert db.exec(select(Decision)).first() is None and db.exec(select(Condition)).first() is None


def test_an_overdue_condition_shows_on_the_deliverable_page(as_user, db, world, app, clock):
    store = FileStore.from_settings(app.state.settings)
    d, _ = _conditional(db, world, store)
    db.commit()
    clock.set(at_noon(tst_today() + timedelta(days=13)))
    page = as_user("viewer").get(f"{BASE}/{d.id}").text
    assert "Fix typos" in page and "Add the index" in page and page.count("overdue</span>") >= 2
    manager = as_user("manager")
    first = conditions.open_of(db, d.id)[0]
    r = manager.post(f"{BASE}/{d.id}/conditions/{first.id}/met", {"evidence": "", "version": str(first.version)})
    assert r.status_code == 422 and "Say how the condition was met" in r.text
    r = manager.post(
        f"{BASE}/{d.id}/conditions/{first.id}/met", {"evidence": "Typos fixed", "version": str(first.version)}
    )
    assert r.status_code == 303
    page = manager.get(f"{BASE}/{d.id}").text
    assert "confirmed by Manager Person" in page and "Evidence: Typos fixed" in page
