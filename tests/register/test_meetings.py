"""Meeting minutes: a register kind recorded and changed through the generic register pages and API (stale edits
409, bad input beside the field), read by those who read the register; action items recorded in the minutes are
real action items that show wherever action items do; the minutes print as a PDF and are mailed to the member
attendees through the trail; a weekly status meeting starts from the draft status report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from tests.register.conftest import acting, make_risk
from tests.test_mail import dispatcher
from tests.transfer.conftest import other, plan_deliverables  # noqa: F401 (`other` is a fixture)
from tracker.audit.models import AuditEvent
from tracker.core.forms import parse
from tracker.core.spreadsheet import read_table
from tracker.projects import service as projects
from tracker.projects.calendar import project_today
from tracker.register.actions import service as actions
from tracker.register.actions.models import ActionItem
from tracker.register.custom import service as custom
from tracker.register.decisions.models import LoggedDecision
from tracker.register.meetings import service as meetings
from tracker.register.meetings.models import Meeting, MeetingAttendee
from tracker.reports import service as reports
from tracker.transfer import service as transfer
from tracker.transfer.columns import MEETINGS

FORM = {
    "title": "Steering committee, December",
    "meeting_type": "steering",
    "external_attendees": "Dana Whitfield (sponsor's deputy)\n\n  Ravi Kumar, vendor architect  ",
    "agenda": "Budget to date\nUAT readiness\nAny other business",
    "notes": "The sponsor asked for a UAT go/no-go by the 18th.",
}


def make_meeting(db, world, role="staff", attendees=("manager", "staff"), **overrides) -> Meeting:
    actor, access = acting(db, world, role)
    form = FORM | {"attendee_ids": [str(world.ids[r]) for r in attendees]} | overrides
    return meetings.create(db, actor, access, parse(meetings.MeetingForm, form))


def test_a_meeting_is_recorded_edited_and_a_stale_edit_is_refused_with_the_saved_values(as_user, db, world):
    staff = as_user("staff")
    deliverable = plan_deliverables(db, world, "TST")["D-01"]
    db.commit()
    new = staff.get("/projects/TST/meetings/new").text
    assert (
        "M-001" in new
        and project_today(projects.get_for(db, acting(db, world, "staff")[0], "TST").project).isoformat() in new
    )
    people = [str(world.ids["manager"]), str(world.ids["staff"])]
    r = staff.post("/projects/TST/meetings", FORM | {"deliverable_ids": str(deliverable), "attendee_ids": people})
    assert r.status_code == 303, r.text
    meeting = db.exec(select(Meeting)).one()
    assert (meeting.code, meeting.meeting_type, meeting.recorded_by_id) == ("M-001", "steering", world.ids["staff"])
    assert meeting.external_attendees == "Dana Whitfield (sponsor's deputy)\nRavi Kumar, vendor architect"
    assert meeting.held_on == project_today(projects.get_for(db, acting(db, world, "staff")[0], "TST").project)
    assert sorted(db.exec(select(MeetingAttendee.user_id))) == sorted(world.ids[r] for r in ("manager", "staff"))
    page = staff.get(r.headers["location"]).text
    assert "UAT readiness" in page and "Ravi Kumar, vendor architect" in page and "D-01" in page
    assert "not mailed" in page  # external names have no address
    edit = {**FORM, "version": "1", "title": "Steering committee", "attendee_ids": str(world.ids["manager"])}
    assert staff.post(f"/projects/TST/meetings/{meeting.id}/edit", edit).status_code == 303
    stale = staff.post(f"/projects/TST/meetings/{meeting.id}/edit", {**FORM, "version": "1", "notes": "Other"})
    assert stale.status_code == 409 and "Steering committee" in stale.text
    db.refresh(meeting)
    assert (meeting.title, meeting.version) == ("Steering committee", 2)
    assert list(db.exec(select(MeetingAttendee.user_id))) == [world.ids["manager"]]
    trail = db.exec(select(AuditEvent).where(AuditEvent.entity_type == "meeting", AuditEvent.action == "update")).one()
    assert trail.changes["attendees"] == [["Manager Person", "Staff Person"], ["Manager Person"]]
    assert "M-001" in staff.get("/projects/TST/meetings?meeting_type=steering").text
    assert "M-001" not in staff.get("/projects/TST/meetings?meeting_type=review").text


def test_changing_only_the_attendees_moves_the_version(db, world):
    meeting = make_meeting(db, world)
    actor, access = acting(db, world, "staff")
    values = meetings.form_values(db, meeting) | {"attendee_ids": [str(world.ids["viewer"])]}
    meetings.update(db, actor, access, meeting, parse(meetings.MeetingForm, values))
    db.flush()
    assert meeting.version == 2


def test_bad_input_is_answered_beside_the_field_and_kept(as_user, world):
    staff = as_user("staff")
    r = staff.post(
        "/projects/TST/meetings",
        FORM | {"title": "", "meeting_type": "party", "held_on": "someday", "agenda": "Kept agenda"},
    )
    assert r.status_code == 422 and "Kept agenda" in r.text
    for field in ("title", "meeting_type", "held_on"):
        assert f'id="f-{field}-error"' in r.text
    r = staff.post("/projects/TST/meetings", FORM | {"attendee_ids": str(world.ids["contractor"])})
    assert r.status_code == 422 and 'id="f-attendee_ids-error"' in r.text and "write others" in r.text
    r = staff.post("/projects/TST/meetings", FORM | {"external_attendees": "\n".join(f"P{n}" for n in range(60))})
    assert r.status_code == 422 and 'id="f-external_attendees-error"' in r.text


def test_the_api_lists_creates_reads_and_patches_with_the_version(as_user, world):
    staff = as_user("staff")
    body = {**FORM, "attendee_ids": [world.ids["manager"]]}
    r = staff.api("POST", "/api/v1/projects/TST/meetings", json=body)
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["code"], made["attendee_names"], made["recorded_by_name"]) == (
        "M-001",
        ["Manager Person"],
        "Staff Person",
    )
    assert staff.api("POST", "/api/v1/projects/TST/meetings", json={"title": ""}).status_code == 422
    bad = staff.api("POST", "/api/v1/projects/TST/meetings", json={"title": "x", "attendee_ids": [10**6]})
    assert bad.status_code == 422
    r = staff.api("PATCH", f"/api/v1/meetings/{made['id']}", json={"notes": "Agreed.", "version": 1})
    assert r.status_code == 200 and r.json()["notes"] == "Agreed."
    assert staff.api("PATCH", f"/api/v1/meetings/{made['id']}", json={"notes": "x", "version": 1}).status_code == 409
    listed = staff.api("GET", "/api/v1/projects/TST/meetings?meeting_type=steering").json()
    assert listed["total"] == 1
    r = staff.api("POST", f"/api/v1/meetings/{made['id']}/actions", json={"description": "Send the UAT plan"})
    assert r.status_code == 201 and r.json()["meeting_id"] == made["id"] and r.json()["plan"] == "meeting"
    assert [a["description"] for a in staff.api("GET", f"/api/v1/meetings/{made['id']}/actions").json()] == [
        "Send the UAT plan"
    ]
    assert as_user("viewer").api("GET", f"/api/v1/meetings/{made['id']}").status_code == 200
    assert as_user("viewer").api("PATCH", f"/api/v1/meetings/{made['id']}", json={"version": 2}).status_code == 403
    assert as_user("contractor").api("GET", f"/api/v1/meetings/{made['id']}").status_code == 403
    assert as_user("outsider").api("GET", f"/api/v1/meetings/{made['id']}").status_code == 404


@pytest.mark.parametrize(
    "role, read, write",
    [
        ("manager", 200, 303),
        ("staff", 200, 303),
        ("viewer", 200, 403),
        ("contractor", 403, 403),
        ("outsider", 404, 404),
    ],
)
def test_who_reads_and_records_meetings(as_user, db, world, role, read, write):
    meeting = make_meeting(db, world)
    db.commit()
    user = as_user(role)
    assert user.get("/projects/TST/meetings").status_code == read
    assert user.get(f"/projects/TST/meetings/{meeting.id}").status_code == read
    assert user.get(f"/projects/TST/meetings/{meeting.id}/minutes.pdf").status_code == read
    assert user.post("/projects/TST/meetings", FORM).status_code == write
    assert user.post(f"/projects/TST/meetings/{meeting.id}/actions", {"description": "x"}).status_code == write
    assert user.post(f"/projects/TST/meetings/{meeting.id}/mail", {}).status_code == write


def test_an_action_item_from_the_minutes_shows_wherever_action_items_do(as_user, db, world):
    meeting = make_meeting(db, world)
    db.commit()
    staff = as_user("staff")
    today = project_today(projects.get_for(db, acting(db, world, "staff")[0], "TST").project)
    late = (today - timedelta(days=3)).isoformat()
    r = staff.post(
        f"/projects/TST/meetings/{meeting.id}/actions",
        {"description": "Book the UAT room", "owner_id": str(world.ids["staff"]), "due_date": late},
    )
    assert r.status_code == 303 and r.headers["location"] == f"/projects/TST/meetings/{meeting.id}#actions"
    item = db.exec(select(ActionItem)).one()
    assert (item.meeting_id, item.risk_id, item.issue_id, item.plan) == (meeting.id, None, None, "meeting")
    assert "Book the UAT room" in staff.get(f"/projects/TST/meetings/{meeting.id}").text
    # My work
    mine = actions.mine(db, acting(db, world, "staff")[0])
    assert [(a.parent_kind, a.parent_code) for a in mine] == [("meetings", "M-001")]
    assert f"/projects/TST/meetings/{meeting.id}" in staff.get("/").text
    # the status report's overdue actions
    _, access = acting(db, world, "manager")
    period = reports.period_of(access.project, reports.PeriodForm())
    content = reports.build(db, access.project, period, reports.draft_for(db, access.project, period))
    assert [(a["parent"], a["parent_kind"]) for a in content["overdue_actions"]] == [("M-001", "meetings")]
    # and its history
    assert "added an action item to" in staff.get(f"/projects/TST/meetings/{meeting.id}").text
    # a missing description is refused beside the field
    r = staff.post(f"/projects/TST/meetings/{meeting.id}/actions", {"description": ""})
    assert r.status_code == 422 and 'id="f-issue-description-error"' in r.text


def test_an_action_needs_exactly_one_parent(db, world):
    meeting = make_meeting(db, world)
    for parents in ({}, {"meeting_id": meeting.id, "risk_id": make_risk(db, world).id}):
        with pytest.raises(IntegrityError), db.begin_nested():
            db.add(ActionItem(project_id=meeting.project_id, plan="meeting", description="no", **parents))
            db.flush()
    db.add(ActionItem(project_id=meeting.project_id, plan="meeting", description="ok", meeting_id=meeting.id))
    db.flush()


def test_the_minutes_print_as_a_pdf(as_user, db, world):
    meeting = make_meeting(db, world)
    db.commit()
    r = as_user("viewer").get(f"/projects/TST/meetings/{meeting.id}/minutes.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert r.headers["content-type"] == "application/pdf" and "M-001-minutes" in r.headers["content-disposition"]
    html = meetings.minutes_html(db, meeting)
    assert "UAT readiness" in html and "Ravi Kumar, vendor architect" in html and "Manager Person" in html


def test_the_minutes_are_mailed_to_the_member_attendees_with_their_pdf(
    db, conn, world, database_url, tmp_path, inbox, as_user
):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    meeting = make_meeting(db, world, attendees=("manager", "staff", "viewer"))
    db.commit()
    staff = as_user("staff")
    r = staff.post(f"/projects/TST/meetings/{meeting.id}/mail", {})
    assert r.status_code == 303
    assert inbox.to("manager@example.gov") == []  # never from the request
    d.once()
    for who in ("manager", "viewer"):
        (msg,) = inbox.to(f"{who}@example.gov")
        assert "Minutes: Steering committee, December" in " ".join(msg["Subject"].split())
        (pdf,) = list(msg.iter_attachments())
        assert pdf.get_content_type() == "application/pdf" and pdf.get_content().startswith(b"%PDF")
    assert inbox.to("staff@example.gov") == []  # who mailed them has them
    assert inbox.to("contractor@example.gov") == []
    assert "Last mailed" in staff.get(f"/projects/TST/meetings/{meeting.id}").text


def test_minutes_without_member_attendees_are_not_mailed(as_user, db, world):
    meeting = make_meeting(db, world, attendees=())
    db.commit()
    r = as_user("staff").post(f"/projects/TST/meetings/{meeting.id}/mail", {})
    assert r.status_code == 422 and "No member of the project attended" in r.text


def test_the_weekly_status_meeting_starts_from_the_draft_report(as_user, db, world):
    manager = as_user("manager")
    draft = manager.get("/projects/TST/status-reports/draft")
    assert "Start the weekly status meeting" in draft.text
    _, access = acting(db, world, "manager")
    period = reports.period_of(access.project, reports.PeriodForm())
    form = {"period_start": period.start.isoformat(), "period_end": period.end.isoformat()}
    r = as_user("staff").post("/projects/TST/meetings/from-report", form)
    assert r.status_code == 303
    meeting = db.exec(select(Meeting)).one()
    assert r.headers["location"] == f"/projects/TST/meetings/{meeting.id}"
    assert meeting.meeting_type == "weekly_status" and meeting.held_on == project_today(access.project)
    assert period.label.lower()[:8] in meeting.title.lower()
    agenda = meetings.lines(meeting.agenda)
    for heading, _ in meetings.AGENDA:
        assert any(line.startswith(heading) for line in agenda)
    # the managers, by the permissions table
    assert list(db.exec(select(MeetingAttendee.user_id))) == [world.ids["manager"]]
    assert as_user("viewer").post("/projects/TST/meetings/from-report", form).status_code == 403
    bad = as_user("staff").post(
        "/projects/TST/meetings/from-report", {"period_start": "2999-01-01", "period_end": "2999-01-07"}
    )
    assert bad.status_code == 303 and bad.headers["location"] == "/projects/TST/status-reports"


def test_the_project_list_reads_in_fixed_queries(as_user, db, world, count_queries):
    staff = as_user("staff")
    make_meeting(db, world)
    db.commit()
    with count_queries() as few:
        assert staff.get("/projects/TST/meetings").status_code == 200
    for n in range(9):
        make_meeting(db, world, title=f"Meeting {n}")
    db.commit()
    with count_queries() as many:
        page = staff.get("/projects/TST/meetings?sort=code").text
    assert many.count == few.count and "M-010" in page


def test_search_finds_a_meeting_for_those_who_read_the_register(as_user, db, world):
    make_meeting(db, world, notes="The walrus environment is booked.")
    db.commit()
    hits = as_user("viewer").get("/api/v1/search", params={"q": "walrus"}).json()
    assert [(h["kind"], h["code"]) for h in hits["results"]] == [("meeting", "M-001")]
    assert as_user("contractor").get("/api/v1/search", params={"q": "walrus"}).json()["total"] == 0


@pytest.mark.usefixtures("other")
def test_export_then_import_gives_the_same_rows(db, world):
    deliverable = plan_deliverables(db, world, "TST")["D-02"]
    make_meeting(db, world, owner_id=str(world.ids["manager"]), deliverable_ids=[str(deliverable)])
    make_meeting(db, world, title="Second", meeting_type="review", attendees=())
    staff, tst = acting(db, world, "staff")
    body, _, name = transfer.export_file(db, tst, MEETINGS, None, "xlsx")
    sheet = read_table(name, body)
    plan = transfer.build_plan(db, tst, MEETINGS, sheet, transfer.auto_mapping(MEETINGS, sheet.headers))
    assert {r.action for r in plan.rows} == {"unchanged"}, [(r.action, r.errors) for r in plan.rows]
    rows = transfer.export_table(db, tst, MEETINGS)
    assert "Manager Person; Staff Person" in str(rows)


def test_an_action_from_the_minutes_is_mailed_to_its_owner(db, conn, world, database_url, tmp_path, inbox):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    meeting = make_meeting(db, world)
    actor, access = acting(db, world, "manager")
    form = parse(actions.ActionForm, {"description": "Send the plan", "owner_id": str(world.ids["staff"])})
    actions.add(db, actor, access, meeting, form)
    db.commit()
    d.once()
    (msg,) = inbox.to("staff@example.gov")
    assert "An action item of Steering committee, December is yours" in " ".join(msg["Subject"].split())


def test_a_decision_recorded_in_the_minutes_is_logged_and_listed(as_user, db, world):
    meeting = make_meeting(db, world)
    db.commit()
    staff = as_user("staff")
    r = staff.post(f"/projects/TST/meetings/{meeting.id}/decisions", {"title": "", "context": "Kept context"})
    assert r.status_code == 422 and 'id="f-decision-title-error"' in r.text and "Kept context" in r.text
    r = staff.post(f"/projects/TST/meetings/{meeting.id}/decisions", {"title": "UAT cycle 2 goes ahead"})
    assert r.status_code == 303 and r.headers["location"] == f"/projects/TST/meetings/{meeting.id}#decisions"
    decision = db.exec(select(LoggedDecision)).one()
    assert (decision.meeting_id, decision.decided_by, decision.decided_on) == (
        meeting.id,
        meeting.title,
        meeting.held_on,
    )
    page = staff.get(f"/projects/TST/meetings/{meeting.id}").text
    assert "UAT cycle 2 goes ahead" in page and f"/projects/TST/decisions/{decision.id}" in page
    assert f"/projects/TST/meetings/{meeting.id}" in staff.get(f"/projects/TST/decisions/{decision.id}").text
    assert as_user("viewer").post(f"/projects/TST/meetings/{meeting.id}/decisions", {"title": "x"}).status_code == 403
    assert "UAT cycle 2 goes ahead" in meetings.minutes_html(db, meeting)


def test_a_custom_field_of_meetings_is_asked_on_the_form_and_shown_with_the_minutes(as_user, db, world):
    actor, access = acting(db, world, "manager")
    venue = custom.define(
        db, actor, access, parse(custom.FieldForm, {"kind": "meetings", "label": "Venue", "type": "text"})
    )
    db.commit()
    staff = as_user("staff")
    assert "Venue" in staff.get("/projects/TST/meetings/new").text
    r = staff.post("/projects/TST/meetings", FORM | {custom.input_name(venue): "Room 4B"})
    assert r.status_code == 303, r.text
    page = staff.get(r.headers["location"]).text
    assert "Venue" in page and "Room 4B" in page
    assert "Room 4B" in staff.get("/projects/TST/meetings").text  # a column of the list
