"""The decision log: a register kind recorded and changed through the generic register pages and API (stale edits
409, bad input beside the field), read by those who read the register; and the merged log, which reads every
decision of the project from where it is kept (the log, deliverables, change requests, issues), each reader seeing
only the sources they may read, in a fixed number of queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from tests.register.conftest import (
    REGISTER_ROLES,
    acting,
    api_readers,
    found_by_readers,
    make_issue,
    make_risk,
    reads_and_records,
    round_trip,
    watched_and_mentioned,
)
from tests.test_mail import dispatcher
from tests.transfer.conftest import other, plan_deliverables  # noqa: F401 (`other` is a fixture)
from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.core.errors import FormError
from tracker.core.forms import parse
from tracker.core.spreadsheet import read_table
from tracker.deliverables.models import Decision, Submission
from tracker.projects import service as projects
from tracker.projects.calendar import project_today
from tracker.register.changes import service as changes
from tracker.register.decisions import log
from tracker.register.decisions import service as decisions
from tracker.register.decisions.models import LoggedDecision
from tracker.register.issues import service as issues
from tracker.register.kinds import KINDS
from tracker.transfer import service as transfer
from tracker.transfer.columns import DECISIONS
from tracker.webhooks import kinds as webhook_kinds

FORM = {
    "title": "Go live in two waves, north region first",
    "context": "The south region's data conversion is three weeks behind.",
    "options": "One go-live in June; two waves; postpone to September.",
    "decided_by": "Steering committee",
}


def make_decision(db, world, key="TST", role="staff", **overrides) -> LoggedDecision:
    actor = principal(db.get(User, world.ids[role]))
    access = projects.get_for(db, actor, key)
    return decisions.create(db, actor, access, parse(decisions.DecisionForm, FORM | overrides))


def deliverable_decision(db, world, deliverable_id: int, outcome="rejected", findings="Section 4 missing", at=None):
    """A deliverable decision as the review writes it (its own tests cover deciding; here it is only read)."""
    s = Submission(
        deliverable_id=deliverable_id, number=1, submitted_by_id=world.ids["contractor"], review_due=date.today()
    )
    db.add(s)
    db.flush()
    d = Decision(
        deliverable_id=deliverable_id,
        submission_id=s.id,
        outcome=outcome,
        findings=findings,
        decided_by_id=world.ids["manager"],
        **({"decided_at": at} if at else {}),
    )
    db.add(d)
    db.flush()
    return d


def decided_change(db, world, title="Add a training wave", status="approved", rationale="Within contingency"):
    staff, access = acting(db, world, "staff")
    change = changes.create(db, staff, access, parse(changes.ChangeForm, {"title": title}))
    change.status, change.rationale = status, rationale
    change.decided_on, change.decided_by_id = project_today(access.project), world.ids["manager"]
    db.flush()
    return change


def issue_decision(db, world, text="Buy a second test environment"):
    issue = make_issue(db, world)
    staff, access = acting(db, world, "staff")
    form = parse(issues.DecisionForm, {"decision": text, "decided_by": "Programme board"})
    issues.add_decision(db, staff, access, issue, form)
    return issue


def test_a_decision_is_recorded_with_where_it_came_from_edited_and_a_stale_edit_is_refused(as_user, db, world):
    staff = as_user("staff")
    deliverable = plan_deliverables(db, world, "TST")["D-01"]
    risk, issue = make_risk(db, world), make_issue(db, world)
    db.commit()
    assert "D-001" in staff.get("/projects/TST/decisions/new").text
    sent = FORM | {"deliverable_ids": str(deliverable), "risk_id": str(risk.id), "issue_id": str(issue.id)}
    r = staff.post("/projects/TST/decisions", sent | {"decided_by_id": str(world.ids["manager"])})
    assert r.status_code == 303, r.text
    d = db.exec(select(LoggedDecision)).one()
    assert (d.code, d.decided_by, d.risk_id, d.issue_id, d.recorded_by_id) == (
        "D-001",
        "Steering committee",
        risk.id,
        issue.id,
        world.ids["staff"],
    )
    page = staff.get(r.headers["location"]).text
    assert "three weeks behind" in page and "D-01" in page and risk.code in page and issue.code in page
    assert "Steering committee (Manager Person)" in page
    edit = {**sent, "version": "1", "title": "Go live in two waves"}
    assert staff.post(f"/projects/TST/decisions/{d.id}/edit", edit).status_code == 303
    stale = staff.post(f"/projects/TST/decisions/{d.id}/edit", {**sent, "version": "1", "options": "None"})
    assert stale.status_code == 409 and "Go live in two waves" in stale.text
    db.refresh(d)
    assert (d.title, d.version) == ("Go live in two waves", 2)
    listed = staff.get(f"/projects/TST/decisions?deliverable={deliverable}&q=waves").text
    assert "D-001" in listed and "Decision log with deliverables" in listed
    assert "D-001" not in staff.get("/projects/TST/decisions?until=2000-01-01").text


def test_bad_input_is_answered_beside_the_field_and_kept(as_user, world):
    staff = as_user("staff")
    r = staff.post("/projects/TST/decisions", FORM | {"decided_by": " ", "decided_on": "2999-01-01"})
    assert r.status_code == 422
    assert "Say who decided" in r.text and "choose today or an earlier day" in r.text
    assert "three weeks behind" in r.text  # the input is kept
    r = staff.post("/projects/TST/decisions", FORM | {"title": "", "decided_on": "someday"})
    assert r.status_code == 422 and 'id="f-title-error"' in r.text and 'id="f-decided_on-error"' in r.text
    r = staff.post("/projects/TST/decisions", FORM | {"decided_by_id": str(world.ids["contractor"])})
    assert r.status_code == 422 and "Choose a member of this project who can see the register." in r.text


@pytest.mark.usefixtures("other")
def test_a_source_of_another_project_is_refused(db, world):
    outsider = principal(db.get(User, world.ids["outsider"]))
    oth = projects.get_for(db, outsider, "OTH")
    theirs = changes.create(db, outsider, oth, parse(changes.ChangeForm, {"title": "Their change"}))
    staff, tst = acting(db, world, "staff")
    with pytest.raises(FormError) as refused:
        decisions.create(db, staff, tst, parse(decisions.DecisionForm, FORM | {"change_id": str(theirs.id)}))
    assert refused.value.errors == {"change_id": "Choose a change request of this project."}


def test_the_api_lists_creates_reads_and_patches_with_the_version(as_user, world):
    staff = as_user("staff")
    r = staff.api("POST", "/api/v1/projects/TST/decisions", json=FORM)
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["code"], made["decided_by"], made["recorded_by_name"]) == (
        "D-001",
        "Steering committee",
        "Staff Person",
    )
    assert staff.api("POST", "/api/v1/projects/TST/decisions", json={"title": "Nobody decided"}).status_code == 422
    r = staff.api("PATCH", f"/api/v1/decisions/{made['id']}", json={"options": "Two only", "version": 1})
    assert r.status_code == 200 and r.json()["options"] == "Two only"
    assert staff.api("PATCH", f"/api/v1/decisions/{made['id']}", json={"options": "x", "version": 1}).status_code == 409
    listed = staff.api("GET", "/api/v1/projects/TST/decisions?q=waves").json()
    assert listed["total"] == 1 and listed["items"][0]["options"] == "Two only"
    api_readers(as_user, "decisions", made["id"])


@pytest.mark.parametrize("role, read, write", REGISTER_ROLES)
def test_who_reads_and_records_decisions(as_user, db, world, role, read, write):
    d = make_decision(db, world)
    db.commit()
    reads_and_records(as_user(role), "decisions", d.id, FORM, read, write)


def _all_four(db, world):
    planned = plan_deliverables(db, world, "TST")
    deliverable = planned["D-01"]
    deliverable_decision(db, world, deliverable, findings="Section 4 missing")
    change = decided_change(db, world)
    issue = issue_decision(db, world)
    logged = make_decision(db, world, change_id=str(change.id))
    db.commit()
    return planned, change, issue, logged


def test_the_merged_log_reads_every_source_and_each_reader_sees_what_they_may(as_user, db, world):
    planned, change, issue, logged = _all_four(db, world)
    deliverable = planned["D-01"]
    page = as_user("viewer").get("/projects/TST/decision-log").text
    for text in ("Go live in two waves", "Section 4 missing", "Within contingency", "Buy a second test environment"):
        assert text in page
    assert f'href="/projects/TST/changes/{change.id}"' in page and f'href="/projects/TST/issues/{issue.id}"' in page
    assert f'href="/projects/TST/deliverables/{deliverable}"' in page
    assert f'href="/projects/TST/decisions/{logged.id}"' in page
    assert "Programme board" in page and "Manager Person" in page
    # the contractor reads deliverables and change requests, not the register
    contractor = as_user("contractor").get("/projects/TST/decision-log")
    assert contractor.status_code == 200
    assert "Section 4 missing" in contractor.text and "Within contingency" in contractor.text
    assert "Buy a second test environment" not in contractor.text and "two waves" not in contractor.text
    assert as_user("outsider").get("/projects/TST/decision-log").status_code == 404
    api = as_user("contractor").api("GET", "/api/v1/projects/TST/decision-log").json()
    assert sorted(e["source"] for e in api) == ["change", "deliverable"]


def test_the_merged_log_filters_by_source_days_and_words_and_refuses_bad_filters(as_user, db, world):
    _all_four(db, world)
    viewer = as_user("viewer")
    got = viewer.api("GET", "/api/v1/projects/TST/decision-log").json()
    assert sorted(e["source"] for e in got) == ["change", "decision", "deliverable", "issue"]
    only = viewer.api("GET", "/api/v1/projects/TST/decision-log?source=issue").json()
    assert [e["outcome"] for e in only] == ["Buy a second test environment"]
    words = viewer.api("GET", "/api/v1/projects/TST/decision-log?q=CONTINGENCY").json()
    assert [e["source"] for e in words] == ["change"]
    assert viewer.api("GET", "/api/v1/projects/TST/decision-log?until=2000-01-01").json() == []
    assert viewer.api("GET", "/api/v1/projects/TST/decision-log?source=luck").status_code == 422
    bad = viewer.get("/projects/TST/decision-log?since=2026-05-02&until=2026-05-01")
    assert (
        bad.status_code == 422 and "The range ends before it starts." in bad.text and 'value="2026-05-02"' in bad.text
    )


def test_the_merged_log_is_newest_first_and_a_deliverable_decision_is_dated_on_the_projects_calendar(db, world):
    staff, access = acting(db, world, "staff")
    deliverable = plan_deliverables(db, world, "TST")["D-02"]
    today = project_today(access.project)
    make_decision(db, world, title="Older", decided_on=str(today - timedelta(days=10)))
    make_decision(db, world, title="Newer", decided_on=str(today - timedelta(days=1)))
    at = datetime.combine(today - timedelta(days=5), datetime.min.time(), UTC) + timedelta(hours=12)
    deliverable_decision(db, world, deliverable, outcome="accepted", findings="", at=at)
    found = log.for_reader(db, access, log.LogQuery())
    assert [e.outcome for e in found] == ["Newer", "Accepted (version 1)", "Older"]
    assert found[1].day == today - timedelta(days=5)


def test_the_merged_log_reads_in_fixed_queries(as_user, db, world, count_queries):
    deliverables = _all_four(db, world)[0]
    viewer = as_user("viewer")
    with count_queries() as few:
        assert viewer.get("/projects/TST/decision-log").status_code == 200
    for n, code in enumerate(sorted(deliverables)[1:3]):
        deliverable_decision(db, world, deliverables[code], findings=f"Findings {n}")
    for n in range(3):
        decided_change(db, world, title=f"Change {n}", status="rejected")
        issue_decision(db, world, text=f"Issue decision {n}")
        make_decision(db, world, title=f"Decision {n}", decided_by_id=str(world.ids["manager"]))
    db.commit()
    with count_queries() as many:
        page = viewer.get("/projects/TST/decision-log").text
    assert many.count == few.count, many.statements
    assert "Decision 2" in page and "Findings 0" in page and "Issue decision 2" in page


def test_the_project_list_reads_in_fixed_queries(as_user, db, world, count_queries):
    staff = as_user("staff")
    make_decision(db, world)
    db.commit()
    with count_queries() as few:
        assert staff.get("/projects/TST/decisions").status_code == 200
    risk = make_risk(db, world)
    for n in range(9):
        make_decision(db, world, title=f"Decision {n}", risk_id=str(risk.id))
    db.commit()
    with count_queries() as many:
        page = staff.get("/projects/TST/decisions?sort=code").text
    assert many.count == few.count and "D-010" in page


def test_search_finds_a_decision_for_those_who_read_the_register(as_user, db, world):
    make_decision(db, world, context="The walrus environment was booked twice.")
    db.commit()
    found_by_readers(as_user, "walrus", "decision", "D-001", "decisions")


@pytest.mark.usefixtures("other")
def test_export_then_import_into_another_project_gives_the_same_rows(db, world):
    deliverable = plan_deliverables(db, world, "TST")["D-02"]
    make_decision(db, world, decided_by_id=str(world.ids["staff"]), deliverable_ids=[str(deliverable)])
    make_decision(db, world, title="Second", decided_by="Sponsor", context="")
    round_trip(db, world, DECISIONS, 2)


def test_an_import_names_the_issue_risk_and_change_by_code_and_refuses_an_unknown_one(db, world):
    risk, issue = make_risk(db, world), make_issue(db, world)
    staff, tst = acting(db, world, "staff")
    change = changes.create(db, staff, tst, parse(changes.ChangeForm, {"title": "More training"}))
    make_decision(db, world, risk_id=str(risk.id), issue_id=str(issue.id), change_id=str(change.id))
    body, _, name = transfer.export_file(db, tst, DECISIONS, None, "csv")
    text = body.decode() if isinstance(body, bytes) else body
    assert risk.code in text and issue.code in text and change.code in text
    wrong = text.replace(change.code, "CR-999")
    sheet = read_table(name, wrong.encode())
    plan = transfer.build_plan(db, tst, DECISIONS, sheet, transfer.auto_mapping(DECISIONS, sheet.headers))
    [row] = plan.rows
    assert "No change request CR-999 in this project" in str(row.errors)


def test_a_watched_decision_tells_its_watchers_and_a_mention_reaches_who_may_read(
    db, conn, world, database_url, tmp_path, inbox, as_user
):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    decision = make_decision(db, world)
    db.commit()
    change = {"context": "Ask @viewer and @contractor to confirm the waves."}
    watched_and_mentioned(db, world, as_user, inbox, d, KINDS["decisions"], decision, change)


def test_webhooks_hear_of_a_decision_recorded_changed_or_given_a_file():
    assert webhook_kinds.kinds_of("logged_decision", "create", {}) == ["decision.created"]
    for action in ("update", "attach", "remove_attachment"):
        assert webhook_kinds.kinds_of("logged_decision", action, {}) == ["decision.updated"]
    assert webhook_kinds.PAGES["logged_decision"] == "/projects/{key}/decisions/{id}"
    assert webhook_kinds.API["logged_decision"] == "/api/v1/decisions/{id}"


def test_context_and_options_keep_their_lines_and_the_decision_stays_one_line(db, world):
    lines = {"context": "Conversion is late:\r\n- south region three weeks\r\n- north on time", "options": "A\nB\tC"}
    d = make_decision(db, world, **lines)
    assert (d.context, d.options) == (lines["context"], lines["options"])
    with pytest.raises(FormError) as refused:
        make_decision(db, world, title="Two\nwaves")
    assert "title" in refused.value.errors
