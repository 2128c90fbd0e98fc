"""Projects and memberships through pages and API: validation, stale edits, audit trail, htmx fragments."""

from __future__ import annotations

import re

import pytest
from sqlmodel import func, select

from tracker.audit.models import AuditEvent
from tracker.projects.models import Membership, Project

VALID = {
    "key": "NEW",
    "name": "New Programme",
    "description": "",
    "sponsor": "Pat Sponsor",
    "contractor": "Acme",
    "contract_number": "C-1",
    "start_date": "2026-01-01",
    "end_date": "2026-12-31",
    "timezone": "America/Denver",
    "review_days": "10",
    "resubmit_days": "7",
    "deemed_policy": "deemed",
    "deemed_days": "12",
    "holiday_calendar": "us-ca",
    "extra_holidays": "2026-12-24 Closure\n\n2026-12-31 Closure 2",
}


def _count(db, model) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(model)).one()


def test_admin_creates_a_project_and_the_audit_trail_records_it(as_user, db):
    r = as_user("admin").post("/projects", VALID)
    assert r.status_code == 303 and r.headers["location"] == "/projects/NEW/members"
    project = db.exec(select(Project).where(Project.key == "NEW")).one()
    assert project.holiday_calendar == "US-CA" and project.deemed_days == 12
    assert project.extra_holidays == [
        {"date": "2026-12-24", "name": "Closure"},
        {"date": "2026-12-31", "name": "Closure 2"},
    ]
    event = db.exec(select(AuditEvent).where(AuditEvent.project_id == project.id)).one()
    assert event.action == "create" and event.changes["name"] == [None, "New Programme"]
    page = as_user("admin").get("/projects/NEW")
    assert "created project" in page.text and "Closure" in page.text


BAD_INPUT = [
    ({"key": ""}, "key", "Key is required."),
    ({"key": "x"}, "key", "capital letters"),
    ({"key": "TST"}, "key", "already used"),
    ({"name": ""}, "name", "Name is required."),
    ({"name": "n" * 201}, "name", "at most 200"),
    ({"review_days": "ten"}, "review_days", "whole number"),
    ({"review_days": "0"}, "review_days", "State review days must be at least 1."),
    ({"start_date": "2026-13-01"}, "start_date", "YYYY-MM-DD"),
    ({"end_date": "2025-01-01"}, "end_date", "before the start date"),
    ({"timezone": "Mars/Olympus"}, "timezone", "Time zone: unknown time zone"),
    ({"holiday_calendar": "ZZ"}, "holiday_calendar", "Holiday calendar: unknown country"),
    ({"holiday_calendar": "US-ZZ"}, "holiday_calendar", "not a subdivision"),
    ({"extra_holidays": "Christmas 2026-12-25"}, "extra_holidays", "Project holidays: line 1"),
    ({"deemed_policy": "sometimes"}, "deemed_policy", "Deemed-acceptance policy must be one of"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_INPUT)
def test_bad_project_input_is_explained_beside_the_field_and_kept(as_user, db, world, change, field, message):
    before = _count(db, Project)
    r = as_user("admin").post("/projects", VALID | change)
    assert r.status_code == 422
    assert f'id="f-{field}-error"' in r.text and message in r.text
    assert 'value="Pat Sponsor"' in r.text  # the rest of the input is kept
    assert _count(db, Project) == before


def test_stale_edit_is_refused_and_shows_the_newer_values(as_user, db, world):
    admin = as_user("admin")
    form = VALID | {"key": "TST", "name": "Mine", "version": "1"}
    project = db.exec(select(Project).where(Project.key == "TST")).one()
    project.sponsor = "Someone Else's Sponsor"
    db.commit()  # version is now 2
    r = admin.post("/projects/TST/edit", form)
    assert r.status_code == 409
    assert "Someone else saved this record" in r.text and "Someone Else&#39;s Sponsor" in r.text
    assert 'value="Mine"' in r.text and 'name="version" value="2"' in r.text
    db.expire_all()
    assert db.get(Project, project.id).name == "Test Programme"
    # Saving again, knowingly, goes through.
    assert admin.post("/projects/TST/edit", form | {"version": "2"}).status_code == 303


def test_edit_records_only_changed_fields(as_user, db, world):
    admin = as_user("admin")
    page = admin.get("/projects/TST/edit")
    assert page.status_code == 200
    form = {
        "key": "TST",
        "name": "Test Programme",
        "contractor": "Acme Integrators",
        "holiday_calendar": "US",
        "timezone": "America/Los_Angeles",
        "review_days": "12",
        "resubmit_days": "10",
        "deemed_days": "15",
        "deemed_policy": "never",
        "version": "1",
    }
    assert admin.post("/projects/TST/edit", form).status_code == 303
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "update")).one()
    assert event.changes == {"review_days": [10, 12]}


