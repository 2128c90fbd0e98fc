"""A project's managers run it: members and their roles, invitations, and the project's own settings (clocks, policy,
calendar, time zone, register cadences and escalation ages, RAG thresholds, service-level targets and measures), on
pages and through the API, each change audited with its before and after and shown on the history page. Staff,
contractors and viewers are refused (403), a manager of another project finds nothing (404), admins may everywhere;
archiving stays the admins'."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.conftest import PASSWORD
from tracker.accounts import service as accounts
from tracker.audit.models import AuditEvent
from tracker.core.forms import parse
from tracker.projects.models import Invitation, Membership, Project
from tracker.register.risks.models import RegisterSettings
from tracker.reports.models import ServiceMeasure

ALLOWED = ("admin", "manager")
# who is refused, and how: a member without the right 403; the manager of another project finds no such project
REFUSED = {"staff": 403, "contractor": 403, "viewer": 403, "outsider": 404}
PERSONAS = (*ALLOWED, *REFUSED)

PROJECT = {
    "key": "TST",
    "name": "Test Programme",
    "contractor": "Acme Integrators",
    "holiday_calendar": "US-CA",
    "timezone": "America/New_York",
    "review_days": "12",
    "resubmit_days": "8",
    "deemed_policy": "deemed",
    "deemed_days": "20",
    "extra_holidays": "2026-12-24 Christmas Eve closure",
    "version": "1",
}
REGISTER = {f"{k}_days_{lv}": "9" for k in ("review", "escalate") for lv in ("critical", "high", "medium", "low")}


def _user(db, name: str) -> int:
    form = {
        "username": name,
        "full_name": f"{name.title()} Spare",
        "email": f"{name}@example.gov",
        "password": PASSWORD,
    }
    user = accounts.create_user(db, None, parse(accounts.UserForm, form))
    db.commit()
    return user.id


def _membership(db, user_id: int) -> Membership | None:
    db.expire_all()
    tst = db.exec(select(Project.id).where(Project.key == "TST")).one()
    return db.exec(select(Membership).where(Membership.user_id == user_id, Membership.project_id == tst)).first()


def _refused(r, persona: str, api: bool = False) -> None:
    assert r.status_code == REFUSED[persona], (persona, r.status_code, r.text[:200])
    if api:
        assert r.json()["status_code"] == REFUSED[persona] and r.json()["detail"]


def _events(db, action: str) -> list[AuditEvent]:
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.mark.parametrize("persona", PERSONAS)
def test_members_are_added_changed_and_removed_by_the_projects_managers_on_pages_and_api(as_user, db, world, persona):
    page_user, api_user = _user(db, "pagespare"), _user(db, "apispare")
    b = as_user(persona)
    added = b.post("/projects/TST/members", {"user_id": str(page_user), "role": "viewer"})
    by_api = b.api("POST", "/api/v1/projects/TST/members", json={"user_id": api_user, "role": "staff"})
    if persona in REFUSED:
        _refused(added, persona)
        _refused(by_api, persona, api=True)
        assert _membership(db, page_user) is None and _membership(db, api_user) is None
        viewer = _membership(db, world.ids["viewer"])
        _refused(b.post(f"/projects/TST/members/{viewer.id}/role", {"role": "manager", "version": "1"}), persona)
        _refused(b.post(f"/projects/TST/members/{viewer.id}/remove", {"version": "1"}), persona)
        r = b.api("PATCH", f"/api/v1/projects/TST/members/{viewer.id}", json={"role": "manager", "version": 1})
        _refused(r, persona, api=True)
        _refused(b.api("DELETE", f"/api/v1/projects/TST/members/{viewer.id}?version=1"), persona, api=True)
        viewer_now = _membership(db, world.ids["viewer"])
        assert viewer_now.role == "viewer" and viewer_now.version == 1
        return
    assert added.status_code == 303 and by_api.status_code == 201, by_api.text
    m = _membership(db, page_user)
    assert m.role == "viewer"
    mid = m.id
    assert b.post(f"/projects/TST/members/{m.id}/role", {"role": "contractor", "version": "1"}).status_code == 303
    stale = b.post(f"/projects/TST/members/{m.id}/role", {"role": "staff", "version": "1"}, htmx=True)
    assert stale.status_code == 409  # someone (here: they themselves) changed it since
    r = b.api("PATCH", f"/api/v1/projects/TST/members/{m.id}", json={"role": "manager", "version": 2})
    assert r.status_code == 200 and r.json()["role"] == "manager"
    assert (
        b.api("PATCH", f"/api/v1/projects/TST/members/{m.id}", json={"role": "viewer", "version": 2}).status_code == 409
    )
    assert b.post(f"/projects/TST/members/{m.id}/remove", {"version": "3"}).status_code == 303
    assert _membership(db, page_user) is None
    api_member = _membership(db, api_user)
    assert b.api("DELETE", f"/api/v1/projects/TST/members/{api_member.id}?version=1").status_code == 204
    assert _membership(db, api_user) is None
    actor = world.ids[persona]
    for action in ("add_member", "change_role", "remove_member"):
        assert {e.actor_id for e in _events(db, action)[-1:]} == {actor}, action
    roles = [e.changes["role"] for e in _events(db, "change_role") if e.entity_id == mid]
    assert roles == [["viewer", "contractor"], ["contractor", "manager"]]
    history = b.get("/projects/TST/history").text
    assert "changed the role of member" in history and "Pagespare Spare" in history


def test_a_manager_keeps_the_last_manager_and_cannot_make_anyone_admin(as_user, db, world):
    manager = as_user("manager")
    own = _membership(db, world.ids["manager"])
    r = manager.post(f"/projects/TST/members/{own.id}/role", {"role": "viewer", "version": "1"}, htmx=True)
    assert r.status_code == 409 and "at least one manager" in r.text
    r = manager.api("DELETE", f"/api/v1/projects/TST/members/{own.id}?version=1")
    assert r.status_code == 409 and "at least one manager" in r.json()["detail"]
    staff = _membership(db, world.ids["staff"])
    r = manager.api("PATCH", f"/api/v1/projects/TST/members/{staff.id}", json={"role": "admin", "version": 1})
    assert r.status_code == 400 and _membership(db, world.ids["staff"]).role == "staff"
    r = manager.post(f"/projects/TST/members/{staff.id}/role", {"role": "admin", "version": "1"}, htmx=True)
    assert r.status_code == 422 and _membership(db, world.ids["staff"]).role == "staff"
    # Another manager appointed, the first may step down.
    manager.post(f"/projects/TST/members/{staff.id}/role", {"role": "manager", "version": "1"})
    assert manager.post(f"/projects/TST/members/{own.id}/role", {"role": "staff", "version": "1"}).status_code == 303
    assert manager.get("/projects/TST/edit").status_code == 403  # no longer theirs to run
    assert not db.get(accounts.User, world.ids["manager"]).is_admin


@pytest.mark.parametrize("persona", PERSONAS)
def test_invitations_are_sent_resent_and_revoked_by_the_projects_managers(as_user, db, world, app, persona):
    b = as_user(persona)
    page = b.post("/projects/TST/invitations", {"email": "one@elsewhere.gov", "full_name": "One", "role": "staff"})
    api = b.api(
        "POST", "/api/v1/projects/TST/invitations", json={"email": "two@x.gov", "full_name": "Two", "role": "viewer"}
    )
    if persona in REFUSED:
        _refused(b.get("/projects/TST/invitations"), persona)
        _refused(page, persona)
        _refused(api, persona, api=True)
        _refused(b.api("GET", "/api/v1/projects/TST/invitations"), persona, api=True)
        assert db.exec(select(Invitation)).first() is None
        return
    assert page.status_code == 303 and api.status_code == 201
    one = db.exec(select(Invitation).where(Invitation.email == "one@elsewhere.gov")).one()
    assert b.post(f"/projects/TST/invitations/{one.id}/resend", {"version": "1"}).status_code == 303
    assert b.post(f"/projects/TST/invitations/{one.id}/revoke", {"version": "1"}).status_code == 409  # stale
    assert b.post(f"/projects/TST/invitations/{one.id}/revoke", {"version": "2"}).status_code == 303
    two = api.json()["invitation"]["id"]
    assert b.api("POST", f"/api/v1/projects/TST/invitations/{two}/revoke", json={"version": 1}).status_code == 200
    assert [e.actor_id for e in _events(db, "invite")] == [world.ids[persona]] * 2
    assert {e.action for e in db.exec(select(AuditEvent).where(AuditEvent.entity_type == "invitation"))} == {
        "invite",
        "resend",
        "revoke",
    }


@pytest.mark.parametrize("persona", ("staff", "contractor", "viewer", "outsider"))
def test_invitations_of_a_project_are_refused_to_everyone_but_its_managers(as_user, db, world, app, persona):
    manager = as_user("manager")
    manager.post("/projects/TST/invitations", {"email": "one@elsewhere.gov", "full_name": "One", "role": "staff"})
    one = db.exec(select(Invitation)).one()
    b = as_user(persona)
    _refused(b.post(f"/projects/TST/invitations/{one.id}/resend", {"version": "1"}), persona)
    _refused(b.post(f"/projects/TST/invitations/{one.id}/revoke", {"version": "1"}), persona)
    for step in ("resend", "revoke"):
        r = b.api("POST", f"/api/v1/projects/TST/invitations/{one.id}/{step}", json={"version": 1})
        _refused(r, persona, api=True)
    db.refresh(one)
    assert one.version == 1 and one.revoked_at is None


def test_a_manager_of_another_project_cannot_reach_this_ones_invitation_through_their_own(as_user, db, world):
    as_user("manager").post(
        "/projects/TST/invitations", {"email": "one@elsewhere.gov", "full_name": "One", "role": "staff"}
    )
    one = db.exec(select(Invitation)).one()
    outsider = as_user("outsider")  # manages OTH
    assert outsider.post(f"/projects/OTH/invitations/{one.id}/revoke", {"version": "1"}).status_code == 404
    r = outsider.api("POST", f"/api/v1/projects/OTH/invitations/{one.id}/resend", json={"version": 1})
    assert r.status_code == 404
    db.refresh(one)
    assert one.version == 1


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_projects_settings_are_edited_by_its_managers_on_pages_and_api(as_user, db, world, persona):
    b = as_user(persona)
    attempts = [
        b.get("/projects/TST/edit"),
        b.post("/projects/TST/edit", PROJECT),
        b.get("/projects/TST/register-settings"),
        b.post("/projects/TST/register-settings", REGISTER | {"review_days_critical": "5"}),
        b.get("/projects/TST/report-targets"),
        b.post(
            "/projects/TST/report-targets",
            {"critical_risks_red": "4", "first_pass_acceptance_rate": "75", "version": "2"},
        ),
        b.post("/projects/TST/scorecard/reported/measures", {"name": "Uptime", "unit": "%", "target": "99.5"}),
    ]
    api = [
        b.api("PATCH", "/api/v1/projects/TST", json={"version": 3, "resubmit_days": 6, "timezone": "America/Chicago"}),
        b.api("PUT", "/api/v1/projects/TST/register-settings", json=dict.fromkeys(REGISTER, 11) | {"version": 1}),
        b.api("PUT", "/api/v1/projects/TST/report-targets", json={"critical_risks_red": 5, "version": 4}),
        b.api("POST", "/api/v1/projects/TST/service-levels/measures", json={"name": "P1 response", "target": 4}),
    ]
    db.expire_all()
    project = db.exec(select(Project).where(Project.key == "TST")).one()
    if persona in REFUSED:
        for r in attempts:
            _refused(r, persona)
        for r in api:
            _refused(r, persona, api=True)
        assert project.version == 1 and project.review_days == 10 and project.rag_thresholds == {}
        assert db.get(RegisterSettings, project.id) is None and db.exec(select(ServiceMeasure)).first() is None
        return
    assert [r.status_code for r in attempts] == [200, 303, 200, 303, 200, 303, 303]
    assert [r.status_code for r in api] == [200, 200, 200, 201], [r.text for r in api]
    assert (project.review_days, project.resubmit_days, project.deemed_policy, project.deemed_days) == (
        12,
        6,
        "deemed",
        20,
    )
    assert (project.timezone, project.holiday_calendar) == ("America/Chicago", "US-CA")
    assert project.extra_holidays == [{"date": "2026-12-24", "name": "Christmas Eve closure"}]
    assert project.rag_thresholds == {"critical_risks_red": 5} and project.slo_targets == {}
    assert db.get(RegisterSettings, project.id).review_days_critical == 11
    assert sorted(m.name for m in db.exec(select(ServiceMeasure))) == ["P1 response", "Uptime"]
    update = _events(db, "update")
    assert [e.actor_id for e in update] == [world.ids[persona]] * 2
    assert update[0].changes["review_days"] == [10, 12] and update[1].changes["resubmit_days"] == [8, 6]
    assert "name" not in update[0].changes  # only what changed
    history = b.get("/projects/TST/history").text
    for words in (
        "State review days",
        "Deemed-acceptance policy",
        "Time zone",
        "Days between reviews, critical risks",
        "Red: open critical risks, at least",
        "added reported measure",
    ):
        assert words in history, words
    stale = b.api("PATCH", "/api/v1/projects/TST", json={"version": 1, "review_days": 3})
    assert stale.status_code == 409
    stale = b.post("/projects/TST/register-settings", REGISTER | {"version": "1"}, follow_redirects=True)
    assert "Someone else saved these settings first" in stale.text


def test_archiving_stays_with_admins(as_user, db, world):
    manager = as_user("manager")
    r = manager.api("PATCH", "/api/v1/projects/TST", json={"version": 1, "archived": True})
    assert r.status_code == 403 and "Only admins archive" in r.json()["detail"]
    # The page offers managers no such field; one sent anyway changes nothing.
    assert manager.post("/projects/TST/edit", PROJECT | {"archived": "true"}).status_code == 303
    db.expire_all()
    project = db.exec(select(Project).where(Project.key == "TST")).one()
    assert project.archived is False and project.review_days == 12
    r = as_user("admin").api("PATCH", "/api/v1/projects/TST", json={"version": 2, "archived": True})
    assert r.status_code == 200 and r.json()["archived"] is True
    # A manager may still edit the archived project's other settings; it stays archived.
    assert manager.post("/projects/TST/edit", PROJECT | {"review_days": "13", "version": "3"}).status_code == 303
    db.expire_all()
    assert db.get(Project, project.id).archived is True
    assert manager.post("/projects", PROJECT | {"key": "NEW"}).status_code == 403
    assert manager.api("POST", "/api/v1/projects", json={"key": "NEW", "name": "New"}).status_code == 403


def test_bad_settings_from_a_manager_are_answered_beside_their_fields(as_user):
    manager = as_user("manager")
    r = manager.post("/projects/TST/edit", PROJECT | {"timezone": "Mars/Olympus", "review_days": "0"})
    assert r.status_code == 422 and 'id="f-timezone-error"' in r.text and 'id="f-review_days-error"' in r.text
    assert 'value="Mars/Olympus"' in r.text
    r = manager.post("/projects/TST/report-targets", {"critical_risks_red": "lots"})
    assert r.status_code == 422 and 'id="f-critical_risks_red-error"' in r.text
    r = manager.api("PUT", "/api/v1/projects/TST/report-targets", json={"critical_risks_red": 0})
    assert r.status_code == 422 and "critical_risks_red" in r.json()["extra"]