def test_key_cannot_change(as_user, world):
    form = VALID | {"key": "ZZZ", "version": "1"}
    r = as_user("admin").post("/projects/TST/edit", form)
    assert r.status_code == 422 and "cannot change" in r.text


def test_members_are_added_and_changed_in_place_with_htmx(as_user, db, world):
    admin = as_user("admin")
    r = admin.post("/projects/TST/members", {"user_id": str(world.ids["outsider"]), "role": "viewer"}, htmx=True)
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<section id="members"') and "<html" not in r.text
    assert "Outsider Person" in r.text
    m = db.exec(
        select(Membership).where(Membership.user_id == world.ids["outsider"], Membership.project_id.is_not(None))
    ).all()
    tst = next(x for x in m if x.role == "viewer")
    r = admin.post(f"/projects/TST/members/{tst.id}/role", {"role": "staff", "version": "1"}, htmx=True)
    assert r.status_code == 200 and "Role changed." in r.text
    db.expire_all()
    assert db.get(Membership, tst.id).role == "staff"
    actions = db.exec(
        select(AuditEvent.action).where(AuditEvent.entity_type == "membership", AuditEvent.entity_id == tst.id)
    ).all()
    assert sorted(actions) == ["add_member", "change_role"]


def test_the_overview_names_the_members_by_role_and_their_page_has_the_forms_for_managers_only(as_user, world):
    overview = as_user("viewer").get("/projects/TST").text
    members = re.search(r'<section id="members".*?</section>', overview, re.S).group(0)
    assert "Manager" in members and "Every member and their role" in members
    assert 'name="user_id"' not in overview and "<form" not in members  # no user list on the dashboard
    page = as_user("viewer").get("/projects/TST/members")
    assert page.status_code == 200 and "Outsider Person" not in page.text and 'name="user_id"' not in page.text
    manager = as_user("manager").get("/projects/TST/members").text
    assert 'name="user_id"' in manager and "Outsider Person" in manager  # the people who may be added
    assert "Manage members and roles" in as_user("manager").get("/projects/TST").text
    assert as_user("outsider").get("/projects/TST/members").status_code == 404


def test_adding_a_member_twice_or_an_unknown_user_is_explained(as_user, db, world):
    admin = as_user("admin")
    before = _count(db, Membership)
    r = admin.post("/projects/TST/members", {"user_id": str(world.ids["manager"]), "role": "staff"}, htmx=True)
    assert r.status_code == 422 and "already a member" in r.text
    r = admin.post("/projects/TST/members", {"user_id": "99999", "role": "staff"}, htmx=True)
    assert r.status_code == 422 and "Choose an active user" in r.text
    r = admin.post("/projects/TST/members", {"user_id": "abc", "role": "boss"}, htmx=True)
    assert r.status_code == 422
    assert _count(db, Membership) == before


def _viewer_membership(admin, db, world) -> Membership:
    """The outsider, added to TST as a viewer: a member anyone may remove."""
    admin.post("/projects/TST/members", {"user_id": str(world.ids["outsider"]), "role": "viewer"})
    return db.exec(
        select(Membership).where(Membership.user_id == world.ids["outsider"], Membership.role == "viewer")
    ).one()


def test_removing_a_member_from_a_stale_page_is_refused_and_the_list_shown_again(as_user, db, world):
    admin = as_user("admin")
    mid = _viewer_membership(admin, db, world).id
    admin.post(f"/projects/TST/members/{mid}/role", {"role": "staff", "version": "1"})  # someone else, meanwhile
    for htmx in (True, False):
        r = admin.post(f"/projects/TST/members/{mid}/remove", {"version": "1"}, htmx=htmx)
        assert r.status_code == 409 and "membership changed after you loaded the page" in r.text
        assert ('<section id="members"' in r.text.lstrip()[:30]) is htmx and "Outsider Person" in r.text
        assert 'name="version" value="2"' in r.text  # the form now carries the version read again
    db.expire_all()
    assert db.get(Membership, mid).role == "staff"
    r = admin.post(f"/projects/TST/members/{mid}/remove", {"version": "2"}, htmx=True)
    assert r.status_code == 200 and "Outsider Person removed from the project." in r.text
    db.expire_all()
    assert db.get(Membership, mid) is None


def test_removing_a_member_without_the_version_is_a_bad_request(as_user, db, world):
    admin = as_user("admin")
    m = _viewer_membership(admin, db, world)
    assert admin.post(f"/projects/TST/members/{m.id}/remove", {}).status_code == 400
    assert admin.post(f"/projects/TST/members/{m.id}/remove", {"version": "one"}).status_code == 400
    db.expire_all()
    assert db.get(Membership, m.id) is not None


def test_the_last_manager_cannot_be_removed_or_demoted(as_user, db, world):
    admin = as_user("admin")
    mid = db.exec(select(Membership.id).where(Membership.user_id == world.ids["manager"])).one()
    r = admin.post(f"/projects/TST/members/{mid}/remove", {"version": "1"}, htmx=True)
    assert "at least one manager" in r.text
    r = admin.post(f"/projects/TST/members/{mid}/role", {"role": "viewer"}, htmx=True)
    assert r.status_code == 409 and "at least one manager" in r.text
    db.expire_all()
    assert db.get(Membership, mid).role == "manager"


def test_unknown_project_and_member_are_404(as_user):
    admin = as_user("admin")
    assert admin.get("/projects/NOPE").status_code == 404
    assert admin.post("/projects/TST/members/99999/remove", {"version": "1"}).status_code == 404
    assert admin.get("/projects/TST/history?page=abc").status_code == 400


def test_project_list_search_updates_in_place(as_user):
    r = as_user("admin").get("/projects?q=other", headers={"HX-Request": "true"})
    assert r.status_code == 200 and r.text.lstrip().startswith('<div id="project-table">')
    assert "OTH" in r.text and ">TST<" not in r.text


def test_project_list_runs_a_fixed_number_of_queries(as_user, db, world, count_queries):
    from tracker.accounts.service import principal
    from tracker.core.forms import parse
    from tracker.projects import service

    admin = as_user("admin")
    with count_queries() as few:
        admin.get("/projects")
    actor = principal(db.get(service.User, world.ids["admin"]))
    for i in range(30):
        service.create_project(db, actor, parse(service.ProjectForm, {"key": f"P{i:02d}", "name": f"P {i}"}))
    db.commit()
    with count_queries() as many:
        r = admin.get("/projects")
    assert "P29" in r.text
    assert many.count == few.count


# --- API ---------------------------------------------------------------------------------------------


def test_api_lists_and_reads_projects(as_user):
    manager = as_user("manager")
    projects = manager.api("GET", "/api/v1/projects").json()
    assert [p["key"] for p in projects] == ["TST"] and projects[0]["my_role"] == "manager"
    one = manager.api("GET", "/api/v1/projects/tst").json()
    assert one["contractor"] == "Acme Integrators" and one["version"] == 1


def test_api_create_validates_and_refuses_duplicates(as_user, db, world):
    admin = as_user("admin")
    r = admin.api(
        "POST",
        "/api/v1/projects",
        json={"key": "API", "name": "Via API", "extra_holidays": [{"date": "2026-07-03", "name": "Bridge day"}]},
    )
    assert r.status_code == 201 and r.json()["key"] == "API"
    assert admin.api("POST", "/api/v1/projects", json={"key": "API", "name": "Again"}).status_code == 422
    for bad in (
        {"key": "API2"},
        {"key": "A2", "name": 5},
        {"key": "A3", "name": "x", "review_days": "many"},
        {"key": "A4", "name": "x", "surprise": 1},
        {"key": "a b c", "name": "x"},
    ):
        r = admin.api("POST", "/api/v1/projects", json=bad)
        assert r.status_code in (400, 422), (bad, r.status_code)
        assert set(r.json()) == {"status_code", "detail", "extra"}
    r = admin.client.post(
        "/api/v1/projects",
        content=b"{not json",
        headers={"x-csrftoken": admin.token, "content-type": "application/json"},
    )
    assert r.status_code == 400
    assert _count(db, Project) == 3


def test_api_patch_uses_the_version_and_answers_409_when_stale(as_user, db, world):
    admin = as_user("admin")
    r = admin.api("PATCH", "/api/v1/projects/TST", json={"version": 1, "review_days": 7})
    assert r.status_code == 200 and r.json()["review_days"] == 7 and r.json()["version"] == 2
    r = admin.api("PATCH", "/api/v1/projects/TST", json={"version": 1, "review_days": 9})
    assert r.status_code == 409 and r.json()["extra"]["current"]["review_days"] == 7
    assert admin.api("PATCH", "/api/v1/projects/TST", json={"review_days": 9}).status_code == 400
    assert admin.api("PATCH", "/api/v1/projects/NOPE", json={"version": 1}).status_code == 404


def test_api_members_round_trip(as_user, world):
    admin = as_user("admin")
    r = admin.api("POST", "/api/v1/projects/TST/members", json={"user_id": world.ids["outsider"], "role": "viewer"})
    assert r.status_code == 201
    member = r.json()
    r = admin.api("PATCH", f"/api/v1/projects/TST/members/{member['id']}", json={"role": "staff", "version": 1})
    assert r.status_code == 200 and r.json()["role"] == "staff"
    assert admin.api("DELETE", f"/api/v1/projects/TST/members/{member['id']}?version=2").status_code == 204
    audit = admin.api("GET", "/api/v1/projects/TST/audit").json()
    assert [e["action"] for e in audit[:3]] == ["remove_member", "change_role", "add_member"]


def test_api_removes_a_member_only_at_the_version_read(as_user, db, world):
    admin = as_user("admin")
    member = admin.api(
        "POST", "/api/v1/projects/TST/members", json={"user_id": world.ids["outsider"], "role": "viewer"}
    ).json()
    url = f"/api/v1/projects/TST/members/{member['id']}"
    assert admin.api("PATCH", url, json={"role": "staff", "version": member["version"]}).json()["version"] == 2
    r = admin.api("DELETE", f"{url}?version={member['version']}")
    assert r.status_code == 409 and "not removed" in r.json()["detail"]
    assert r.json()["extra"]["current"] == {"role": "staff"}
    r = admin.api("DELETE", url)
    assert r.status_code == 400 and "'version'" in r.json()["detail"]
    assert db.get(Membership, member["id"]) is not None
    assert admin.api("DELETE", f"{url}?version=2").status_code == 204
    db.expire_all()
    assert db.get(Membership, member["id"]) is None


def test_openapi_schema_documents_the_api(as_user):
    schema = as_user(None).get("/schema/openapi.json").json()
    assert "/api/v1/projects/{key}" in schema["paths"]
    assert "BearerToken" in schema["components"]["securitySchemes"]
    assert not any(p.startswith("/projects") for p in schema["paths"])  # pages stay out of the API schema
